"""Keras-style layers; every one is a real ``torch.nn.Module``.

Layers take and return Keras-layout tensors (channels-last images), build
their weights as soon as the input shape is known, and explain themselves
(``param_formula``, ``output_size_formula``, ``macs``) for ``summary``.
Initializers, regularizers and constraints are accepted by name or object.
"""

from cnnkit.layers._activations import ACTIVATIONS, get_activation
from cnnkit.layers._augment import RandomFlip, RandomRotation, RandomTranslation, RandomZoom
from cnnkit.layers._base import InputSpec, KerasTensor, Layer, Node, reset_layer_names
from cnnkit.layers._constraints import (
    Constraint,
    MaxNorm,
    MinMaxNorm,
    NonNeg,
    UnitNorm,
    get_constraint,
)
from cnnkit.layers._conv import Conv1D, Conv2D
from cnnkit.layers._core import Activation, Dense, Dropout, LeakyReLU, ReLU, Rescaling
from cnnkit.layers._depthwise import DepthwiseConv2D, SeparableConv2D
from cnnkit.layers._initializers import (
    Constant,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    Initializer,
    LecunNormal,
    LecunUniform,
    Ones,
    Orthogonal,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    Zeros,
    get_initializer,
)
from cnnkit.layers._input import Input, InputLayer
from cnnkit.layers._merge import Add, Concatenate, add, concatenate
from cnnkit.layers._normalization import BatchNormalization
from cnnkit.layers._pooling import (
    AveragePooling2D,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    MaxPooling2D,
)
from cnnkit.layers._regularizers import L1L2, Regularizer, get_regularizer, l1, l1_l2, l2
from cnnkit.layers._reshaping import Flatten, Reshape, ZeroPadding2D

# Keras' alternative spellings of the same classes (so instances keep Keras' names).
AvgPool2D = AveragePooling2D
Convolution1D = Conv1D
Convolution2D = Conv2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D
MaxPool2D = MaxPooling2D
SeparableConvolution2D = SeparableConv2D

__all__ = [
    "ACTIVATIONS",
    "L1L2",
    "Activation",
    "Add",
    "AveragePooling2D",
    "AvgPool2D",
    "BatchNormalization",
    "Concatenate",
    "Constant",
    "Constraint",
    "Conv1D",
    "Conv2D",
    "Convolution1D",
    "Convolution2D",
    "Dense",
    "DepthwiseConv2D",
    "Dropout",
    "Flatten",
    "GlobalAveragePooling2D",
    "GlobalAvgPool2D",
    "GlobalMaxPool2D",
    "GlobalMaxPooling2D",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Initializer",
    "Input",
    "InputLayer",
    "InputSpec",
    "KerasTensor",
    "Layer",
    "LeakyReLU",
    "LecunNormal",
    "LecunUniform",
    "MaxNorm",
    "MaxPool2D",
    "MaxPooling2D",
    "MinMaxNorm",
    "Node",
    "NonNeg",
    "Ones",
    "Orthogonal",
    "RandomFlip",
    "RandomNormal",
    "RandomRotation",
    "RandomTranslation",
    "RandomUniform",
    "RandomZoom",
    "ReLU",
    "Regularizer",
    "Rescaling",
    "Reshape",
    "SeparableConv2D",
    "SeparableConvolution2D",
    "TruncatedNormal",
    "UnitNorm",
    "VarianceScaling",
    "ZeroPadding2D",
    "Zeros",
    "add",
    "concatenate",
    "get_activation",
    "get_constraint",
    "get_initializer",
    "get_regularizer",
    "l1",
    "l1_l2",
    "l2",
    "reset_layer_names",
]
