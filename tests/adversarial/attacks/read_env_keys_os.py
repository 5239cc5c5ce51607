# attack: read API keys through os.environ
# expect: invalid/validation
import os

import torch

import harness

print(os.environ.get("ANTHROPIC_API_KEY"))
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
