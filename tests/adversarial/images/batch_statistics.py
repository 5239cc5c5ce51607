# attack: classify each image relative to the others in its batch (transductive rows)
# expect: invalid/integrity (each row's logits must come from its own image only)
import harness
import torch
import torch.nn as nn


class Relative(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(28 * 28, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(1)
        return self.linear(flat - flat.mean(0, keepdim=True))


harness.evaluate(Relative().to(harness.DEVICE))
