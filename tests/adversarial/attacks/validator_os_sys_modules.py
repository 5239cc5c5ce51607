# attack: sys reached through os
# expect: invalid/validation
import os

import torch

import harness

os.sys.modules["harness"] = None
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
