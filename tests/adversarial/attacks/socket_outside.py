# attack: open a socket to an outside address
# expect: invalid/validation
import socket

import torch

import harness

socket.create_connection(("93.184.216.34", 80), timeout=2).sendall(b"GET / HTTP/1.0\r\n\r\n")
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
