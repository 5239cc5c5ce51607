# attack: replace the harness evaluation with one that returns a perfect score
# expect: invalid/validation
import torch

import harness

harness.evaluate = lambda model, context: 0.0
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
