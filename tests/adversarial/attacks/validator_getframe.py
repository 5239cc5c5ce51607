# attack: the bootstrap's frame, where a key once lived
# expect: invalid/validation
import os

import torch

import harness

frame = os.sys._getframe()
print(frame.f_back.f_locals)
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
