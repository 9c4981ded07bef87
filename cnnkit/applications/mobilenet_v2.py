"""MobileNetV2 (Sandler et al. 2018), torchvision's layout, from a table of stages.

Each row of :data:`MOBILENET_V2_STAGES` is ``(expand, filters, repeats, strides)``
of inverted-residual blocks. Paths mirror torchvision
(``features.4.conv.1.0`` is block 4's depthwise convolution), so its state
dicts load by key. Padding is torchvision's symmetric ``(k − 1) / 2``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from cnnkit.applications._base import Stack, ZooModel
from cnnkit.applications._blocks import conv, relu, tv_bn
from cnnkit.applications._imagenet import decode_predictions
from cnnkit.applications._imagenet import preprocess_torch as preprocess_input
from cnnkit.layers import Add, DepthwiseConv2D, Dropout, GlobalAveragePooling2D

__all__ = [
    "MOBILENET_V2_STAGES",
    "InvertedResidualStage",
    "MobileNetV2",
    "decode_predictions",
    "preprocess_input",
]


@dataclass(frozen=True)
class InvertedResidualStage:
    """``repeats`` inverted-residual blocks; the first one strides and changes width."""

    expand: int
    filters: int
    repeats: int
    strides: int


MOBILENET_V2_STAGES = (
    InvertedResidualStage(1, 16, 1, 1),
    InvertedResidualStage(6, 24, 2, 2),
    InvertedResidualStage(6, 32, 3, 2),
    InvertedResidualStage(6, 64, 4, 2),
    InvertedResidualStage(6, 96, 3, 1),
    InvertedResidualStage(6, 160, 3, 2),
    InvertedResidualStage(6, 320, 1, 1),
)


def _conv_bn_relu6(filters: int, kernel: int = 3, strides: int = 1) -> Stack:
    return Stack([conv(filters, kernel, strides, (kernel - 1) // 2), tv_bn(), relu(6.0)])


class InvertedResidual(nn.Module):
    """1×1 expand (ReLU6) → 3×3 depthwise (ReLU6) → 1×1 linear projection, + identity."""

    def __init__(self, filters_in: int, filters_out: int, strides: int, expand: int):
        super().__init__()
        hidden = filters_in * expand
        layers: list[nn.Module] = [] if expand == 1 else [_conv_bn_relu6(hidden, 1)]
        depthwise = DepthwiseConv2D(3, strides=strides, padding=1, use_bias=False)
        layers += [Stack([depthwise, tv_bn(), relu(6.0)]), conv(filters_out, 1), tv_bn()]
        self.conv = Stack(layers)
        self.add = Add() if strides == 1 and filters_in == filters_out else None

    def forward(self, x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        y = self.conv(x, training=training)
        return y if self.add is None else self.add([x, y], training=training)


class MobileNetV2(ZooModel):
    """MobileNetV2 (width 1.0): 3,504,872 parameters with the 1000-class top.

    Args:
        include_top, weights, input_shape, pooling, classes, classifier_activation, name:
            As :class:`cnnkit.applications.ResNet`.
        dropout: Dropout rate before the classifier. Default 0.2.
    """

    model_name = "mobilenet_v2"
    weight_family = "mobilenet_v2"
    head_prefixes = ("classifier.",)
    classifier_path = "classifier.1"
    pre_logits_path = ("avgpool", "classifier.0")

    def __init__(
        self,
        *,
        dropout: float = 0.2,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.dropout_rate = dropout
        blocks: list[nn.Module] = [_conv_bn_relu6(32, 3, 2)]
        info, channels, reduction = [], 32, 2
        for stage in MOBILENET_V2_STAGES:
            if stage.strides == 2:  # a stage end: the last block before the next stride
                info.append(
                    {
                        "stage": f"stage{len(info) + 1}",
                        "module": f"features.{len(blocks) - 1}",
                        "channels": channels,
                        "reduction": reduction,
                    }
                )
            for i in range(stage.repeats):
                strides = stage.strides if i == 0 else 1
                blocks.append(InvertedResidual(channels, stage.filters, strides, stage.expand))
                channels = stage.filters
            reduction *= stage.strides
        blocks.append(_conv_bn_relu6(1280, 1))
        info.append(
            {
                "stage": f"stage{len(info) + 1}",
                "module": f"features.{len(blocks) - 1}",
                "channels": 1280,
                "reduction": reduction,
            }
        )
        self.features = Stack(blocks)
        self._feature_info = info
        top = self._make_top(1280)
        if self.include_top:
            self.avgpool = GlobalAveragePooling2D()
            self.classifier = Stack([Dropout(dropout), top])
        self._finish()

    def forward_features(self, x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        return self.features(x, training=training)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "dropout": self.dropout_rate}
