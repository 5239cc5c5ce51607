# attack: swap the harness module in sys.modules for a fake one
# expect: invalid/validation
import sys
import types

import torch

import harness

fake = types.ModuleType("harness")
fake.evaluate = lambda model, context: 0.0
sys.modules["harness"] = fake
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
