# attack: patch the torch function the evaluation relies on
# expect: invalid/validation
import torch

import harness

torch.log_softmax = lambda x, dim: x * 0
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
