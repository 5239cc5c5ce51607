# attack: patch the torch function the evaluation relies on
# expect: invalid/validation
import torch

import harness

torch.log_softmax = lambda x, dim: x * 0
harness.evaluate(None, context=2)
