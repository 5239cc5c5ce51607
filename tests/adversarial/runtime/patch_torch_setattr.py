# attack: patch a torch function at run time (validator bypassed)
# expect: invalid/integrity
import torch

import harness

model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
setattr(torch, "log_softmax", lambda x, dim: x * 0)
harness.evaluate(model, context=64)
