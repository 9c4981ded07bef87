"""VGG-16 and VGG-19 (Simonyan & Zisserman 2014), from a configuration table.

Attribute paths mirror torchvision (``features.28``), except that cnnkit's
``classifier`` starts with a ``Flatten`` layer, so its Dense layers sit at
``classifier.1/.4/.7`` (torchvision: ``.0/.3/.6``). cnnkit flattens
channels-last ``(H, W, C)``; importing torchvision weights permutes the
first Dense layer's columns accordingly (see ``_convert``). Like Keras (and
unlike torchvision's adaptive 7×7 pooling), the top's first Dense layer is
sized for ``input_shape``, so ImageNet weights with the top need 224×224.
"""

from __future__ import annotations

from typing import Any

import torch

from cnnkit._errors import unknown_name
from cnnkit.applications._base import Stack, ZooModel
from cnnkit.applications._blocks import conv, relu
from cnnkit.applications._imagenet import decode_predictions
from cnnkit.applications._imagenet import preprocess_torch as preprocess_input
from cnnkit.layers import Dense, Dropout, Flatten, MaxPooling2D

__all__ = ["VGG", "VGG16", "VGG19", "VGG_CONFIGS", "decode_predictions", "preprocess_input"]

#: depth -> conv widths, "M" = 2×2 max pooling.
VGG_CONFIGS: dict[int, tuple[int | str, ...]] = {
    16: (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
    19: (
        64,
        64,
        "M",
        128,
        128,
        "M",
        256,
        256,
        256,
        256,
        "M",
        512,
        512,
        512,
        512,
        "M",
        512,
        512,
        512,
        512,
        "M",
    ),
}


class VGG(ZooModel):
    """VGG of the given depth; use the builders ``VGG16(...)``/``VGG19(...)``.

    Args:
        depth: 16 or 19 (a key of :data:`VGG_CONFIGS`).
        include_top, weights, input_shape, pooling, classes, classifier_activation, name:
            As :class:`cnnkit.applications.ResNet`. The top is Flatten → Dense 4096 →
            Dense 4096 → Dense ``classes`` with ReLU and dropout 0.5.
    """

    weight_family = "vgg"
    head_prefixes = ("classifier.",)
    classifier_path = "classifier.7"
    pre_logits_path = tuple(f"classifier.{i}" for i in range(7))
    flatten_top = True

    def __init__(
        self,
        depth: int = 16,
        **kwargs: Any,
    ):
        if depth not in VGG_CONFIGS:
            raise unknown_name("VGG depth", depth, [str(d) for d in VGG_CONFIGS], argument="depth")
        self.model_name = f"vgg{depth}"
        super().__init__(**kwargs)
        self.depth = depth
        layers: list[Any] = []
        info, channels, reduction = [], 0, 1
        for width in VGG_CONFIGS[depth]:
            if width == "M":
                layers.append(MaxPooling2D(2, strides=2))
                reduction *= 2
                info.append(
                    {
                        "stage": f"block{len(info) + 1}",
                        "module": f"features.{len(layers) - 1}",
                        "channels": channels,
                        "reduction": reduction,
                    }
                )
            else:
                layers += [conv(int(width), 3, 1, 1, use_bias=True), relu()]
                channels = int(width)
        self.features = Stack(layers)
        self._feature_info = info
        height, width = (s // 32 for s in self.sample_shape[:2])
        self.flatten_shape = (height, width, channels)
        top = self._make_top(4096)
        if self.include_top:
            self.classifier = Stack(
                [
                    Flatten(),
                    Dense(4096),
                    relu(),
                    Dropout(0.5),
                    Dense(4096),
                    relu(),
                    Dropout(0.5),
                    top,
                ]
            )
        self._finish()

    def forward_features(self, x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        return self.features(x, training=training)

    def get_config(self) -> dict[str, Any]:
        return {"depth": self.depth, **super().get_config()}


def VGG16(**kwargs: Any) -> VGG:
    """VGG-16: 13 convolutions, 138,357,544 parameters with the 1000-class top."""
    return VGG(16, **kwargs)


def VGG19(**kwargs: Any) -> VGG:
    """VGG-19: 16 convolutions, 143,667,240 parameters with the 1000-class top."""
    return VGG(19, **kwargs)
