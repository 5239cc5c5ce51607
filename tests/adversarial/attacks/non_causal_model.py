# attack: a model that looks one byte ahead (predicts x[t+1] from x[t+1])
# expect: invalid/integrity
import torch
import torch.nn as nn

import harness


class Peek(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(256, 256)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.emb(torch.roll(idx, -1, dims=1)) * 20.0


model = Peek().to(harness.DEVICE)
with torch.no_grad():
    model.emb.weight.copy_(torch.eye(256))
harness.evaluate(model, context=64)
