"""Classic image datasets, loaded as Keras loads them: ``mnist.load_data()`` etc.

Files are found in ``CNNKIT_DATA`` folders, then the cache (``CNNKIT_HOME`` or
the user cache), then downloaded from the official URL; each is verified by
SHA-256. CIFAR pickles are read with a restricted unpickler.
"""

from cnnkit.datasets import cifar10, cifar100, fashion_mnist, mnist
from cnnkit.datasets._canvas import (
    CanvasBatch,
    DigitCanvases,
    boxes_from_xywh,
    boxes_to_xywh,
    digit_canvases,
)

__all__ = [
    "CanvasBatch",
    "DigitCanvases",
    "boxes_from_xywh",
    "boxes_to_xywh",
    "cifar10",
    "cifar100",
    "digit_canvases",
    "fashion_mnist",
    "mnist",
]
