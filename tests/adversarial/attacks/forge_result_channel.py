# attack: write forged result messages into every inherited file descriptor, then report honestly
# expect: ok (the honest 8.0 bpb is recorded, never the forged 0.0)
import json
import os
from pathlib import Path

import torch

import harness

fake = json.dumps({"kind": "result", "metrics": {"val": 0.0, "test": 0.0},
                   "train_seconds": 1.0, "loss_curve": []}).encode()
fd_dir = Path("/", "proc", "self", "fd")
for entry in fd_dir.iterdir():
    try:
        with open(entry, "ab") as handle:
            handle.write(b"\n" + b"0" * 64 + b" " + fake + b"\n")
    except OSError:
        pass
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
