"""Tiny models and data shared by the training tests (plain torch and cnnkit)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class TinyNHWC(nn.Module):
    """A plain torch conv net: uint8-valued NHWC batches in, logits out."""

    def __init__(self, classes: int = 3, channels: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, 4, 3)
        self.drop = nn.Dropout(0.25)
        self.head = nn.Linear(4 * 6 * 6, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv(x.permute(0, 3, 1, 2) / 255.0))
        return self.head(self.drop(h.flatten(1)))


def blobs(n: int = 96, classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Learnable uint8 images ``(n, 8, 8, 1)``: class ``c`` lights up row block ``c``."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = rng.integers(0, 60, (n, 8, 8, 1))
    for c in range(classes):
        x[y == c, 2 * c : 2 * c + 2, :, 0] += 180
    return x.astype(np.uint8), y.astype(np.int64)


def cnnkit_mlp(classes: int = 3, activation: str = "softmax"):
    """A cnnkit Sequential on 8x8x1 images ending in ``activation``."""
    from cnnkit.layers import Dense, Flatten, Input, Rescaling
    from cnnkit.models import Sequential

    return Sequential(
        [
            Input((8, 8, 1)),
            Rescaling(1 / 255),
            Flatten(),
            Dense(16, activation="relu"),
            Dense(classes, activation=activation),
        ]
    )
