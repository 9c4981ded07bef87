"""DenseNet-121 (Huang et al. 2017), torchvision's layout.

Inside a dense block every layer reads the concatenation of all earlier
outputs and adds ``growth_rate`` channels; transitions halve channels and
size. Paths mirror torchvision (``features.denseblock2.denselayer5.conv1``);
torchvision's published file still uses the old ``norm.1`` names, which the
import renames (see ``_convert``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from cnnkit.applications._base import Stack, ZooModel
from cnnkit.applications._blocks import conv, relu, tv_bn
from cnnkit.applications._imagenet import decode_predictions
from cnnkit.applications._imagenet import preprocess_torch as preprocess_input
from cnnkit.layers import AveragePooling2D, Concatenate, GlobalAveragePooling2D, MaxPooling2D

__all__ = ["DENSENET_CONFIGS", "DenseNet", "DenseNet121", "decode_predictions", "preprocess_input"]

#: name -> (growth rate, layers per dense block, stem width)
DENSENET_CONFIGS: dict[str, tuple[int, tuple[int, ...], int]] = {
    "densenet121": (32, (6, 12, 24, 16), 64),
}
_BN_SIZE = 4  # bottleneck width = 4 × growth rate


class DenseLayer(nn.Module):
    """BN-ReLU-Conv1×1 (4·k channels) → BN-ReLU-Conv3×3 (k channels), concatenated to the input."""

    def __init__(self, growth_rate: int):
        super().__init__()
        self.norm1 = tv_bn()
        self.relu1 = relu()
        self.conv1 = conv(_BN_SIZE * growth_rate, 1)
        self.norm2 = tv_bn()
        self.relu2 = relu()
        self.conv2 = conv(growth_rate, 3, 1, 1)
        self.concat = Concatenate(axis=-1)

    def forward(self, x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        y = self.conv1(self.relu1(self.norm1(x, training=training)))
        y = self.conv2(self.relu2(self.norm2(y, training=training)))
        return self.concat([x, y])


def _transition(filters: int) -> Stack:
    return Stack(
        {
            "norm": tv_bn(),
            "relu": relu(),
            "conv": conv(filters, 1),
            "pool": AveragePooling2D(2, strides=2),
        }
    )


class DenseNet(ZooModel):
    """A DenseNet from :data:`DENSENET_CONFIGS`; use the builder ``DenseNet121(...)``.

    Args:
        variant: A key of :data:`DENSENET_CONFIGS`. Default ``"densenet121"``.
        include_top, weights, input_shape, pooling, classes, classifier_activation, name:
            As :class:`cnnkit.applications.ResNet`.
    """

    weight_family = "densenet"
    head_prefixes = ("classifier.",)
    classifier_path = "classifier"
    pre_logits_path = ("avgpool",)

    def __init__(
        self,
        variant: str = "densenet121",
        **kwargs: Any,
    ):
        if variant not in DENSENET_CONFIGS:
            from cnnkit._errors import unknown_name

            raise unknown_name("DenseNet variant", variant, DENSENET_CONFIGS, argument="variant")
        self.model_name = variant
        super().__init__(**kwargs)
        self.variant = variant
        growth, block_layers, channels = DENSENET_CONFIGS[variant]
        layers: dict[str, nn.Module] = {
            "conv0": conv(channels, 7, 2, 3),
            "norm0": tv_bn(),
            "relu0": relu(),
            "pool0": MaxPooling2D(3, strides=2, padding=1),
        }
        info, reduction = [], 4
        for i, n_layers in enumerate(block_layers, start=1):
            layers[f"denseblock{i}"] = Stack(
                {f"denselayer{j}": DenseLayer(growth) for j in range(1, n_layers + 1)}
            )
            channels += n_layers * growth
            info.append(
                {
                    "stage": f"denseblock{i}",
                    "module": f"features.denseblock{i}",
                    "channels": channels,
                    "reduction": reduction,
                }
            )
            if i != len(block_layers):
                channels //= 2
                layers[f"transition{i}"] = _transition(channels)
                reduction *= 2
        layers["norm5"] = tv_bn()
        layers["relu5"] = relu()  # torchvision applies F.relu after features; a layer here
        self.features = Stack(layers)
        self._feature_info = info
        if self.include_top:
            self.avgpool = GlobalAveragePooling2D()
        self.classifier = self._make_top(channels)
        self._finish()

    def forward_features(self, x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        return self.features(x, training=training)

    def get_config(self) -> dict[str, Any]:
        return {"variant": self.variant, **super().get_config()}


def DenseNet121(**kwargs: Any) -> DenseNet:
    """DenseNet-121: growth 32, blocks (6, 12, 24, 16); 7,978,856 parameters with the top."""
    return DenseNet("densenet121", **kwargs)
