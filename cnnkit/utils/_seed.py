"""One call that seeds every random number generator cnnkit draws from."""

from __future__ import annotations

import random

import numpy as np
import torch

from cnnkit._errors import invalid_type, invalid_value

__all__ = ["set_random_seed"]


def set_random_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and all GPUs).

    As ``keras.utils.set_random_seed``. On CPU, two runs that call it with the
    same seed before building and training a model get bit-identical weights:
    initialisers draw from torch's generator, and every data order cnnkit
    makes (``fit`` shuffling, directory datasets, ``ImageDataGenerator``) is
    derived from these generators when no explicit ``seed`` is given. GPU
    kernels can still be non-deterministic unless
    ``torch.use_deterministic_algorithms(True)`` is set as well.

    Args:
        seed: An integer in ``0 .. 2**32 - 1`` (NumPy's limit).
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise invalid_type("set_random_seed: `seed` must be an integer.", received={"seed": seed})
    if not 0 <= seed < 2**32:
        raise invalid_value(
            "set_random_seed: `seed` is out of range.",
            expected="0 <= seed < 2**32",
            received={"seed": seed},
        )
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
