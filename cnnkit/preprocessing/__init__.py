"""Keras-style preprocessing: ``cnnkit.preprocessing.image.ImageDataGenerator`` and friends."""

from cnnkit.preprocessing import image

__all__ = ["image"]
