# attack: hide code from the validator inside a string
# expect: invalid/validation
import torch

import harness

exec("import os; os.system('id')")
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
