# attack: be causal when checked one window at a time, look ahead in real batches
# expect: invalid/integrity (causality is checked at the real batch shape)
import torch
import torch.nn as nn

import harness


class Peek(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(256, 256)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        if idx.shape[0] == 1:
            return self.emb(idx)
        return self.emb(torch.roll(idx, -1, dims=1)) * 20.0


model = Peek().to(harness.DEVICE)
with torch.no_grad():
    model.emb.weight.copy_(torch.eye(256))
harness.evaluate(model, context=64)
