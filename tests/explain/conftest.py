"""Tiny models shared by the explain tests: a cnnkit Sequential CNN and its plain-torch twin."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cnnkit.layers import Conv2D, Dense, GlobalAveragePooling2D, Input, MaxPooling2D
from cnnkit.models import Sequential


def small_cnn(classes: int = 4, channels: int = 1, size: int = 16) -> Sequential:
    """Conv(8) -> pool -> Conv(12) -> GAP -> Dense(softmax): channels-last, 16x16 input."""
    return Sequential(
        [
            Input((size, size, channels)),
            Conv2D(8, 3, activation="relu"),
            MaxPooling2D(),
            Conv2D(12, 3, activation="relu"),
            GlobalAveragePooling2D(),
            Dense(classes, activation="softmax"),
        ]
    )


class _GAP(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3))


def torch_twin(model: Sequential) -> nn.Sequential:
    """The same network in plain torch (channels-first, logits out), with copied weights."""
    c1, c2, dense = (m for m in model.modules() if isinstance(m, (Conv2D, Dense)))
    twin = nn.Sequential(
        nn.Conv2d(c1.weight.shape[1], 8, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 12, 3),
        nn.ReLU(),
        _GAP(),
        nn.Linear(12, dense.weight.shape[0]),
    )
    with torch.no_grad():
        for mine, theirs in ((c1, twin[0]), (c2, twin[3]), (dense, twin[6])):
            theirs.weight.copy_(mine.weight)
            theirs.bias.copy_(mine.bias)
    return twin.eval()


def blob_images(n: int, seed: int, size: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Noise images with one bright 4x4 blob; the label is the blob's quadrant."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 0.2, (n, size, size, 1)).astype(np.float32)
    y = rng.integers(0, 4, n)
    half = size // 2
    for i, label in enumerate(y):
        top = (label // 2) * half + rng.integers(0, half - 4)
        left = (label % 2) * half + rng.integers(0, half - 4)
        x[i, top : top + 4, left : left + 4, 0] = 1.0
    return x, y


def train(model: nn.Module, x: np.ndarray, y: np.ndarray, epochs: int, lr: float = 1e-2) -> None:
    """A plain Adam loop on a probability-output model (cheaper here than ``fit``)."""
    images, labels = torch.as_tensor(x), torch.as_tensor(y)
    model(images[:1])
    opt = torch.optim.Adam(model.parameters(), lr)
    for _ in range(epochs):
        for start in range(0, len(images), 32):
            probs = model(images[start : start + 32], training=True)
            loss = nn.functional.nll_loss(probs.clamp_min(1e-7).log(), labels[start : start + 32])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    for p in model.parameters():
        p.grad = None


@pytest.fixture(scope="session")
def trained_cnn() -> Sequential:
    """The small CNN trained on blob quadrants; test accuracy is checked to be >= 90%."""
    torch.manual_seed(0)
    model = small_cnn()
    x, y = blob_images(256, seed=0)
    train(model, x, y, epochs=5)
    xt, yt = blob_images(128, seed=1)
    with torch.no_grad():
        accuracy = (model(torch.as_tensor(xt)).argmax(1).numpy() == yt).mean()
    assert accuracy >= 0.9, f"the fixture model did not learn (accuracy {accuracy:.2f})"
    return model.eval()
