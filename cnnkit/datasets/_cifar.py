"""Read the CIFAR-10/100 "python version" tarballs without extracting them.

Each batch member is a pickled dict ``{b"data": uint8 (n, 3072), b"labels": [...]}``
(CIFAR-100: ``b"fine_labels"``/``b"coarse_labels"``), the 3072 values being
the red, green and blue 32×32 planes. The tarball is read in one streaming pass
and each batch is unpickled with the restricted unpickler, then written
straight into a preallocated NHWC array.
"""

from __future__ import annotations

import tarfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cnnkit._errors import invalid_value
from cnnkit.datasets._safe_pickle import restricted_loads

__all__ = ["read_cifar_tarball"]

_PIXELS = 3 * 32 * 32


def _read_members(path: Path, names: Sequence[str]) -> dict[str, bytes]:
    wanted = set(names)
    found: dict[str, bytes] = {}
    with tarfile.open(path, "r:gz") as tar:
        for info in tar:  # one sequential pass: a gzip stream cannot seek cheaply
            if info.name in wanted and info.isfile():
                member = tar.extractfile(info)
                if member is not None:
                    found[info.name] = member.read()
    missing = [n for n in names if n not in found]
    if missing:
        raise invalid_value(
            f"{path} is not a CIFAR python tarball: it lacks {', '.join(missing)}.",
            hint="Delete it so that cnnkit fetches the official file again.",
        )
    return found


def _parse_batch(data: bytes, what: str, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    batch = restricted_loads(data, what)
    key = label_key.encode()
    if not isinstance(batch, dict) or b"data" not in batch or key not in batch:
        keys = sorted(batch) if isinstance(batch, dict) else type(batch).__name__
        raise invalid_value(
            f"{what} is not a CIFAR batch: expected a dict with b'data' and {key!r}.",
            received={"keys": keys},
        )
    x, labels = batch[b"data"], np.asarray(batch[key])
    if not (isinstance(x, np.ndarray) and x.dtype == np.uint8 and x.ndim == 2):
        raise invalid_value(f"{what}: b'data' is not a 2-D uint8 array.")
    if x.shape[1] != _PIXELS or labels.shape != (x.shape[0],):
        raise invalid_value(
            f"{what}: expected data of shape (n, {_PIXELS}) and n labels.",
            received={"data_shape": x.shape, "labels_shape": labels.shape},
        )
    if labels.size and (labels.min() < 0 or labels.max() > 255):
        raise invalid_value(f"{what}: labels outside 0..255.")
    return x, labels.astype(np.uint8)


def _stack(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    n = sum(x.shape[0] for x, _ in parts)
    images = np.empty((n, 32, 32, 3), dtype=np.uint8)
    labels = np.empty((n, 1), dtype=np.uint8)
    start = 0
    for x, y in parts:
        stop = start + x.shape[0]
        # planar RGB rows -> NHWC, written in place (no intermediate concatenation)
        images[start:stop] = x.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        labels[start:stop, 0] = y
        start = stop
    return images, labels


def read_cifar_tarball(
    path: Path,
    *,
    folder: str,
    train: Sequence[str],
    test: Sequence[str],
    label_key: str,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Parse a CIFAR python tarball into Keras' arrays.

    Args:
        path: The ``.tar.gz`` file.
        folder: The folder inside the tarball, e.g. ``"cifar-10-batches-py"``.
        train: Member names of the training batches, in order.
        test: Member names of the test batches.
        label_key: ``"labels"`` (CIFAR-10), ``"fine_labels"`` or ``"coarse_labels"``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: images uint8 ``(n, 32, 32, 3)``,
        labels uint8 ``(n, 1)``.

    Raises:
        ValueError: A member is missing, malformed, or its pickle is refused.
    """
    names = [f"{folder}/{m}" for m in (*train, *test)]
    blobs = _read_members(Path(path), names)

    def load(members: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        parts = []
        for m in members:
            what = f"{m} in {Path(path).name}"
            parts.append(_parse_batch(blobs.pop(f"{folder}/{m}"), what, label_key))
        return _stack(parts)

    return load(train), load(test)
