"""Bad input to layers: every case raises through the error template with a clear message."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnkit.layers import (
    Add,
    AveragePooling2D,
    BatchNormalization,
    Concatenate,
    Conv2D,
    Dense,
    DepthwiseConv2D,
    Dropout,
    Flatten,
    Input,
    LeakyReLU,
    MaxPooling2D,
    Reshape,
    ZeroPadding2D,
)

CASES = [
    (
        "Reshape with two -1",
        lambda: Reshape((-1, -1)),
        ValueError,
        r"Reshape 'reshape': `target_shape` must be a tuple of positive integers with at most "
        r"one -1",
    ),
    # (id, callable, exception, match)
    (
        "wrong input rank",
        lambda: Conv2D(4, 3)(Input(shape=(28, 28))),
        ValueError,
        r"Input 0 of layer 'conv2d' \(Conv2D\).*expected rank 4 \(batch, height, width, "
        r"channels\), found rank 3.*Received: input_shape=\(None, 28, 28\)",
    ),
    (
        "channel mismatch after build",
        lambda: Conv2D(4, 3, input_shape=(8, 8, 3))(torch.zeros(1, 8, 8, 1)),
        ValueError,
        r"layer 'conv2d'.*expected axis -1 of the input to have size 3, found 1.*"
        r"input_shape=\(None, 8, 8, 1\)",
    ),
    (
        "channel mismatch in Add",
        lambda: Add()([Input(shape=(4, 4, 3)), Input(shape=(4, 4, 5))]),
        ValueError,
        r"Add 'add': input 1 has shape \(None, 4, 4, 5\) but input 0 has \(None, 4, 4, 3\).*"
        r"1×1 Conv2D",
    ),
    (
        "unknown activation with suggestion",
        lambda: Conv2D(4, 3, activation="relu7"),
        ValueError,
        r"Unknown activation 'relu7'.*Received: activation='relu7'.*Did you mean 'relu', 'relu6'",
    ),
    (
        "filters=0",
        lambda: Conv2D(0, 3),
        ValueError,
        r"Conv2D 'conv2d': `filters` must be a positive integer.*Received: filters=0",
    ),
    (
        "float filters",
        lambda: Conv2D(3.5, 3),
        TypeError,
        r"`filters` must be a positive integer.*Received: filters=3.5",
    ),
    (
        "kernel larger than input",
        lambda: Conv2D(4, 7)(Input(shape=(5, 5, 1))),
        ValueError,
        r"Conv2D 'conv2d': the kernel is larger than the \(padded\) input.*"
        r"Received: input_size=5, kernel_size=\(7, 7\).*padding=\"same\"",
    ),
    (
        "pool window larger than input",
        lambda: MaxPooling2D(4)(torch.zeros(1, 3, 3, 2)),
        ValueError,
        r"MaxPooling2D 'max_pooling2d': the kernel is larger than the \(padded\) input",
    ),
    (
        "negative strides",
        lambda: Conv2D(4, 3, strides=-1),
        ValueError,
        r"every entry of `strides` must be a positive integer.*Received: strides=-1",
    ),
    (
        "unknown padding name",
        lambda: Conv2D(4, 3, padding="smae"),
        ValueError,
        r"Unknown padding for Conv2D 'conv2d' 'smae'.*Did you mean 'same'",
    ),
    (
        "malformed explicit padding",
        lambda: MaxPooling2D(2, padding=((1, 2, 3), (0, 0))),
        ValueError,
        r"`padding` must be 'valid', 'same', a non-negative int, 2 ints, or 2 \(before, "
        r"after\) pairs",
    ),
    (
        "unknown initializer",
        lambda: Dense(4, kernel_initializer="glorot_unifrom"),
        ValueError,
        r"Unknown initializer 'glorot_unifrom'.*Did you mean 'glorot_uniform'",
    ),
    (
        "unknown regularizer",
        lambda: Dense(4, kernel_regularizer="l3"),
        ValueError,
        r"Unknown regularizer 'l3'.*Received: kernel_regularizer='l3'",
    ),
    (
        "unknown constraint",
        lambda: Dense(4, kernel_constraint="maxnorm"),
        ValueError,
        r"Unknown constraint 'maxnorm'.*Did you mean 'max_norm'",
    ),
    (
        "set_weights shape mismatch",
        lambda: Dense(4, input_shape=(3,)).set_weights([np.zeros((4, 3)), np.zeros(4)]),
        ValueError,
        r"Layer 'dense': weight 'weight' has the wrong shape. Expected shape \(3, 4\) "
        r"\(Keras layout\). Received: weight.shape=\(4, 3\)",
    ),
    (
        "set_weights wrong count",
        lambda: Dense(4, input_shape=(3,)).set_weights([np.zeros((3, 4))]),
        ValueError,
        r"set_weights got 1 arrays but the layer has 2 weights \(weight, bias\)",
    ),
    (
        "Concatenate mismatched non-concat axes",
        lambda: Concatenate()([Input(shape=(4, 4, 3)), Input(shape=(5, 4, 3))]),
        ValueError,
        r"Concatenate 'concatenate': all axes except the concatenation axis \(-1\) must "
        r"match; axis 1 differs",
    ),
    (
        "Concatenate on one tensor",
        lambda: Concatenate()(Input(shape=(4,))),
        ValueError,
        r"must be called on a list of at least 2 tensors",
    ),
    (
        "Dropout rate outside [0, 1)",
        lambda: Dropout(1.0),
        ValueError,
        r"Dropout 'dropout': `rate` must be a number in \[0, 1\).*Received: rate=1.0",
    ),
    (
        "bad data_format",
        lambda: Conv2D(4, 3, data_format="channels_middle"),
        ValueError,
        r"Unknown data_format for Conv2D 'conv2d' 'channels_middle'.*Valid choices: "
        r"'channels_first', 'channels_last'",
    ),
    (
        "Dense on unknown feature size",
        lambda: Dense(3)(Input(shape=(None,))),
        ValueError,
        r"Dense 'dense': the last axis of the input must be known.*Put a Flatten",
    ),
    (
        "BN axis out of range",
        lambda: BatchNormalization(axis=5)(Input(shape=(4, 4, 3))),
        ValueError,
        r"BatchNormalization 'batch_normalization': `axis` is out of range",
    ),
    (
        "groups not dividing filters",
        lambda: Conv2D(5, 3, groups=2),
        ValueError,
        r"`filters` must be divisible by `groups`.*Received: filters=5, groups=2",
    ),
    (
        "unexpected keyword",
        lambda: Conv2D(4, 3, kernal_size=3),
        TypeError,
        r"Conv2D: unexpected keyword argument\(s\) \[.kernal_size.\].*Did you mean .kernel_size.",
    ),
    (
        "Input without shape",
        lambda: Input(),
        ValueError,
        r"Input: `shape` is required.*Input\(shape=\(28, 28, 1\)\)",
    ),
    (
        "negative LeakyReLU slope",
        lambda: LeakyReLU(-0.1),
        ValueError,
        r"`negative_slope` must be a number >= 0",
    ),
    (
        "depth_multiplier 0",
        lambda: DepthwiseConv2D(3, depth_multiplier=0),
        ValueError,
        r"`depth_multiplier` must be a positive integer",
    ),
    (
        "pooling on rank-2 input",
        lambda: AveragePooling2D()(torch.zeros(2, 3)),
        ValueError,
        r"average_pooling2d.*expected rank 4.*found rank 2",
    ),
    (
        "ZeroPadding2D negative",
        lambda: ZeroPadding2D(-1),
        ValueError,
        r"ZeroPadding2D 'zero_padding2d': `padding` must be a non-negative int",
    ),
    (
        "string array input",
        lambda: Flatten()(np.array([["a", "b"]])),
        TypeError,
        r"Layer inputs must be numeric arrays",
    ),
]


@pytest.mark.parametrize(
    ("make", "exc", "match"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_raises_clear_error(make, exc, match):
    with pytest.raises(exc, match=match):
        make()
