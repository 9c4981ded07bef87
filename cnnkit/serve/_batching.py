"""Opportunistic batching: concurrent predict requests share one forward pass.

A worker thread takes every request that is waiting when it becomes free (up to
``max_batch``) and runs them as one batch, so a lone request waits for nothing
and 16 concurrent ones cost one forward pass instead of 16 (a LeNet-5 batch of
16 takes about twice as long as a single image on one CPU thread).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future

import numpy as np

__all__ = ["Batcher"]


class Batcher:
    """Runs ``run(batch) -> rows`` over concurrently submitted single items.

    Args:
        run: Maps a stacked batch ``(n, ...)`` to ``n`` result rows.
        max_batch: Most items per call. Default 64.
    """

    def __init__(self, run: Callable[[np.ndarray], np.ndarray], max_batch: int = 64):
        self._run = run
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[np.ndarray, Future]] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def __call__(self, item: np.ndarray) -> np.ndarray:
        """The result row for one item; blocks until its batch has run."""
        return self.submit(item).result()

    def submit(self, item: np.ndarray) -> Future:
        """A future of the result row for one item (``asyncio.wrap_future`` awaits it)."""
        with self._start_lock:
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._loop, name="cnnkit-batcher", daemon=True
                )
                self._worker.start()
        done: Future = Future()
        self._queue.put((item, done))
        return done

    def _loop(self) -> None:
        while True:
            waiting = [self._queue.get()]
            while len(waiting) < self._max_batch:
                try:
                    waiting.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                rows = self._run(np.stack([item for item, _ in waiting]))
            except BaseException as err:  # every waiting request gets the error, none hangs
                for _, done in waiting:
                    done.set_exception(err)
                continue
            for (_, done), row in zip(waiting, rows, strict=True):
                done.set_result(row)
