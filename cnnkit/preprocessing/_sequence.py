"""The Keras ``Sequence``/``Iterator`` contract shared by ``flow`` and ``flow_from_directory``.

``len()`` is the number of batches per epoch, ``seq[i]`` is batch ``i`` of the
current epoch (random access, reproducible), ``on_epoch_end()`` draws the next
epoch's order, and ``next(seq)`` loops forever as Keras' iterators do. Each
batch's random augmentation comes from a generator seeded by (seed, epoch,
batch index), so ``seq[i]`` returns the same batch however often it is asked.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np
import torch

from cnnkit._errors import invalid_value
from cnnkit.data import epoch_permutation
from cnnkit.data._arrays import check_batch_size
from cnnkit.data._order import draw_seed

__all__ = ["BatchSequence", "BatchTransform"]


class BatchTransform(Protocol):
    """What an iterator needs from its ``ImageDataGenerator``: one call per batch.

    The iterators depend on this protocol, not on the generator class, so the
    imports run one way: ``_generator`` builds iterators, iterators never import it.
    """

    validation_split: float

    def transform_batch(self, x: torch.Tensor, rng: np.random.Generator) -> np.ndarray:
        """Random transforms and normalisation of one batch ``(batch, H, W, C)``."""
        ...


class BatchSequence:
    """Base of the ``ImageDataGenerator`` iterators.

    Args:
        n: Number of samples.
        batch_size: Samples per batch; the last batch may be smaller.
        shuffle: A new order every epoch.
        seed: Base seed of orders and augmentation; None draws one from torch's
            global generator (reproducible after ``set_random_seed``).

    Subclasses implement ``_get_batch(indices, rng)``.
    """

    def __init__(self, n: int, batch_size: int, shuffle: bool, seed: int | None) -> None:
        self.n = int(n)
        self.batch_size = check_batch_size(batch_size)
        self.shuffle = bool(shuffle)
        self.seed = draw_seed() if seed is None else int(seed)
        self.epoch = 0
        self.batch_index = 0
        self.total_batches_seen = 0
        self.index_array: np.ndarray | None = None

    def __len__(self) -> int:
        """Batches per epoch: ``ceil(samples / batch_size)``."""
        return math.ceil(self.n / self.batch_size)

    def _make_index_array(self) -> np.ndarray:
        if self.shuffle:
            return epoch_permutation(self.n, self.seed, self.epoch).numpy()
        return np.arange(self.n)

    def batch_rng(self, idx: int) -> np.random.Generator:
        """The augmentation generator of batch ``idx`` of the current epoch."""
        return np.random.default_rng(np.random.SeedSequence([self.seed, self.epoch, idx]))

    def __getitem__(self, idx: int) -> Any:
        if not 0 <= idx < len(self):
            raise IndexError(
                f"Asked for batch {idx}, but this sequence has {len(self)} batches per epoch."
            )
        if self.index_array is None:
            self.index_array = self._make_index_array()
        indices = self.index_array[self.batch_size * idx : self.batch_size * (idx + 1)]
        return self._get_batch(indices, self.batch_rng(idx))

    def on_epoch_end(self) -> None:
        """Move to the next epoch: a new order when shuffling, new augmentation draws."""
        self.epoch += 1
        self.index_array = None

    def reset(self) -> None:
        """Start the next ``next()`` pass from batch 0 (Keras' ``Iterator.reset``)."""
        self.batch_index = 0

    def __iter__(self) -> BatchSequence:
        return self

    def __next__(self) -> Any:
        idx = self.batch_index
        batch = self[idx]
        self.total_batches_seen += 1
        self.batch_index += 1
        if self.batch_index >= len(self):  # loop forever, a fresh order each pass
            self.batch_index = 0
            self.on_epoch_end()
        return batch

    def next(self) -> Any:
        """Keras 2 spelling of ``next(iterator)``."""
        return self.__next__()

    def _get_batch(self, indices: np.ndarray, rng: np.random.Generator) -> Any:
        raise NotImplementedError

    @staticmethod
    def _check_not_empty(n: int, what: str) -> None:
        if n == 0:
            raise invalid_value(f"{what} has no samples.", received={"samples": 0})
