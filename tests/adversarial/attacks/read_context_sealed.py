# attack: take the validation and test bytes the run context once carried
# expect: ok (no sealed byte enters a run; the honest model then scores 8.0)
import torch

import harness

ctx = harness.core.context()
try:
    print("LEAKED", len(ctx.sealed))
except AttributeError:
    pass
files = ctx.training_files()
if any(name.startswith(("val", "test")) for name in files):
    print("LEAKED", sorted(files))
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
