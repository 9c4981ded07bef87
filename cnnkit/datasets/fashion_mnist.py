"""Fashion-MNIST (Xiao, Rasul and Vollgraf, Zalando 2017): 28×28 grey images, 10 clothes classes."""

from __future__ import annotations

import numpy as np

from cnnkit.datasets._fetch import parse_sha256sums
from cnnkit.datasets._idx import load_idx_dataset

__all__ = ["CLASS_NAMES", "load_data"]

URLS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",  # the authors' official host
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",  # Keras' mirror
)
# The official files' digests in `sha256sum` format; their md5 match the ones the authors publish.
SHA256 = parse_sha256sums(
    """
3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84  train-images-idx3-ubyte.gz
a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845  train-labels-idx1-ubyte.gz
346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073  t10k-images-idx3-ubyte.gz
67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5  t10k-labels-idx1-ubyte.gz
"""
)
CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load Fashion-MNIST as Keras does.

    The four official idx ``.gz`` files are looked for in ``<dir>/fashion-mnist/``
    (or ``<dir>/fashion_mnist/``) for each directory in ``CNNKIT_DATA``, then in
    the cache (``.../datasets/fashion_mnist``), and otherwise downloaded. Each
    is verified by SHA-256.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes
        ``(60000, 28, 28)``, ``(60000,)``, ``(10000, 28, 28)``, ``(10000,)``;
        labels 0..9 index :data:`CLASS_NAMES`.
    """
    return load_idx_dataset(
        "fashion_mnist", folders=("fashion-mnist", "fashion_mnist"), urls=URLS, sha256=SHA256
    )
