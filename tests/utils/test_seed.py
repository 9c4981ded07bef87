"""set_random_seed: every generator cnnkit draws from, and bit-identical CPU training."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from cnnkit.data import ArrayBatches
from cnnkit.utils import set_random_seed


def _draws():
    return random.random(), np.random.rand(), torch.rand(1).item()


def test_seeds_python_numpy_and_torch():
    set_random_seed(42)
    first = _draws()
    set_random_seed(42)
    assert _draws() == first
    set_random_seed(43)
    assert _draws() != first


def _train(seed: int) -> list[torch.Tensor]:
    """Build, shuffle and train a small CNN; every random draw is left to the global RNGs."""
    set_random_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Dropout(0.2),
        torch.nn.Linear(4 * 6 * 6, 3),
    )
    x = np.random.randint(0, 256, (64, 8, 8, 1)).astype(np.uint8)
    y = np.random.randint(0, 3, 64)
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    for _ in range(2):
        for xb, yb in ArrayBatches(x, y, batch_size=16, scale=1 / 255):
            loss = torch.nn.functional.cross_entropy(model(xb.permute(0, 3, 1, 2)), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return [p.detach().clone() for p in model.parameters()]


def test_same_seed_gives_bit_identical_weights():
    a, b, c = _train(7), _train(7), _train(8)
    assert all(torch.equal(p, q) for p, q in zip(a, b, strict=True))
    assert not all(torch.equal(p, q) for p, q in zip(a, c, strict=True))


@pytest.mark.parametrize(
    ("seed", "error", "pattern"),
    [
        (-1, ValueError, r"`seed` is out of range.*0 <= seed < 2\*\*32.*seed=-1"),
        (2**32, ValueError, r"`seed` is out of range"),
        (1.5, TypeError, r"`seed` must be an integer.*seed=1.5"),
        (True, TypeError, r"`seed` must be an integer"),
    ],
)
def test_bad_seed(seed, error, pattern):
    with pytest.raises(error, match=pattern):
        set_random_seed(seed)
