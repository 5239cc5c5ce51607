# attack: climb from a literal to object's subclasses to reach the harness internals
# expect: invalid/validation
import torch

import harness

subclasses = ().__class__.__bases__[0].__subclasses__()
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
