# attack: allocate 50 GB
# expect: oom/oom
import torch

import harness

hog = torch.ones(50 * 1024**3, dtype=torch.uint8)
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
