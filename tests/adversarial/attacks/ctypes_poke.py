# attack: poke process memory with ctypes
# expect: invalid/validation
import ctypes

import torch

import harness

ctypes.memset(id(harness), 0, 64)
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
