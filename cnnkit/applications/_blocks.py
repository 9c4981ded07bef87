"""Small shared pieces of the zoo families: torchvision-flavoured layer factories."""

from __future__ import annotations

from typing import Any

from cnnkit.layers import BatchNormalization, Conv2D, ReLU

__all__ = ["conv", "tv_bn"]


def tv_bn(epsilon: float = 1e-5) -> BatchNormalization:
    """BatchNorm with torchvision's settings: eps 1e-5, torch momentum 0.1 = Keras momentum 0.9."""
    return BatchNormalization(epsilon=epsilon, momentum=0.9)


def conv(
    filters: int,
    kernel_size: int,
    strides: int = 1,
    padding: Any = 0,
    *,
    use_bias: bool = False,
    groups: int = 1,
    activation: str | None = None,
) -> Conv2D:
    """A Conv2D with torchvision's symmetric integer ``padding`` and no bias by default."""
    return Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding=padding,
        use_bias=use_bias,
        groups=groups,
        activation=activation,
    )


def relu(max_value: float | None = None) -> ReLU:
    """A ReLU layer (ReLU6 with ``max_value=6``)."""
    return ReLU(max_value=max_value)
