# attack: an endless loop that swallows SIGINT
# expect: invalid/over_budget (killed by the parent at its deadline, without escalation)
import torch

import harness

try:
    while True:
        pass
except KeyboardInterrupt:
    while True:
        pass
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
