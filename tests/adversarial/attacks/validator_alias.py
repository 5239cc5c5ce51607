# attack: an alias of os
# expect: invalid/validation
import os

import torch

import harness

o = os
o.system("true")
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
