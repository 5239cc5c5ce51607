# attack: reach into the harness' private copy of the validation split and train on it
# expect: invalid/validation
import torch

import harness

val = harness._sealed["val"]
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
