# attack: keep training well past the budget, then report
# expect: invalid/over_budget
import time

import torch

import harness

harness.time_left()
time.sleep(harness.BUDGET_SECONDS + 3)
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
harness.evaluate(model, context=64)
