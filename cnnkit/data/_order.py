"""Deterministic, resumable sample orders: one permutation per (seed, epoch).

Every loader in this package derives epoch ``e``'s order from its base seed
and ``e`` alone, so an order can be recomputed after a restart without
replaying earlier epochs. With no explicit seed, the base seed is drawn once
from torch's global generator, which ``cnnkit.utils.set_random_seed`` seeds.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["draw_seed", "epoch_permutation"]


def draw_seed() -> int:
    """A base seed drawn from torch's global generator (reproducible after ``set_random_seed``)."""
    return int(torch.randint(0, 2**62, (1,)).item())


def epoch_permutation(n: int, seed: int, epoch: int) -> torch.Tensor:
    """A random permutation of ``0..n-1`` (int64) that depends only on ``seed`` and ``epoch``."""
    # SeedSequence mixes (seed, epoch) so neighbouring epochs get unrelated streams
    state = np.random.SeedSequence([int(seed) % 2**63, int(epoch)]).generate_state(1, np.uint64)
    generator = torch.Generator().manual_seed(int(state[0]) & (2**63 - 1))
    return torch.randperm(n, generator=generator)
