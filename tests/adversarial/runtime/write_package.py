# attack: open the harness' own source file for writing, to change future runs
# expect: crashed/crash (the package is mounted read-only)
import torch

import harness

with open(harness.__file__, "ab"):
    pass
print("PACKAGE_WRITABLE")
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
