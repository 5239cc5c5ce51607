# attack: replace the process with a shell
# expect: invalid/validation
import os

import torch

import harness

os.execv("/bin/sh", ["sh", "-c", "echo val_bpb: 0.0"])
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
