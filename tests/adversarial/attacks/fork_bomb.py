# attack: classic fork bomb
# expect: invalid/validation
import os

import torch

import harness

while True:
    os.fork()
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
