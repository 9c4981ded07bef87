"""Opportunistic batching on the event loop: concurrent predict requests share one forward pass.

Every request awaiting a prediction joins a list; the first one schedules one
flush with ``loop.call_soon``, which runs after the other requests that were
ready in the same loop iteration, so those join the batch and a lone request
waits for nothing. 16 concurrent requests then cost one forward pass instead
of 16 (a LeNet-5 batch of 16 takes about twice as long as one image).

Why on the loop and not in a worker thread (measured, benchmarks/serve_load.py):
a thread hand-off costs a queue wake-up and a ``call_soon_threadsafe`` per
request, and the two threads fight for the GIL (the loop thread waits up to
Python's 5 ms switch interval after each C call), which was most of the p50.
A LeNet-5 batch runs in about 1 ms, so blocking the loop for it is cheaper.
When the model lock is held (a CAM or activations request is using the model
in a worker thread), the batch runs in the thread pool instead of blocking.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import numpy as np

__all__ = ["Batcher"]


class Batcher:
    """Runs ``run(batch) -> rows`` over single items awaited concurrently on one event loop.

    Args:
        run: Maps a stacked batch ``(n, ...)`` to ``n`` result rows; called with
            ``lock`` held.
        lock: Serialises ``run`` with the model's other users.
        max_batch: Most items per call. Default 64.
    """

    def __init__(
        self,
        run: Callable[[np.ndarray], np.ndarray],
        lock: threading.Lock,
        max_batch: int = 64,
    ):
        self._run = run
        self._lock = lock
        self._max_batch = max_batch
        # One waiting list per event loop: a future may only be completed on its own loop.
        self._pending: dict[asyncio.AbstractEventLoop, list] = {}

    async def __call__(self, item: np.ndarray) -> np.ndarray:
        """The result row for one item, computed in a batch with the items awaited with it."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        waiting = self._pending.setdefault(loop, [])
        waiting.append((item, done))
        if len(waiting) == 1:
            loop.call_soon(self._flush, loop)
        return await done

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        waiting = self._pending.pop(loop, [])
        for start in range(0, len(waiting), self._max_batch):
            chunk = waiting[start : start + self._max_batch]
            batch = np.stack([item for item, _ in chunk])
            if self._lock.acquire(blocking=False):
                try:
                    self._deliver(chunk, self._run, batch)
                finally:
                    self._lock.release()
            else:  # the model is busy in a worker thread: wait there, not on the loop
                task = loop.run_in_executor(None, self._locked_run, batch)
                task.add_done_callback(lambda t, chunk=chunk: self._deliver(chunk, t.result))

    def _locked_run(self, batch: np.ndarray) -> np.ndarray:
        with self._lock:
            return self._run(batch)

    @staticmethod
    def _deliver(chunk: list, rows_of: Callable, *args: np.ndarray) -> None:
        try:
            rows = rows_of(*args)
        except Exception as err:  # every waiting request gets the error, none hangs
            for _, done in chunk:
                if not done.done():
                    done.set_exception(err)
            return
        for (_, done), row in zip(chunk, rows, strict=True):
            if not done.done():  # a client that went away cancelled its future
                done.set_result(row)
