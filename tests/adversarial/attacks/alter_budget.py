# attack: give itself a bigger time budget
# expect: invalid/validation
import torch

import harness

harness.BUDGET_SECONDS = 10_000
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
