# attack: ignore training_done(), train 4x the budget on cached data, log the loss once at the end
# expect: invalid/over_budget (the parent's clock kills the run at budget + slack)
import time

import torch
from torch.nn import functional as F

import harness

data = harness.train_bytes()
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
end = time.monotonic() + 4 * harness.BUDGET_SECONDS + 4
step = 0
while time.monotonic() < end:
    starts = torch.randint(0, len(data) - 65, (16,))
    windows = data[starts[:, None] + torch.arange(65)].long()
    loss = F.cross_entropy(model(windows[:, :-1]).reshape(-1, 256), windows[:, 1:].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    step += 1
harness.log_loss(step, loss.item())
harness.evaluate(model, context=64)
