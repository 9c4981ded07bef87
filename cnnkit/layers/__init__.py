"""Keras-style layers; every one is a real ``torch.nn.Module``.

Layers take and return Keras-layout tensors (channels-last images), build
their weights as soon as the input shape is known, and explain themselves
(``param_formula``, ``output_size_formula``, ``macs``) for ``summary``.
Initializers, regularizers and constraints are accepted by name or object.
"""

from cnnkit.layers._activation_layers import ELU, PReLU, Softmax
from cnnkit.layers._activations import ACTIVATIONS, get_activation
from cnnkit.layers._augment import RandomFlip, RandomRotation, RandomTranslation, RandomZoom
from cnnkit.layers._augment_image import RandomContrast, RandomCrop
from cnnkit.layers._base import InputSpec, KerasTensor, Layer, Node, reset_layer_names
from cnnkit.layers._call_args import call_with_flags
from cnnkit.layers._constraints import (
    Constraint,
    MaxNorm,
    MinMaxNorm,
    NonNeg,
    UnitNorm,
    get_constraint,
)
from cnnkit.layers._conv import Conv1D, Conv2D
from cnnkit.layers._conv_transpose import Conv2DTranspose
from cnnkit.layers._core import (
    Activation,
    Dense,
    Dropout,
    LeakyReLU,
    ReLU,
    Rescaling,
    SpatialDropout2D,
)
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
from cnnkit.layers._lambda import Lambda
from cnnkit.layers._layer_norm import LayerNormalization
from cnnkit.layers._merge import Add, Concatenate, Multiply, add, concatenate, multiply
from cnnkit.layers._noise import Cropping2D, GaussianDropout, GaussianNoise
from cnnkit.layers._normalization import BatchNormalization
from cnnkit.layers._pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)
from cnnkit.layers._preprocessing import Normalization
from cnnkit.layers._regularizers import L1L2, Regularizer, get_regularizer, l1, l1_l2, l2
from cnnkit.layers._reshaping import Flatten, Reshape, ZeroPadding2D
from cnnkit.layers._resizing import Resizing, UpSampling2D

# Keras' alternative spellings of the same classes (so instances keep Keras' names).
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution2DTranspose = Conv2DTranspose
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
SeparableConvolution2D = SeparableConv2D

__all__ = [
    "ACTIVATIONS",
    "ELU",
    "L1L2",
    "Activation",
    "Add",
    "AveragePooling1D",
    "AveragePooling2D",
    "AvgPool1D",
    "AvgPool2D",
    "BatchNormalization",
    "Concatenate",
    "Constant",
    "Constraint",
    "Conv1D",
    "Conv2D",
    "Conv2DTranspose",
    "Convolution1D",
    "Convolution2D",
    "Convolution2DTranspose",
    "Cropping2D",
    "Dense",
    "DepthwiseConv2D",
    "Dropout",
    "Flatten",
    "GaussianDropout",
    "GaussianNoise",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAvgPool1D",
    "GlobalAvgPool2D",
    "GlobalMaxPool1D",
    "GlobalMaxPool2D",
    "GlobalMaxPooling1D",
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
    "Lambda",
    "Layer",
    "LayerNormalization",
    "LeakyReLU",
    "LecunNormal",
    "LecunUniform",
    "MaxNorm",
    "MaxPool1D",
    "MaxPool2D",
    "MaxPooling1D",
    "MaxPooling2D",
    "MinMaxNorm",
    "Multiply",
    "Node",
    "NonNeg",
    "Normalization",
    "Ones",
    "Orthogonal",
    "PReLU",
    "RandomContrast",
    "RandomCrop",
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
    "Resizing",
    "SeparableConv2D",
    "SeparableConvolution2D",
    "Softmax",
    "SpatialDropout2D",
    "TruncatedNormal",
    "UnitNorm",
    "UpSampling2D",
    "VarianceScaling",
    "ZeroPadding2D",
    "Zeros",
    "add",
    "call_with_flags",
    "concatenate",
    "get_activation",
    "get_constraint",
    "get_initializer",
    "get_regularizer",
    "l1",
    "l1_l2",
    "l2",
    "multiply",
    "reset_layer_names",
]
