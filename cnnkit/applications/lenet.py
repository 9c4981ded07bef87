"""LeNet-5 (LeCun et al. 1998) in two variants, as a table.

- ``"classic"``: 32×32×1 input, 5×5 convolutions, tanh, 2×2 average pooling;
  61,706 parameters (156 + 2,416 + 48,120 + 10,164 + 850).
- ``"relu"``: the course's modern version on 28×28×1 (MNIST as is), 3×3
  convolutions, ReLU, 2×2 max pooling; 60,074 parameters
  (60 + 880 + 48,120 + 10,164 + 850).
- ``"relu5"``: the paper's 5×5 convolutions on 28×28×1, the first one with
  ``"same"`` padding (the paper padded 28×28 digits to 32×32 instead), ReLU,
  max pooling; 61,706 parameters, like ``"classic"``.

Both: conv 6 → pool → conv 16 → pool → Flatten (5×5×16 = 400) → Dense 120 →
Dense 84 → Dense ``classes``. No pretrained weights exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from cnnkit._errors import unknown_name
from cnnkit.applications._base import Stack, ZooModel
from cnnkit.layers import AveragePooling2D, Conv2D, Dense, Flatten, MaxPooling2D

__all__ = ["LENET_VARIANTS", "LeNet5", "LeNetVariant"]


@dataclass(frozen=True)
class LeNetVariant:
    """One LeNet-5 variant: input shape, kernel size, activation, pooling kind and the
    first convolution's padding."""

    input_shape: tuple[int, int, int]
    kernel: int
    activation: str
    pooling: str
    first_padding: str = "valid"

    @property
    def min_size(self) -> int:
        """Smallest input side that leaves >= 1 pixel after both convs and 2×2 pools."""
        if self.first_padding == "same":
            return 2 * (self.kernel + 1)
        return 3 * self.kernel + 1


LENET_VARIANTS = {
    "classic": LeNetVariant((32, 32, 1), 5, "tanh", "avg"),
    "relu": LeNetVariant((28, 28, 1), 3, "relu", "max"),
    "relu5": LeNetVariant((28, 28, 1), 5, "relu", "max", first_padding="same"),
}


class LeNet5(ZooModel):
    """LeNet-5.

    Args:
        variant: ``"classic"`` (default), ``"relu"`` or ``"relu5"``; see the module docstring.
        include_top: Keep Flatten → Dense 120 → Dense 84 → Dense ``classes``. Default True.
        weights: None, or the path of a weight file saved from a LeNet5 (no ImageNet weights).
        input_shape: Default ``(32, 32, 1)`` (classic) or ``(28, 28, 1)`` (relu, relu5).
        pooling, classifier_activation, name: As :class:`cnnkit.applications.ResNet`.
        classes: Number of classes. Default 10.
    """

    model_name = "lenet5"
    head_prefixes = ("classifier.",)
    classifier_path = "classifier.3"
    pre_logits_path = ("classifier.0", "classifier.1", "classifier.2")
    has_imagenet = False
    flatten_top = True

    def __init__(
        self,
        variant: str = "classic",
        **kwargs: Any,
    ):
        if variant not in LENET_VARIANTS:
            raise unknown_name("LeNet5 variant", variant, LENET_VARIANTS, argument="variant")
        spec = LENET_VARIANTS[variant]
        self.default_input_shape = spec.input_shape
        self.min_size = spec.min_size
        kwargs.setdefault("classes", 10)
        super().__init__(**kwargs)
        self.variant = variant
        pool = AveragePooling2D if spec.pooling == "avg" else MaxPooling2D
        k, act = spec.kernel, spec.activation
        self.features = Stack(
            [
                Conv2D(6, k, activation=act, padding=spec.first_padding),
                pool(2),
                Conv2D(16, k, activation=act),
                pool(2),
            ]
        )
        self._feature_info = [
            {"stage": "block1", "module": "features.1", "channels": 6, "reduction": 2},
            {"stage": "block2", "module": "features.3", "channels": 16, "reduction": 4},
        ]
        top = self._make_top(84)
        if self.include_top:
            self.classifier = Stack(
                [Flatten(), Dense(120, activation=act), Dense(84, activation=act), top]
            )
        self._finish()

    def forward_features(self, x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        return self.features(x, training=training)

    def get_config(self) -> dict[str, Any]:
        return {"variant": self.variant, **super().get_config()}
