"""Classic image datasets, loaded as Keras loads them: ``mnist.load_data()`` etc.

Files are found in ``CNNKIT_DATA`` folders, then the cache (``CNNKIT_HOME`` or
the user cache), then downloaded from the official URL; each is verified by
SHA-256. CIFAR pickles are read with a restricted unpickler.
"""

from cnnkit.datasets import cifar10, cifar100, fashion_mnist, mnist

__all__ = ["cifar10", "cifar100", "fashion_mnist", "mnist"]
