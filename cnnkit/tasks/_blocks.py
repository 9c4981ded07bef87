"""The conv block every task model is built from."""

from __future__ import annotations

from typing import Any

from cnnkit.layers import BatchNormalization, Conv2D, ReLU

__all__ = ["conv_block"]


def conv_block(
    x: Any, filters: int, size: int = 3, strides: int = 1, momentum: float = 0.99
) -> Any:
    """Conv2D (same padding, no bias) -> BatchNormalization(momentum) -> ReLU.

    ``momentum`` defaults to Keras' 0.99; the segmenters pass 0.9 (torch's default),
    see ``_segment.py``.
    """
    x = Conv2D(filters, size, strides=strides, padding="same", use_bias=False)(x)
    return ReLU()(BatchNormalization(momentum=momentum)(x))
