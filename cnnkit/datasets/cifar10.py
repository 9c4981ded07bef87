"""CIFAR-10 (Krizhevsky 2009): 50,000 + 10,000 32×32 colour images in 10 classes."""

from __future__ import annotations

import numpy as np

from cnnkit._errors import invalid_type
from cnnkit.datasets._cifar import read_cifar_tarball
from cnnkit.datasets._fetch import fetch
from cnnkit.utils import DownloadError

__all__ = ["CLASS_NAMES", "load_data"]

FILENAME = "cifar-10-python.tar.gz"
URLS = ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",)
# The digest Keras checks for this file (its md5 c58f30108f718f92721af3b95e74349a is the
# one published on the dataset page).
SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
FOLDERS = ("", "cifar-10", "cifar10")

# A real subset of CIFAR-10 (the first 1,017 images of each official batch), as
# shipped in the project's shared data folder; used only on request.
SUBSET_FILENAME = "cifar10_first1017_per_batch.npz"
SUBSET_SHA256 = "c01f90f9de8b8faa0ed792397dab774fb37ef3c3eac07df0193363f7f4f2637f"
SUBSET_FOLDERS = ("cifar-10-subset",)

CLASS_NAMES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)


def _load_subset() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    path = fetch(
        SUBSET_FILENAME,
        dataset="cifar10",
        folders=SUBSET_FOLDERS,
        urls=[],
        sha256=SUBSET_SHA256,
    )
    with np.load(path, allow_pickle=False) as f:
        x_train, x_test = f["x_train"], f["x_test"]
        y_train = f["y_train"].astype(np.uint8).reshape(-1, 1)
        y_test = f["y_test"].astype(np.uint8).reshape(-1, 1)
    return (x_train, y_train), (x_test, y_test)


def load_data(
    subset: bool = False,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load CIFAR-10 as Keras does.

    ``cifar-10-python.tar.gz`` is looked for in each ``CNNKIT_DATA`` directory
    (and its ``cifar-10/`` or ``cifar10/`` sub-folder), then in the cache
    (``.../datasets/cifar10``), and otherwise downloaded; it is verified by
    SHA-256 and its pickles are read with a restricted unpickler.

    Args:
        subset: If True, load instead the 6,102-image real subset
            ``cifar-10-subset/cifar10_first1017_per_batch.npz`` (5,085 train,
            1,017 test: the first 1,017 images of every official batch) from a
            ``CNNKIT_DATA`` directory. It is never returned unless asked for.
            Default False.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images ``(50000, 32, 32, 3)``
        and ``(10000, 32, 32, 3)``, uint8 labels ``(n, 1)`` indexing :data:`CLASS_NAMES`.
    """
    if not isinstance(subset, bool):
        raise invalid_type(
            "cifar10.load_data: `subset` must be a bool.",
            received={"subset": subset},
        )
    if subset:
        return _load_subset()
    try:
        path = fetch(FILENAME, dataset="cifar10", folders=FOLDERS, urls=URLS, sha256=SHA256)
    except DownloadError as err:
        raise DownloadError(
            f"{err} (For a quick experiment without the full file, "
            "cifar10.load_data(subset=True) loads the 6,102-image subset when a CNNKIT_DATA "
            "folder has cifar-10-subset/.)"
        ) from err
    return read_cifar_tarball(
        path,
        folder="cifar-10-batches-py",
        train=[f"data_batch_{i}" for i in range(1, 6)],
        test=["test_batch"],
        label_key="labels",
    )
