# attack: kill the framework's process
# expect: invalid/validation
import os
import signal

import torch

import harness

os.kill(os.getppid(), signal.SIGKILL)
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
