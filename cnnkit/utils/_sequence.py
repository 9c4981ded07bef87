"""Keras' ``keras.utils.Sequence`` and ``keras.utils.PyDataset`` base classes.

Course code subclasses them to feed ``fit`` batch by batch: ``__len__`` is
the number of batches, ``__getitem__(i)`` returns batch ``i`` as ``x``,
``(x, y)`` or ``(x, y, sample_weight)``, and ``on_epoch_end`` runs after
every pass (reshuffle, redraw augmentations). ``fit`` accepts any object
with ``__len__`` and ``__getitem__``; these classes exist so that
``class Data(keras.utils.Sequence)`` runs with only its import changed.

Keras 3's ``PyDataset.__init__(workers, use_multiprocessing, max_queue_size)``
arguments are accepted and kept as attributes. cnnkit reads the batches in
the training process, in order (the batches are small next to a step, and
one reader keeps every run reproducible), so they do not start workers.
"""

from __future__ import annotations

from typing import Any

from cnnkit._errors import invalid_type, invalid_value

__all__ = ["PyDataset", "Sequence"]


class PyDataset:
    """Base class for a dataset read batch by batch (Keras 3's ``PyDataset``).

    Args:
        workers: Keras' reader-thread count; kept, not used (see the module notes).
            Default 1.
        use_multiprocessing: Keras' process-reader switch; kept, not used. Default False.
        max_queue_size: Keras' prefetch depth; kept, not used. Default 10.
    """

    def __init__(
        self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10
    ) -> None:
        for name, value in (("workers", workers), ("max_queue_size", max_queue_size)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise invalid_type(
                    f"PyDataset: `{name}` must be an int.",
                    received={name: type(value).__name__},
                )
            if value < 1:
                raise invalid_value(
                    f"PyDataset: `{name}` must be at least 1.", received={name: value}
                )
        self._workers = workers
        self._use_multiprocessing = bool(use_multiprocessing)
        self._max_queue_size = max_queue_size

    @property
    def workers(self) -> int:
        return self.__dict__.get("_workers", 1)

    @property
    def use_multiprocessing(self) -> bool:
        return self.__dict__.get("_use_multiprocessing", False)

    @property
    def max_queue_size(self) -> int:
        return self.__dict__.get("_max_queue_size", 10)

    def __getitem__(self, index: int) -> Any:
        """Batch ``index`` (``0 <= index < len(self)``); subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(self, index).")

    def __len__(self) -> int:
        """The number of batches in one pass; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} must define __len__(self).")

    @property
    def num_batches(self) -> int:
        """Keras 3's name for ``len(self)``."""
        return len(self)

    def on_epoch_end(self) -> None:
        """Called after every pass over the batches; override to reshuffle or redraw."""


#: Keras 2's name, still in Keras 3 as an alias.
Sequence = PyDataset
