# attack: spawn a daemon that outlives the run
# expect: invalid/validation
import os

import torch

import harness

if os.fork() == 0:
    os.setsid()
    os.execv("/bin/sleep", ["sleep", "600"])
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
