# attack: keep training inside forward (torch.enable_grad) on the evaluation windows themselves
# expect: invalid/export (a graph that trains is never run by the evaluator)
import torch
import torch.nn as nn
from torch.nn import functional as F

import harness


class Sneaky(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(256, 256)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():
            logits = self.emb(idx[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, 256), idx[:, 1:].reshape(-1))
            (grad,) = torch.autograd.grad(loss, self.emb.weight)
            self.emb.weight.data -= 10.0 * grad
        return self.emb(idx)


model = Sneaky().to(harness.DEVICE)
torch.nn.init.zeros_(model.emb.weight)
harness.evaluate(model, context=64)
