# attack: flood standard output
# expect: crashed/crash (the output cap kills the run)
import sys

import torch

import harness

line = "spam " * 2000 + "\n"
for _ in range(20000):
    sys.stdout.write(line)
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
