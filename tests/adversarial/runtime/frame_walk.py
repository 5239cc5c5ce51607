# attack: walk up the call stack looking for a signing key or sealed data (validator bypassed)
# expect: ok (no frame of a run holds either; the honest model then scores 8.0)
import sys

import torch

import harness

frame = sys._getframe()
while frame is not None:
    for name, value in list(frame.f_locals.items()):
        if name in ("key", "sealed") or (isinstance(value, dict) and ("key" in value or "sealed_fd" in value)):
            print("LEAKED", name)
    frame = frame.f_back
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
