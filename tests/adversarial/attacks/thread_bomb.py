# attack: start threads until the machine gives out (a fork bomb's cousin that passes the validator)
# expect: crashed/crash
import threading
import time

import torch

import harness

threads = []
for _ in range(20000):
    thread = threading.Thread(target=time.sleep, args=(20,), daemon=True)
    thread.start()
    threads.append(thread)
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
