# attack: read the process environment for API keys
# expect: ok (no key is in the environment to find)
from pathlib import Path

import torch

import harness

environ = Path("/", "proc", "self", "environ").read_bytes().split(b"\0")
keys = [e.split(b"=")[0].decode() for e in environ if b"KEY" in e or b"TOKEN" in e]
print("ENV_KEYS_FOUND", keys, [e.decode()[:60] for e in environ if b"sk-" in e])
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
