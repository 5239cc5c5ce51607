# attack: patch the torch function the metric once relied on (validator bypassed)
# expect: ok (the metric is computed in the evaluator, which this process cannot touch)
import torch

import harness

setattr(torch, "log_softmax", lambda x, dim: x * 0)
setattr(torch, "gather", lambda *a, **k: 0)
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
