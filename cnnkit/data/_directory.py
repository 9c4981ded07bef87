"""A dataset of image files decoded in worker processes, one whole batch per task.

The main process only draws the epoch's order and receives finished batches:
each worker call decodes a list of files into one uint8 NHWC tensor with
Pillow (:func:`decode_batch`) and returns it with the labels. Files that fail to
decode are dropped from their batch, and the dataset warns once with their count
and the first few paths.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from cnnkit._errors import invalid_value
from cnnkit.data._dataset_ops import DatasetOps
from cnnkit.data._decode import DecodeSpec, SkipLog, decode_batch
from cnnkit.data._order import draw_seed, epoch_permutation

__all__ = ["DirectoryDataset", "default_workers"]

_UNBATCHED_CHUNK = 32  # decode granularity when the user asks for single samples


def default_workers() -> int:
    """``min(4, CPU count)`` decoding processes."""
    return min(4, os.cpu_count() or 1)


class _EpochBatches(Sampler):
    """Yields each batch's indices; a fresh (seed, epoch) permutation per pass."""

    def __init__(self, n: int, batch_size: int, shuffle: bool, seed: int):
        self.n, self.batch_size, self.shuffle, self.seed = n, batch_size, shuffle, seed
        self.epoch = 0

    def __len__(self) -> int:
        return math.ceil(self.n / self.batch_size)

    def __iter__(self) -> Iterator[list[int]]:
        order = epoch_permutation(self.n, self.seed, self.epoch) if self.shuffle else None
        order = torch.arange(self.n) if order is None else order
        self.epoch += 1
        for start in range(0, self.n, self.batch_size):
            yield order[start : start + self.batch_size].tolist()


class _BatchSource(Dataset):
    """Runs in the workers: ``source[indices]`` -> (images, labels, ok, bad)."""

    def __init__(
        self,
        paths: list[str],
        labels: np.ndarray | None,
        spec: DecodeSpec,
        label_mode: str | None,
        num_classes: int,
    ):
        self.paths = np.asarray(paths)  # one array, not 1000s of str objects to refcount
        self.labels = None if labels is None else torch.from_numpy(labels)
        self.spec, self.label_mode, self.num_classes = spec, label_mode, num_classes

    def __len__(self) -> int:
        return len(self.paths)

    def _encode(self, y: torch.Tensor) -> torch.Tensor:
        if self.label_mode == "categorical":
            return torch.nn.functional.one_hot(y, self.num_classes).float()
        if self.label_mode == "binary":
            return y.float().unsqueeze(1)
        return y

    def labels_of(self, indices: torch.Tensor) -> torch.Tensor | None:
        return None if self.labels is None else self._encode(self.labels[indices])

    def __getitem__(self, indices: list[int]) -> tuple[Any, ...]:
        images, ok, bad = decode_batch(self.paths[indices].tolist(), self.spec)
        index = torch.as_tensor(indices, dtype=torch.int64)
        return index, images, self.labels_of(index), ok, bad


def _as_is(batch: Any) -> Any:
    return batch  # the worker already built the whole batch


class _MemoryCache:
    """Decoded uint8 images of every file, filled during one full pass."""

    def __init__(self, n: int) -> None:
        self.images: torch.Tensor | None = None
        self.filled = torch.zeros(n, dtype=torch.bool)
        self.ok = torch.zeros(n, dtype=torch.bool)

    @property
    def complete(self) -> bool:
        return bool(self.filled.all())

    def store(self, index: torch.Tensor, images: torch.Tensor, ok: torch.Tensor) -> None:
        if self.images is None:
            self.images = torch.empty((len(self.filled), *images.shape[1:]), dtype=torch.uint8)
        self.images[index] = images
        self.filled[index] = True
        self.ok[index] = ok


class DirectoryDataset(DatasetOps):
    """Batches ``(x, y)`` of images from files; made by ``image_dataset_from_directory``.

    Iterating yields, per batch, ``x`` float32 ``(batch, height, width,
    channels)`` with values 0..255 (as Keras) and ``y``: int64 ``(batch,)``
    for ``label_mode="int"``, float32 one-hot ``(batch, classes)`` for
    ``"categorical"``, float32 ``(batch, 1)`` for ``"binary"``; just ``x`` when
    there are no labels. With ``batch_size=None`` it yields single samples.
    The ``tf.data`` methods Keras tutorials chain on (``cache``, ``shuffle``,
    ``prefetch``, ``map``, ``take``) work as there.

    Attributes:
        class_names: The class of each label index (None without inferred labels).
        file_paths: The files, in the dataset's base order.
        batch_size: Samples per batch (None: unbatched).
    """

    def __init__(
        self,
        file_paths: list[str],
        labels: np.ndarray | None,
        *,
        class_names: list[str] | None,
        label_mode: str | None,
        num_classes: int,
        spec: DecodeSpec,
        batch_size: int | None,
        shuffle: bool,
        seed: int | None,
        num_workers: int,
    ) -> None:
        self.file_paths = list(file_paths)
        self.class_names = class_names
        self.batch_size = batch_size
        self.image_size = (spec.height, spec.width)
        self._source = _BatchSource(self.file_paths, labels, spec, label_mode, num_classes)
        self._has_labels = labels is not None
        chunk = batch_size or _UNBATCHED_CHUNK
        base = draw_seed() if seed is None else int(seed)
        self._sampler = _EpochBatches(len(self.file_paths), chunk, shuffle, base)
        self._num_workers = num_workers
        self._loader: DataLoader | None = None
        self._skips = SkipLog()
        self._cache: _MemoryCache | None = None

    def __len__(self) -> int:
        """Batches per epoch (samples per epoch when unbatched)."""
        return len(self.file_paths) if self.batch_size is None else len(self._sampler)

    def __repr__(self) -> str:
        h, w = self.image_size
        c = self._source.spec.channels
        classes = "no labels" if not self._has_labels else f"{len(self.class_names or [])} classes"
        return (
            f"DirectoryDataset({len(self.file_paths)} files, {classes}, "
            f"{len(self)} batches of {self.batch_size}, images {h}×{w}×{c})"
        )

    def _get_loader(self) -> DataLoader:
        if self._loader is None:
            workers = self._num_workers
            self._loader = DataLoader(
                self._source,
                batch_size=None,
                sampler=self._sampler,
                collate_fn=_as_is,
                num_workers=workers,
                persistent_workers=workers > 0,
                prefetch_factor=2 if workers > 0 else None,
            )
        return self._loader

    def _batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        cache = self._cache
        if cache is not None and cache.images is not None and cache.complete:
            yield from self._cached_batches(cache.images, cache.ok)
            return
        for index, images, labels, ok, bad in self._get_loader():
            if cache is not None:
                cache.store(index, images, ok)
            if bad:
                self._skips.add(bad)
                if not bool(ok.any()):
                    continue
                images = images[ok]
                labels = None if labels is None else labels[ok]
            yield images.to(torch.float32), labels

    def _cached_batches(
        self, images: torch.Tensor, ok: torch.Tensor
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        for indices in self._sampler:  # the epoch's order, as the workers would get it
            index = torch.as_tensor(indices, dtype=torch.int64)
            index = index[ok[index]]
            if len(index):
                yield images[index].to(torch.float32), self._source.labels_of(index)

    def cache(self, filename: str = "") -> DirectoryDataset:
        """Keep the decoded images in memory after the first full pass (as uint8).

        Later epochs gather their (re-shuffled) batches from memory instead of
        decoding files again: ``height × width × channels`` bytes per image.

        Args:
            filename: Only ``""`` (memory) is supported; ``tf.data`` file caches are not.
        """
        if filename:
            raise invalid_value(
                "cache: only the in-memory cache (filename='') is supported.",
                received={"filename": filename},
            )
        if self._cache is None:
            self._cache = _MemoryCache(len(self.file_paths))
        return self

    def shuffle(
        self, buffer_size: int, seed: int | None = None, reshuffle_each_iteration: bool = True
    ) -> DirectoryDataset:
        """Shuffle the samples every epoch (a full shuffle, whatever ``buffer_size``).

        A dataset made with ``shuffle=True`` already does; this turns it on for
        one made with ``shuffle=False``.

        Args:
            buffer_size: Accepted for ``tf.data`` compatibility.
            seed: Base seed of the orders; None keeps the dataset's.
            reshuffle_each_iteration: Only True is supported.
        """
        del buffer_size
        if not reshuffle_each_iteration:
            raise invalid_value(
                "shuffle: only reshuffle_each_iteration=True is supported.",
                received={"reshuffle_each_iteration": reshuffle_each_iteration},
            )
        self._sampler.shuffle = True
        if seed is not None:
            self._sampler.seed = int(seed)
        return self

    def __iter__(self) -> Iterator[Any]:
        try:
            for x, y in self._batches():
                if self.batch_size is not None:
                    yield (x, y) if self._has_labels else x
                elif self._has_labels:
                    yield from zip(x, y, strict=True)
                else:
                    yield from x
        finally:
            self._skips.warn_once(stacklevel=3)

    @property
    def skipped(self) -> dict[str, str]:
        """``{path: reason}`` of the files that failed to decode so far."""
        return self._skips.skipped

    def close(self) -> None:
        """Stop the worker processes now (they also stop when the dataset is deleted)."""
        self._loader = None
