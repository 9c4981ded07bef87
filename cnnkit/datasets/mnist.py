"""MNIST handwritten digits (LeCun, Cortes and Burges): 60,000 + 10,000 28×28 grey images."""

from __future__ import annotations

import numpy as np

from cnnkit.datasets._fetch import parse_sha256sums
from cnnkit.datasets._idx import load_idx_dataset

__all__ = ["load_data"]

URLS = (
    "https://yann.lecun.com/exdb/mnist/",  # the official page (often refuses scripted downloads)
    "https://ossci-datasets.s3.amazonaws.com/mnist/",  # torchvision's mirror
    "https://storage.googleapis.com/cvdf-datasets/mnist/",  # TensorFlow's mirror
)
# The official files' digests (`sha256sum` format); their md5 match the published ones.
SHA256 = parse_sha256sums(
    """
440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609  train-images-idx3-ubyte.gz
3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c  train-labels-idx1-ubyte.gz
8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6  t10k-images-idx3-ubyte.gz
f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6  t10k-labels-idx1-ubyte.gz
"""
)


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load MNIST as Keras does.

    The four official idx ``.gz`` files are looked for in ``<dir>/mnist/`` for
    each directory in ``CNNKIT_DATA``, then in the cache
    (``<CNNKIT_HOME or user cache>/datasets/mnist``), and otherwise downloaded.
    Each is verified by SHA-256.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes
        ``(60000, 28, 28)``, ``(60000,)``, ``(10000, 28, 28)``, ``(10000,)``;
        pixels 0..255 (0 = background), labels 0..9.
    """
    return load_idx_dataset("mnist", folders=("mnist",), urls=URLS, sha256=SHA256)
