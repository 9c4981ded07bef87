"""The event-loop batcher: concurrent awaits share one call, a busy model never blocks the loop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

from cnnkit.serve._batching import Batcher


def _recording() -> tuple[list[int], Callable[[np.ndarray], np.ndarray]]:
    sizes: list[int] = []

    def run(batch: np.ndarray) -> np.ndarray:
        sizes.append(len(batch))
        return batch * 2

    return sizes, run


def test_requests_awaited_together_share_one_call_and_get_their_own_rows():
    sizes, run = _recording()
    batcher = Batcher(run, threading.Lock(), max_batch=10)

    async def main() -> list[np.ndarray]:
        return await asyncio.gather(*(batcher(np.full(3, i)) for i in range(16)))

    rows = asyncio.run(main())
    assert sizes == [10, 6]  # 16 at once, at most 10 per call
    assert [int(r[0]) for r in rows] == [2 * i for i in range(16)]


def test_a_lone_request_waits_for_nothing():
    sizes, run = _recording()
    batcher = Batcher(run, threading.Lock())

    async def main() -> None:
        for i in range(3):
            assert int((await batcher(np.full(2, i)))[0]) == 2 * i

    asyncio.run(main())
    assert sizes == [1, 1, 1]


def test_while_the_model_is_busy_the_loop_keeps_serving():
    lock = threading.Lock()
    sizes, run = _recording()
    batcher = Batcher(run, lock)
    lock.acquire()  # a CAM request holds the model in a worker thread
    threading.Timer(0.3, lock.release).start()

    async def main() -> tuple[np.ndarray, int]:
        pending = asyncio.ensure_future(batcher(np.ones(2)))
        ticks = 0
        while not pending.done():  # the loop is not blocked: it keeps ticking
            ticks += 1
            await asyncio.sleep(0.01)
        return pending.result(), ticks

    start = time.perf_counter()
    row, ticks = asyncio.run(main())
    assert row.tolist() == [2.0, 2.0] and sizes == [1]
    assert ticks >= 10 and time.perf_counter() - start >= 0.25


def test_an_error_reaches_every_request_of_the_batch():
    def run(batch: np.ndarray) -> np.ndarray:
        raise ValueError("bad batch")

    batcher = Batcher(run, threading.Lock())

    async def main() -> list:
        return await asyncio.gather(
            *(batcher(np.ones(1)) for _ in range(4)), return_exceptions=True
        )

    errors = asyncio.run(main())
    assert len(errors) == 4 and all(isinstance(e, ValueError) for e in errors)
    with pytest.raises(ValueError, match="bad batch"):
        raise errors[0]
