# attack: allocate 50 GB
# expect: oom/oom
import torch

import harness

hog = torch.ones(50 * 1024**3, dtype=torch.uint8)
harness.evaluate(None, context=2)
