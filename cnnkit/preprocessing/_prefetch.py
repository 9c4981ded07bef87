"""Decode batches of image files in a process pool, ahead of time when access is sequential.

Each batch is split across the workers, so even a batch asked for out of
order (``fit`` may permute a Sequence's batch order) is decoded in parallel.
While batches are asked for in order, the next ones are decoded ahead; the
number held at once stays bounded, so memory does not grow with the dataset.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Sequence

import numpy as np

from cnnkit.data._decode import DecodeSpec, decode_batch

__all__ = ["BatchDecoder"]

Decoded = tuple[np.ndarray, np.ndarray, list[tuple[str, str]]]


def _decode_chunk(paths: list[str], spec: DecodeSpec) -> Decoded:
    images, ok, bad = decode_batch(paths, spec)
    return images.numpy(), ok.numpy(), bad  # plain arrays pickle through the pool's pipe


class BatchDecoder:
    """A process pool that turns lists of file indices into decoded uint8 batches.

    Args:
        paths: All files of the dataset.
        spec: How to decode them.
        workers: Worker processes; 0 decodes in the calling process.
    """

    def __init__(self, paths: Sequence[str], spec: DecodeSpec, workers: int) -> None:
        self.paths, self.spec, self.workers = list(paths), spec, workers
        self._pool: cf.ProcessPoolExecutor | None = None
        self._pending: dict[bytes, list[cf.Future]] = {}

    def _submit(self, indices: np.ndarray) -> list[cf.Future]:
        if self._pool is None:
            self._pool = cf.ProcessPoolExecutor(max_workers=self.workers)
        chunks = np.array_split(indices, min(self.workers, max(len(indices), 1)))
        return [
            self._pool.submit(_decode_chunk, [self.paths[i] for i in chunk], self.spec)
            for chunk in chunks
        ]

    def get(self, indices: np.ndarray, upcoming: Sequence[np.ndarray] = ()) -> Decoded:
        """Decode the files ``indices`` (in order), starting on ``upcoming`` batches meanwhile.

        Returns:
            ``(images uint8 (n, h, w, c), ok bool (n,), bad [(path, reason)])``.
        """
        if self.workers == 0:
            return _decode_chunk([self.paths[i] for i in indices], self.spec)
        current = self._pending.pop(indices.tobytes(), None) or self._submit(indices)
        wanted = {u.tobytes(): u for u in upcoming}
        for key in list(self._pending):  # out-of-order access: stop work nobody will take
            if key not in wanted:
                for future in self._pending.pop(key):
                    future.cancel()
        for key, batch in wanted.items():
            if key not in self._pending:
                self._pending[key] = self._submit(batch)
        parts = [f.result() for f in current]
        images = np.concatenate([p[0] for p in parts])
        ok = np.concatenate([p[1] for p in parts])
        return images, ok, [b for p in parts for b in p[2]]

    def close(self) -> None:
        """Cancel pending work and stop the worker processes."""
        for futures in self._pending.values():
            for future in futures:
                future.cancel()
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
