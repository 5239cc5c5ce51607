# attack: none; a plain linear model trained by the rules, as the control of this folder
# expect: ok
import harness
import torch
import torch.nn as nn
from torch.nn import functional as F

model = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10)).to(harness.DEVICE)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
step = 0
while not harness.training_done():
    x, y = harness.get_batch(64)
    loss = F.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    harness.log_loss(step, loss.item())
    step += 1
harness.evaluate(model)
