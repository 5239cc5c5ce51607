# attack: finish the run through the harness core with a made-up score
# expect: ok (a run holds no way to report a metric; the honest model then scores 8.0)
import torch

import harness
from harness import core

try:
    core.finish({"val": 0.42, "test": 0.42})
    print("FORGED through core.finish")
except Exception as exc:
    print("no finish:", type(exc).__name__)
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
