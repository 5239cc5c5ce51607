# attack: os.spawnve, missed by an earlier validator
# expect: invalid/validation
import os

import torch

import harness

os.spawnve(os.P_WAIT, "/bin/sh", ["sh", "-c", "true"], {})
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
