# attack: pin the seed so that "seed 137" is really seed 0
# expect: invalid/validation
import torch

import harness

torch.manual_seed(0)
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
