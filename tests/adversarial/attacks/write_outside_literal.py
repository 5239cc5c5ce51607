# attack: write to an absolute path named literally
# expect: invalid/validation
import torch

import harness

open("/etc/autoresearch-pwned", "w").write("x")
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
