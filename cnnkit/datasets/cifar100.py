"""CIFAR-100 (Krizhevsky 2009): 50,000 + 10,000 32×32 colour images; 100 fine, 20 coarse classes."""

from __future__ import annotations

import numpy as np

from cnnkit._errors import unknown_name
from cnnkit.datasets._cifar import read_cifar_tarball
from cnnkit.datasets._fetch import fetch

__all__ = ["load_data"]

FILENAME = "cifar-100-python.tar.gz"
URLS = ("https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",)
# The digest Keras checks for this file (its md5 eb9058c3a382ffc7106e4002c42a8d85 is the
# one published on the dataset page).
SHA256 = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"
FOLDERS = ("", "cifar-100", "cifar100")
_LABEL_MODES = ("fine", "coarse")


def load_data(
    label_mode: str = "fine",
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load CIFAR-100 as Keras does.

    ``cifar-100-python.tar.gz`` is looked for in each ``CNNKIT_DATA`` directory
    (and its ``cifar-100/`` or ``cifar100/`` sub-folder), then in the cache
    (``.../datasets/cifar100``), and otherwise downloaded; it is verified by
    SHA-256 and its pickles are read with a restricted unpickler.

    Args:
        label_mode: ``"fine"`` (100 classes, the default) or ``"coarse"`` (20 superclasses).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images ``(50000, 32, 32, 3)``
        and ``(10000, 32, 32, 3)``, uint8 labels ``(n, 1)``.
    """
    if label_mode not in _LABEL_MODES:
        raise unknown_name("label_mode", label_mode, _LABEL_MODES, argument="label_mode")
    path = fetch(FILENAME, dataset="cifar100", folders=FOLDERS, urls=URLS, sha256=SHA256)
    return read_cifar_tarball(
        path,
        folder="cifar-100-python",
        train=["train"],
        test=["test"],
        label_key=f"{label_mode}_labels",
    )
