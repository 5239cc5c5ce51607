"""Baseline for the shakespeare task: a small byte-level GPT trained for a fixed time budget.

Knobs are the UPPER_CASE constants below; the comment after each tells the offline search its
range (`log`, `float`, `int` or `choice`) and its category.
"""

import math

import harness
import torch
import torch.nn as nn
from torch.nn import functional as F

# Model
N_LAYER = 3  # search: int 1..6 [architectural]
N_EMBD = 64  # search: choice 32,48,64,96,128 [architectural]
N_HEAD = 4  # search: choice 1,2,4,8 [architectural]
BLOCK_SIZE = 128  # search: choice 32,64,128,256 [architectural]
DROPOUT = 0.0  # search: float 0.0..0.3 [regularization]

# Optimisation
BATCH_SIZE = 32  # search: choice 8,16,32,64,128 [hyperparameter]
LEARNING_RATE = 3e-3  # search: log 3e-4..3e-2 [optimizer]
WEIGHT_DECAY = 0.1  # search: log 1e-3..0.3 [regularization]
BETA2 = 0.99  # search: float 0.9..0.999 [optimizer]
WARMUP_STEPS = 20  # search: int 0..200 [optimizer]
MIN_LR_FRACTION = 0.1  # search: float 0.0..0.5 [optimizer]
GRAD_CLIP = 1.0  # search: float 0.1..5.0 [optimizer]


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(N_EMBD)
        self.qkv = nn.Linear(N_EMBD, 3 * N_EMBD)
        self.proj = nn.Linear(N_EMBD, N_EMBD)
        self.ln2 = nn.LayerNorm(N_EMBD)
        self.mlp = nn.Sequential(
            nn.Linear(N_EMBD, 4 * N_EMBD), nn.GELU(), nn.Linear(4 * N_EMBD, N_EMBD)
        )
        self.drop = nn.Dropout(DROPOUT)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(N_EMBD, dim=2)
        q, k, v = (z.view(b, t, N_HEAD, c // N_HEAD).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(
            q, k, v, is_causal=True, dropout_p=DROPOUT if self.training else 0.0
        )
        x = x + self.drop(self.proj(y.transpose(1, 2).reshape(b, t, c)))
        return x + self.drop(self.mlp(self.ln2(x)))


class GPT(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.tok = nn.Embedding(harness.VOCAB_SIZE, N_EMBD)
        self.pos = nn.Embedding(BLOCK_SIZE, N_EMBD)
        self.blocks = nn.Sequential(*[Block() for _ in range(N_LAYER)])
        self.ln_f = nn.LayerNorm(N_EMBD)
        self.head = nn.Linear(N_EMBD, harness.VOCAB_SIZE, bias=False)
        self.head.weight = self.tok.weight  # weight tying
        self.apply(self._init)

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(idx.shape[1], device=idx.device)
        x = self.tok(idx) + self.pos(pos)
        return self.head(self.ln_f(self.blocks(x)))


def learning_rate(step: int, progress: float) -> float:
    """Linear warmup, then cosine decay over the fraction of the time budget used."""
    if step < WARMUP_STEPS:
        return LEARNING_RATE * (step + 1) / WARMUP_STEPS
    cosine = 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
    return LEARNING_RATE * (MIN_LR_FRACTION + (1 - MIN_LR_FRACTION) * cosine)


model = GPT().to(harness.DEVICE)
decay = [p for p in model.parameters() if p.dim() >= 2]
no_decay = [p for p in model.parameters() if p.dim() < 2]
optimizer = torch.optim.AdamW(
    [{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": no_decay, "weight_decay": 0.0}],
    lr=LEARNING_RATE,
    betas=(0.9, BETA2),
)

step = 0
while not harness.training_done():
    progress = 1 - harness.time_left() / harness.BUDGET_SECONDS
    for group in optimizer.param_groups:
        group["lr"] = learning_rate(step, progress)
    x, y = harness.get_batch(BATCH_SIZE, BLOCK_SIZE)
    loss = F.cross_entropy(model(x).reshape(-1, harness.VOCAB_SIZE), y.reshape(-1))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
    optimizer.step()
    harness.log_loss(step, loss.item())
    step += 1

print(f"trained {step} steps")
harness.evaluate(model, context=BLOCK_SIZE)  # hands the model over: the run ends here
