# attack: SIGKILL every other process it can see, the framework first (validator bypassed)
# expect: ok (the run's own PID namespace holds nothing else; the honest model then scores 8.0)
import os
import posix
import signal
import time

import torch

import harness

targets = [posix.getppid()] + [int(p) for p in os.listdir("/proc") if p.isdigit()]
for pid in targets:
    if pid not in (0, posix.getpid()):
        try:
            posix.kill(pid, signal.SIGKILL)
        except OSError:
            pass
time.sleep(1)
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
