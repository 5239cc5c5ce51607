# attack: take the whole training split once with train_data(), then train long past the budget
# expect: invalid/over_budget (train_data() starts the parent's clock like any data access)
import time

import harness
import torch
import torch.nn as nn
from torch.nn import functional as F

images, labels = harness.train_data()
model = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10)).to(harness.DEVICE)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
end = time.monotonic() + 4 * harness.BUDGET_SECONDS + 4
while time.monotonic() < end:
    index = torch.randint(0, len(labels), (64,))
    loss = F.cross_entropy(model(harness.normalize(images[index])), labels[index])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
harness.evaluate(model)
