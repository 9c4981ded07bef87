"""Canvases as a Keras ``Sequence`` for ``fit``: batch ``i`` is made when ``fit`` asks for it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnnkit.datasets import CanvasBatch, DigitCanvases

__all__ = ["CanvasSequence"]


class CanvasSequence:
    """``len(seq)`` batches of ``(images, targets)`` for ``model.fit`` and ``model.evaluate``.

    Nothing is built ahead: ``seq[i]`` renders ``canvases.batch(i)`` (deterministic
    for the canvases' seed) and turns it into targets, so an epoch streams the
    set. ``fit(..., shuffle=True)`` permutes the batch order each epoch.

    Args:
        canvases: The canvases, e.g. ``digit_canvases("mnist", size=64, num_objects=1)``.
        targets: ``fn(batch) -> array`` with one row per canvas (the task's target encoding).
    """

    def __init__(self, canvases: DigitCanvases, targets: Callable[[CanvasBatch], np.ndarray]):
        self.canvases, self.targets = canvases, targets

    def __len__(self) -> int:
        return len(self.canvases)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        batch = self.canvases.batch(index)
        return batch.images.astype(np.float32), self.targets(batch)
