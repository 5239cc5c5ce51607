# attack: print a fake metric line and never call the evaluation
# expect: invalid/no_result
import torch

import harness

print("val_bpb: 0.0001")
print("---\nval_bpb:          0.000100\n")
if harness.SEED < 0:
    model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
    harness.evaluate(model, context=64)
