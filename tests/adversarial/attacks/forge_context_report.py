# attack: call the reporting function a run once held, with a perfect score
# expect: ok (a run holds no way to report a metric; the honest model then scores 8.0)
import torch

import harness

try:
    harness.core.context().report({"metrics": {"val": 0.5, "test": 0.5}, "train_seconds": 0})
    print("FORGED through context().report")
except Exception as exc:
    print("no reporting function:", type(exc).__name__)
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
