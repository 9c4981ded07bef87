"""Keras' ``preprocessing.image`` module: ``ImageDataGenerator`` and single-image helpers.

``from cnnkit.preprocessing.image import ImageDataGenerator`` replaces
``from keras.preprocessing.image import ImageDataGenerator``.
"""

from cnnkit.preprocessing._flow import NumpyArrayIterator
from cnnkit.preprocessing._flow_directory import DirectoryIterator
from cnnkit.preprocessing._generator import ImageDataGenerator
from cnnkit.preprocessing._image_io import array_to_img, img_to_array, load_img, save_img

__all__ = [
    "DirectoryIterator",
    "ImageDataGenerator",
    "NumpyArrayIterator",
    "array_to_img",
    "img_to_array",
    "load_img",
    "save_img",
]
