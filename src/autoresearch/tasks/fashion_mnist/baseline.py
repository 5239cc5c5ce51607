"""Baseline for the fashion_mnist task: a small CNN trained for a fixed time budget.

Knobs are the UPPER_CASE constants below; the comment after each tells the offline search its
range (`log`, `float`, `int`, `choice` or `bool`) and its category.
"""

import math

import harness
import torch
import torch.nn as nn
from torch.nn import functional as F

# Model: three stages of conv-BN-ReLU blocks, each stage doubling the channels and halving
# the resolution, then global average pooling and a linear classifier.
WIDTH = 16  # search: choice 8,12,16,24,32,48 [architectural]
BLOCKS_PER_STAGE = 1  # search: int 1..3 [architectural]
DROPOUT = 0.0  # search: float 0.0..0.5 [regularization]

# Augmentation (harness helpers)
RANDOM_FLIP = False  # search: bool [regularization]
CROP_PADDING = 0  # search: int 0..3 [regularization]

# Optimisation
BATCH_SIZE = 128  # search: choice 32,64,128,256,512 [hyperparameter]
LEARNING_RATE = 2e-3  # search: log 3e-4..3e-2 [optimizer]
WEIGHT_DECAY = 5e-4  # search: log 1e-5..1e-1 [regularization]
LABEL_SMOOTHING = 0.0  # search: float 0.0..0.2 [regularization]
WARMUP_STEPS = 20  # search: int 0..200 [optimizer]


def conv_block(channels_in: int, channels_out: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(channels_in, channels_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(channels_out),
        nn.ReLU(inplace=True),
    )


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels_in = harness.IMAGE_SHAPE[0]
        for stage in range(3):
            channels_out = WIDTH * 2**stage
            for _ in range(BLOCKS_PER_STAGE):
                layers.append(conv_block(channels_in, channels_out))
                channels_in = channels_out
            if stage < 2:
                layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.drop = nn.Dropout(DROPOUT)
        self.head = nn.Linear(channels_in, harness.NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x).mean(dim=(2, 3))
        return self.head(self.drop(x))


def learning_rate(step: int, progress: float) -> float:
    """Linear warmup, then cosine decay to zero over the fraction of the time budget used."""
    if step < WARMUP_STEPS:
        return LEARNING_RATE * (step + 1) / WARMUP_STEPS
    return LEARNING_RATE * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


model = Net().to(harness.DEVICE)
optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)

step = 0
while not harness.training_done():
    progress = 1 - harness.time_left() / harness.BUDGET_SECONDS
    for group in optimizer.param_groups:
        group["lr"] = learning_rate(step, progress)
    x, y = harness.get_batch(BATCH_SIZE)
    if RANDOM_FLIP:
        x = harness.random_flip(x)
    if CROP_PADDING:
        x = harness.random_crop(x, CROP_PADDING)
    loss = F.cross_entropy(model(x), y, label_smoothing=LABEL_SMOOTHING)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    harness.log_loss(step, loss.item())
    step += 1

print(f"trained {step} steps")
harness.evaluate(model)  # hands the model over: the run ends here
