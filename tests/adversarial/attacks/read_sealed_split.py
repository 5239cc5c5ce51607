# attack: find the validation / test split files on disk and read them
# expect: ok (no data file is visible inside the sandbox; the honest model then scores 8.0)
import os

import torch

import harness

found = []
for root in ("/".join(["", "tmp"]), "/".join(["", "root", ".cache"]), "/".join(["", "work"])):
    for directory, _, files in os.walk(root):
        found += [os.path.join(directory, f) for f in files if f in ("val.bin", "test.bin")]
        if directory.count(os.sep) > 8:
            break
for path in found:
    try:
        with open(path, "rb") as handle:
            print("LEAKED", path, len(handle.read()))
    except OSError:
        pass
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
