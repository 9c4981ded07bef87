"""ResNet-18/34/50/101/152 (He et al. 2015), torchvision's "v1.5" variant.

v1.5 puts the stride of a downsampling bottleneck on its 3×3 convolution
(the paper's v1 strides the first 1×1), as torchvision and most ports do.
Attribute paths mirror torchvision (``layer3.4.conv2``), so its state dicts
load by key. Variants are rows of :data:`RESNET_CONFIGS`.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from cnnkit.applications._base import Stack, ZooModel
from cnnkit.applications._blocks import conv, relu, tv_bn
from cnnkit.applications._imagenet import decode_predictions
from cnnkit.applications._imagenet import preprocess_torch as preprocess_input
from cnnkit.layers import Add, GlobalAveragePooling2D, MaxPooling2D

__all__ = [
    "RESNET_CONFIGS",
    "ResNet",
    "ResNet18",
    "ResNet34",
    "ResNet50",
    "ResNet101",
    "ResNet152",
    "decode_predictions",
    "preprocess_input",
]

#: depth -> (block type, blocks per stage)
RESNET_CONFIGS: dict[int, tuple[str, tuple[int, int, int, int]]] = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}
_EXPANSION = {"basic": 1, "bottleneck": 4}


class _Residual(nn.Module):
    """Shared tail of both blocks: optional projection shortcut, Add, ReLU."""

    def _init_shortcut(self, filters: int, strides: int, project: bool) -> None:
        self.downsample = Stack([conv(filters, 1, strides), tv_bn()]) if project else None
        self.add = Add()
        self.relu = relu()

    def _merge(self, x: torch.Tensor, y: torch.Tensor, training: bool | None) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x, training=training)
        return self.relu(self.add([y, shortcut], training=training), training=training)


class BasicBlock(_Residual):
    """Two 3×3 convolutions (ResNet-18/34)."""

    def __init__(self, planes: int, strides: int, project: bool):
        super().__init__()
        self.conv1 = conv(planes, 3, strides, 1)
        self.bn1 = tv_bn()
        self.relu1 = relu()
        self.conv2 = conv(planes, 3, 1, 1)
        self.bn2 = tv_bn()
        self._init_shortcut(planes, strides, project)

    def forward(self, x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        y = self.relu1(self.bn1(self.conv1(x), training=training))
        y = self.bn2(self.conv2(y), training=training)
        return self._merge(x, y, training)


class Bottleneck(_Residual):
    """1×1 reduce → 3×3 (strided, v1.5) → 1×1 expand ×4 (ResNet-50/101/152)."""

    def __init__(self, planes: int, strides: int, project: bool):
        super().__init__()
        self.conv1 = conv(planes, 1)
        self.bn1 = tv_bn()
        self.relu1 = relu()
        self.conv2 = conv(planes, 3, strides, 1)
        self.bn2 = tv_bn()
        self.relu2 = relu()
        self.conv3 = conv(planes * 4, 1)
        self.bn3 = tv_bn()
        self._init_shortcut(planes * 4, strides, project)

    def forward(self, x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        y = self.relu1(self.bn1(self.conv1(x), training=training))
        y = self.relu2(self.bn2(self.conv2(y), training=training))
        y = self.bn3(self.conv3(y), training=training)
        return self._merge(x, y, training)


class ResNet(ZooModel):
    """A ResNet of the given depth; use the builders ``ResNet50(...)`` etc.

    Args:
        depth: 18, 34, 50, 101 or 152 (a key of :data:`RESNET_CONFIGS`).
        include_top: Keep the classifier (global average pool + Dense). Default True.
        weights: None (random), ``"imagenet"`` (torchvision's file, downloaded and
            verified) or the path of a ``.pth``/``.safetensors`` file.
        input_shape: ``(H, W, 3)``; default ``(224, 224, 3)``.
        pooling: With ``include_top=False``: None (4-D feature map), ``"avg"`` or ``"max"``.
        classes: Number of classes of the top. Default 1000.
        classifier_activation: Activation of the top; ``None`` gives logits. Default "softmax".
        name: Model name; default ``"resnet<depth>"``.
    """

    weight_family = "resnet"
    head_prefixes = ("fc.",)
    classifier_path = "fc"
    pre_logits_path = ("avgpool",)

    def __init__(
        self,
        depth: int = 50,
        **kwargs: Any,
    ):
        if depth not in RESNET_CONFIGS:
            from cnnkit._errors import unknown_name

            raise unknown_name(
                "ResNet depth", depth, [str(d) for d in RESNET_CONFIGS], argument="depth"
            )
        self.model_name = f"resnet{depth}"
        super().__init__(**kwargs)
        self.depth = depth
        kind, stage_blocks = RESNET_CONFIGS[depth]
        block_cls = BasicBlock if kind == "basic" else Bottleneck
        expansion = _EXPANSION[kind]
        self.conv1 = conv(64, 7, 2, 3)
        self.bn1 = tv_bn()
        self.relu = relu()
        self.maxpool = MaxPooling2D(3, strides=2, padding=1)
        info = [{"stage": "stem", "module": "relu", "channels": 64, "reduction": 2}]
        in_channels, reduction = 64, 4
        for i, (planes, blocks) in enumerate(zip((64, 128, 256, 512), stage_blocks, strict=True)):
            strides = 1 if i == 0 else 2
            reduction *= strides
            project = strides != 1 or in_channels != planes * expansion
            stage = [block_cls(planes, strides, project)]
            stage += [block_cls(planes, 1, False) for _ in range(blocks - 1)]
            in_channels = planes * expansion
            setattr(self, f"layer{i + 1}", Stack(stage))
            info.append(
                {
                    "stage": f"layer{i + 1}",
                    "module": f"layer{i + 1}",
                    "channels": in_channels,
                    "reduction": reduction,
                }
            )
        self._feature_info = info
        if self.include_top:
            self.avgpool = GlobalAveragePooling2D()
        self.fc = self._make_top(in_channels)
        self._finish()

    def forward_features(self, x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x), training=training))
        x = self.maxpool(x)
        for i in range(1, 5):
            x = getattr(self, f"layer{i}")(x, training=training)
        return x

    def get_config(self) -> dict[str, Any]:
        return {"depth": self.depth, **super().get_config()}


def _builder(depth: int) -> Any:
    def build(**kwargs: Any) -> ResNet:
        return ResNet(depth, **kwargs)

    build.__name__ = build.__qualname__ = f"ResNet{depth}"
    build.__doc__ = (
        f"ResNet-{depth} (v1.5). Keyword-only arguments as :class:`ResNet`; "
        f"{'basic' if depth < 50 else 'bottleneck'} blocks {RESNET_CONFIGS[depth][1]}."
    )
    return build


ResNet18 = _builder(18)
ResNet34 = _builder(34)
ResNet50 = _builder(50)
ResNet101 = _builder(101)
ResNet152 = _builder(152)
