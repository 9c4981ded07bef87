"""AlexNet (Krizhevsky et al. 2012) in torchvision's single-tower "one weird trick" form.

Attribute paths mirror torchvision (``features.3``), except that cnnkit's
``classifier`` starts with a ``Flatten`` layer: its Dense layers sit at
``classifier.2/.5/.7`` (torchvision: ``.1/.4/.6``). cnnkit flattens
channels-last ``(H, W, C)``; importing torchvision weights permutes the
first Dense layer's columns (see ``_convert``). The top's first Dense layer
is sized for ``input_shape`` (Keras' rule), so ImageNet weights with the top
need 224×224 (a 6×6×256 feature map).
"""

from __future__ import annotations

from typing import Any

import torch

from cnnkit.applications._base import Stack, ZooModel
from cnnkit.applications._blocks import conv, relu
from cnnkit.applications._imagenet import decode_predictions
from cnnkit.applications._imagenet import preprocess_torch as preprocess_input
from cnnkit.layers import Dense, Dropout, Flatten, MaxPooling2D

__all__ = ["AlexNet", "decode_predictions", "preprocess_input"]


def _feature_size(n: int) -> int:
    """Side of the last feature map for an ``n``-pixel input (224 → 6)."""
    n = (n + 2 * 2 - 11) // 4 + 1  # conv 11×11 stride 4 pad 2
    for _ in range(3):  # three 3×3 stride-2 max pools; the convs between keep the size
        n = (n - 3) // 2 + 1
    return n


class AlexNet(ZooModel):
    """AlexNet: 61,100,840 parameters with the 1000-class top.

    Args:
        include_top, weights, input_shape, pooling, classes, classifier_activation, name:
            As :class:`cnnkit.applications.ResNet`; height and width must be >= 63.
            The top is Flatten → Dropout → Dense 4096 → Dropout → Dense 4096 → Dense ``classes``.
    """

    model_name = "alexnet"
    weight_family = "alexnet"
    head_prefixes = ("classifier.",)
    classifier_path = "classifier.7"
    pre_logits_path = tuple(f"classifier.{i}" for i in range(7))
    flatten_top = True
    min_size = 63

    def __init__(
        self,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.features = Stack(
            [
                conv(64, 11, 4, 2, use_bias=True),
                relu(),
                MaxPooling2D(3, strides=2),
                conv(192, 5, 1, 2, use_bias=True),
                relu(),
                MaxPooling2D(3, strides=2),
                conv(384, 3, 1, 1, use_bias=True),
                relu(),
                conv(256, 3, 1, 1, use_bias=True),
                relu(),
                conv(256, 3, 1, 1, use_bias=True),
                relu(),
                MaxPooling2D(3, strides=2),
            ]
        )
        self._feature_info = [
            {"stage": "block1", "module": "features.2", "channels": 64, "reduction": 8},
            {"stage": "block2", "module": "features.5", "channels": 192, "reduction": 16},
            {"stage": "block3", "module": "features.12", "channels": 256, "reduction": 32},
        ]
        self.flatten_shape = (*(_feature_size(s) for s in self.sample_shape[:2]), 256)
        top = self._make_top(4096)
        if self.include_top:
            self.classifier = Stack(
                [
                    Flatten(),
                    Dropout(0.5),
                    Dense(4096),
                    relu(),
                    Dropout(0.5),
                    Dense(4096),
                    relu(),
                    top,
                ]
            )
        self._finish()

    def forward_features(self, x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        return self.features(x, training=training)
