"""GoogLeNet / Inception v1 (Szegedy et al. 2014), torchvision's layout.

The nine Inception modules are rows of :data:`INCEPTION_TABLE`. As in
torchvision, every convolution is followed by BatchNorm (eps 1e-3) and the
"5×5" branch uses a 3×3 kernel. torchvision's max pools use ``ceil_mode``;
cnnkit gets the same windows with explicit bottom/right padding computed
for the model's input size (max pooling pads with −inf).

Auxiliary classifiers (``aux_logits=True``) run only in training: the
output of ``model(x)`` stays the main prediction, and the two auxiliary
predictions of the latest training pass are in ``model.aux_outputs``.
:meth:`GoogLeNet.auxiliary_loss` adds them with weight 0.3 (the paper's);
``fit`` adds it to the training loss by itself.

``transform_input=True`` re-normalises ImageNet-mean/std input to the
[-1, 1] scaling the published weights were trained with (torchvision's
behaviour); it defaults to True exactly when ``weights="imagenet"``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from cnnkit.applications._base import Stack, ZooModel
from cnnkit.applications._blocks import conv, relu
from cnnkit.applications._imagenet import IMAGENET_MEAN, IMAGENET_STD, decode_predictions
from cnnkit.applications._imagenet import preprocess_torch as preprocess_input
from cnnkit.layers import (
    AveragePooling2D,
    BatchNormalization,
    Concatenate,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    MaxPooling2D,
)

__all__ = ["INCEPTION_TABLE", "GoogLeNet", "InceptionRow", "decode_predictions", "preprocess_input"]


@dataclass(frozen=True)
class InceptionRow:
    """Widths of one Inception module's four branches."""

    name: str
    ch1x1: int
    ch3x3red: int
    ch3x3: int
    ch5x5red: int
    ch5x5: int
    pool_proj: int

    @property
    def filters_out(self) -> int:
        return self.ch1x1 + self.ch3x3 + self.ch5x5 + self.pool_proj


INCEPTION_TABLE = (
    InceptionRow("inception3a", 64, 96, 128, 16, 32, 32),
    InceptionRow("inception3b", 128, 128, 192, 32, 96, 64),
    InceptionRow("inception4a", 192, 96, 208, 16, 48, 64),
    InceptionRow("inception4b", 160, 112, 224, 24, 64, 64),
    InceptionRow("inception4c", 128, 128, 256, 24, 64, 64),
    InceptionRow("inception4d", 112, 144, 288, 32, 64, 64),
    InceptionRow("inception4e", 256, 160, 320, 32, 128, 128),
    InceptionRow("inception5a", 256, 160, 320, 32, 128, 128),
    InceptionRow("inception5b", 384, 192, 384, 48, 128, 128),
)
#: Max pool (kernel, stride) placed *before* the named module.
_POOL_BEFORE = {
    "conv2": ("maxpool1", 3, 2),
    "inception3a": ("maxpool2", 3, 2),
    "inception4a": ("maxpool3", 3, 2),
    "inception5a": ("maxpool4", 2, 2),
}


def _ceil_pool(size: tuple[int, int], kernel: int, strides: int) -> tuple[MaxPooling2D, tuple]:
    """A max pool with torch ``ceil_mode=True`` windows for ``size``, and its output size."""
    pads, out = [], []
    for n in size:
        o = -(-(n - kernel) // strides) + 1
        if (o - 1) * strides >= n:  # torch's rule: the last window must start inside the input
            o -= 1
        pads.append((0, max((o - 1) * strides + kernel - n, 0)))
        out.append(o)
    return MaxPooling2D(kernel, strides=strides, padding=tuple(pads)), tuple(out)


class BasicConv2d(nn.Module):
    """Conv (no bias) → BatchNorm (eps 1e-3) → ReLU."""

    def __init__(self, filters: int, kernel: int, strides: int = 1, padding: int = 0):
        super().__init__()
        self.conv = conv(filters, kernel, strides, padding)
        self.bn = BatchNormalization(epsilon=1e-3, momentum=0.9)
        self.relu = relu()

    def forward(self, x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x), training=training))


class Inception(nn.Module):
    """Four parallel branches (1×1; 1×1→3×3; 1×1→3×3; pool→1×1) concatenated on channels."""

    def __init__(self, row: InceptionRow):
        super().__init__()
        self.branch1 = BasicConv2d(row.ch1x1, 1)
        self.branch2 = Stack([BasicConv2d(row.ch3x3red, 1), BasicConv2d(row.ch3x3, 3, 1, 1)])
        self.branch3 = Stack([BasicConv2d(row.ch5x5red, 1), BasicConv2d(row.ch5x5, 3, 1, 1)])
        self.branch4 = Stack([MaxPooling2D(3, strides=1, padding=1), BasicConv2d(row.pool_proj, 1)])
        self.concat = Concatenate(axis=-1)

    def forward(self, x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        branches = (self.branch1, self.branch2, self.branch3, self.branch4)
        return self.concat([b(x, training=training) for b in branches])


class InceptionAux(nn.Module):
    """Auxiliary classifier: 5×5/3 average pool → 1×1 conv 128 → Dense 1024 → dropout 0.7 → Dense.

    torchvision pools adaptively to 4×4; the paper's 5×5 stride-3 pool gives
    the same 4×4 grid at 224×224 input.
    """

    def __init__(self, classes: int):
        super().__init__()
        self.pool = AveragePooling2D(5, strides=3)
        self.conv = BasicConv2d(128, 1)
        self.flatten = Flatten()
        # Named dense1/dense2 (torchvision: fc1/fc2) because dense1 reads a
        # channels-last flatten: the import renames and permutes (see _convert).
        self.dense1 = Dense(1024, activation="relu")
        self.dropout = Dropout(0.7)
        self.dense2 = Dense(classes)

    def forward(self, x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        x = self.flatten(self.conv(self.pool(x), training=training))
        return self.dense2(self.dropout(self.dense1(x), training=training))


class GoogLeNet(ZooModel):
    """GoogLeNet: 6,624,904 parameters with the 1000-class top and no auxiliary classifiers.

    Args:
        include_top, weights, input_shape, pooling, classes, classifier_activation, name:
            As :class:`cnnkit.applications.ResNet`.
        aux_logits: Add the two auxiliary classifiers (training only). Default False.
        transform_input: Re-normalise input for the published weights; default
            True with ``weights="imagenet"``, else False.
        dropout: Dropout rate before the classifier. Default 0.2.
    """

    model_name = "googlenet"
    weight_family = "googlenet"
    head_prefixes = ("fc.", "aux1.", "aux2.")
    classifier_path = "fc"
    pre_logits_path = ("avgpool", "dropout")
    AUX_LOSS_WEIGHT: ClassVar[float] = 0.3

    def __init__(
        self,
        *,
        aux_logits: bool = False,
        transform_input: bool | None = None,
        dropout: float = 0.2,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.aux_logits = bool(aux_logits and self.include_top)
        self.transform_input = (
            self._weights_arg == "imagenet" if transform_input is None else transform_input
        )
        self.dropout_rate = dropout
        # Per-channel affine from ImageNet mean/std normalisation to (x - 0.5) / 0.5.
        std, mean = torch.tensor(IMAGENET_STD), torch.tensor(IMAGENET_MEAN)
        self.register_buffer("_scale", std / 0.5, persistent=False)
        self.register_buffer("_offset", (mean - 0.5) / 0.5, persistent=False)
        size = (self.sample_shape[0] - 1) // 2 + 1, (self.sample_shape[1] - 1) // 2 + 1
        self.conv1 = BasicConv2d(64, 7, 2, 3)
        order: list[str] = ["conv1"]
        for name_, module in [
            ("conv2", BasicConv2d(64, 1)),
            ("conv3", BasicConv2d(192, 3, 1, 1)),
        ] + [(row.name, Inception(row)) for row in INCEPTION_TABLE]:
            if name_ in _POOL_BEFORE:
                pool_name, kernel, strides = _POOL_BEFORE[name_]
                pool, size = _ceil_pool(size, kernel, strides)
                setattr(self, pool_name, pool)
                order.append(pool_name)
                if pool_name == "maxpool3":  # the auxiliary heads read this resolution
                    aux_size = size
            setattr(self, name_, module)
            order.append(name_)
        self._order = order
        # Side of the auxiliary heads' pooled grid (4 at 224×224); the import needs it.
        self.aux_grid = (aux_size[0] - 5) // 3 + 1, (aux_size[1] - 5) // 3 + 1
        self.aux_outputs: tuple[torch.Tensor, torch.Tensor] | None = None
        if self.aux_logits:
            self.aux1 = InceptionAux(self.classes)
            self.aux2 = InceptionAux(self.classes)
        self._feature_info = [
            {"stage": "conv3", "module": "conv3", "channels": 192, "reduction": 4},
            {"stage": "inception3", "module": "inception3b", "channels": 480, "reduction": 8},
            {"stage": "inception4", "module": "inception4e", "channels": 832, "reduction": 16},
            {"stage": "inception5", "module": "inception5b", "channels": 1024, "reduction": 32},
        ]
        if self.include_top:
            self.avgpool = GlobalAveragePooling2D()
            self.dropout = Dropout(dropout)
        self.fc = self._make_top(1024)
        self._finish()

    def _weights_build_side(self) -> int | None:
        # The auxiliary heads' 5×5 pool needs the real resolution.
        return None if self.aux_logits else super()._weights_build_side()

    def forward_features(self, x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if self.transform_input:
            x = x * self._scale + self._offset
        is_training = self.training if training is None else training
        aux: list[torch.Tensor] = []
        for name in self._order:
            x = getattr(self, name)(x, training=training)
            # The auxiliary heads also run while the model builds, so their weights exist.
            run_aux = self.aux_logits and (is_training or not self.built)
            if run_aux and name in ("inception4a", "inception4d"):
                head = self.aux1 if name == "inception4a" else self.aux2
                out = head(x, training=training)
                if self.output_activation is not None:
                    out = self.output_activation(out)
                aux.append(out)
        self.aux_outputs = (aux[0], aux[1]) if aux else None
        return x

    def auxiliary_loss(
        self, loss_fn: Callable[[Any, torch.Tensor], torch.Tensor], y_true: Any
    ) -> torch.Tensor:
        """``0.3 × (loss(aux1) + loss(aux2))`` for the latest training pass (0 without aux).

        Add it to the main loss in a custom training step:
        ``loss = loss_fn(y, model(x, training=True)) + model.auxiliary_loss(loss_fn, y)``.
        """
        if self.aux_outputs is None:
            return torch.zeros(())
        return self.AUX_LOSS_WEIGHT * sum(loss_fn(y_true, out) for out in self.aux_outputs)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "aux_logits": self.aux_logits,
            "transform_input": self.transform_input,
            "dropout": self.dropout_rate,
        }
