# attack: predict each window's last byte from the next row's first byte (with context 2, where half the bytes would come free)
# expect: invalid/integrity (rows must not see each other; batches hold no neighbouring windows)
import torch
import torch.nn as nn
from torch.nn import functional as F

import harness


class Neighbour(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(256))

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        b, t = idx.shape
        following = torch.roll(idx[:, 0], -1, dims=0)
        last = F.one_hot(following, 256).float() * 20.0
        rest = torch.zeros(b, t - 1, 256, device=idx.device)
        return torch.cat([rest, last[:, None, :]], dim=1) + self.bias


model = Neighbour().to(harness.DEVICE)
harness.evaluate(model, context=2)
