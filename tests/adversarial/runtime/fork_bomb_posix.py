# attack: a fork bomb through the posix module (validator bypassed)
# expect: crashed/crash (the cgroup's process limit stops it)
import posix
import time

import torch

import harness

forked = 0
try:
    for _ in range(3000):
        if posix.fork() == 0:
            time.sleep(5)
            posix._exit(0)
        forked += 1
except OSError as exc:
    raise RuntimeError(f"fork failed after {forked} children: {exc}") from exc
print("FORKED", forked)
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
