# attack: find the validation / test split files on disk and read them
# expect: crashed/crash (no sealed split is visible inside the sandbox)
import os

import torch

import harness

found = []
for root in ("/".join(["", "tmp"]), "/".join(["", "root", ".cache"])):
    for directory, _, files in os.walk(root):
        found += [os.path.join(directory, f) for f in files if f in ("val.bin", "test.bin")]
        if directory.count(os.sep) > 8:
            break
if not found:
    raise FileNotFoundError("no sealed split visible")
print("LEAKED", found[:2], len(open(found[0], "rb").read()))
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
