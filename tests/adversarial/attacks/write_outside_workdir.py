# attack: leave a file outside the run's work directory (in the host's /tmp)
# expect: ok (the file lands in the sandbox's private /tmp, never on the host)
import torch

import harness

with open("/".join(["", "tmp", "autoresearch-escape-marker"]), "w") as handle:
    handle.write("escaped")
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
