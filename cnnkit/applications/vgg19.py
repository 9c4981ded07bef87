"""Keras-style module path ``cnnkit.applications.vgg19``: VGG-19 and its input helpers.

A re-export of :mod:`cnnkit.applications.vgg`, so course code written as
``from keras.applications.vgg19 import VGG19, preprocess_input, decode_predictions``
runs with only the import changed. Note that ``preprocess_input`` matches the
imported torchvision weights (RGB, ImageNet mean/std), not Keras' "caffe" mode.
"""

from cnnkit.applications.vgg import VGG19, decode_predictions, preprocess_input

__all__ = ["VGG19", "decode_predictions", "preprocess_input"]
