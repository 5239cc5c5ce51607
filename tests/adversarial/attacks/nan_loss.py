# attack: a training loss that blows up
# expect: diverged/divergence
import torch

import harness

harness.log_loss(0, 2.5)
harness.log_loss(1, float("inf"))
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
