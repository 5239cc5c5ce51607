# attack: fill the disk from the work directory
# expect: crashed/crash (the file size limit kills the run)
import torch

import harness

chunk = b"\0" * (64 * 1024 * 1024)
with open("filler.bin", "wb") as handle:
    for _ in range(64):
        handle.write(chunk)
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
