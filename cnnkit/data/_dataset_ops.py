"""The ``tf.data`` methods Keras tutorials chain onto a directory dataset.

``ds.cache().shuffle(1000).prefetch(buffer_size=AUTOTUNE)``, ``ds.map(lambda x,
y: (norm(x), y))`` and ``ds.take(1)`` keep working with only the import lines
changed. ``map`` and ``take`` return lazy wrappers that keep ``len()``,
``class_names`` and ``file_paths``; ``prefetch`` returns the dataset itself,
because its worker processes already decode batches ahead.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

from cnnkit._errors import invalid_type, invalid_value

__all__ = ["DatasetOps"]


class DatasetOps:
    """Mixin: ``map``, ``take`` and ``prefetch`` for anything iterable with ``len()``."""

    def map(self, fn: Callable[..., Any], num_parallel_calls: int | None = None) -> _Mapped:
        """Apply ``fn`` to every batch: ``fn(x, y)`` for ``(x, y)`` batches, else ``fn(x)``.

        ``num_parallel_calls`` is accepted for ``tf.data`` compatibility; ``fn``
        runs on whole batches in the main process.
        """
        del num_parallel_calls
        if not callable(fn):
            raise invalid_type("map: `fn` must be callable.", received={"fn": fn})
        return _Mapped(self, fn)

    def take(self, count: int) -> _Taken:
        """The first ``count`` batches of each pass (all of them for ``count=-1``)."""
        if isinstance(count, bool) or not isinstance(count, int) or count < -1:
            raise invalid_value(
                "take: `count` must be an integer >= -1.", received={"count": count}
            )
        return _Taken(self, count)

    def prefetch(self, buffer_size: int | None = None) -> DatasetOps:
        """Return the dataset unchanged: its workers already decode ahead of training."""
        del buffer_size
        return self


class _Wrapper(DatasetOps):
    def __init__(self, base: Any) -> None:
        self._base = base

    def __getattr__(self, name: str) -> Any:  # class_names, file_paths, batch_size, ...
        if name == "_base":
            raise AttributeError(name)
        return getattr(self._base, name)

    def __len__(self) -> int:
        return len(self._base)


class _Mapped(_Wrapper):
    def __init__(self, base: Any, fn: Callable[..., Any]) -> None:
        super().__init__(base)
        self._fn = fn

    def __iter__(self) -> Iterator[Any]:
        for item in self._base:
            yield self._fn(*item) if isinstance(item, tuple) else self._fn(item)


class _Taken(_Wrapper):
    def __init__(self, base: Any, count: int) -> None:
        super().__init__(base)
        self._count = count

    def __len__(self) -> int:
        return len(self._base) if self._count == -1 else min(self._count, len(self._base))

    def __iter__(self) -> Iterator[Any]:
        return itertools.islice(iter(self._base), len(self))
