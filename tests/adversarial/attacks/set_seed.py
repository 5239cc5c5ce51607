# attack: pin the seed so that "seed 137" is really seed 0
# expect: invalid/validation
import torch

import harness

torch.manual_seed(0)
harness.evaluate(None, context=2)
