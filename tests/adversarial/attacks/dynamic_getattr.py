# attack: reach a private harness attribute through a computed name
# expect: invalid/validation
import torch

import harness

sealed = getattr(harness, "_" + "sealed")
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
