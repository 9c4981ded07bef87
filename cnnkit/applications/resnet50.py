"""Keras-style module path ``cnnkit.applications.resnet50``: ResNet-50 and its input helpers.

A re-export of :mod:`cnnkit.applications.resnet`, so course code written as
``from keras.applications.resnet50 import ResNet50, preprocess_input, decode_predictions``
runs with only the import changed. Note that ``preprocess_input`` matches the
imported torchvision weights (RGB, ImageNet mean/std), not Keras' "caffe" mode.
"""

from cnnkit.applications.resnet import ResNet50, decode_predictions, preprocess_input

__all__ = ["ResNet50", "decode_predictions", "preprocess_input"]
