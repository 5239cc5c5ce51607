# attack: a daemon in its own session that should outlive the run (validator bypassed)
# expect: ok (the run reports; the daemon is gone right after)
import posix

import torch

import harness

if posix.fork() == 0:
    posix.setsid()
    posix.execv("/bin/sleep", ["sleep", "600.0424242"])
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
