"""Keras-style module path ``cnnkit.applications.vgg16``: VGG-16 and its input helpers.

A re-export of :mod:`cnnkit.applications.vgg`, so course code written as
``from keras.applications.vgg16 import VGG16, preprocess_input, decode_predictions``
runs with only the import changed. Note that ``preprocess_input`` matches the
imported torchvision weights (RGB, ImageNet mean/std), not Keras' "caffe" mode.
"""

from cnnkit.applications.vgg import VGG16, decode_predictions, preprocess_input

__all__ = ["VGG16", "decode_predictions", "preprocess_input"]
