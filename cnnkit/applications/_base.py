"""``ZooModel``: what every model of the zoo shares.

A zoo model is a subclassed :class:`cnnkit.models.Model` whose attribute paths
mirror torchvision's, so torchvision state dicts load by key. This base
class handles Keras' builder arguments (``include_top``, ``weights``,
``input_shape``, ``pooling``, ``classes``, ``classifier_activation``), the
head API (``forward_features``, ``forward_head``, ``reset_classifier``,
``feature_info``), building, weight loading and ``get_config``.

A family subclass creates its layers in ``__init__`` after
``super().__init__(...)``, implements :meth:`forward_features`, names
the top's layers in ``pre_logits_path``, creates its classifier with :meth:`_make_top`, and ends
its ``__init__`` with :meth:`_finish`.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from cnnkit._errors import invalid_type, invalid_value, unknown_name
from cnnkit.layers import Activation, Dense, GlobalAveragePooling2D, GlobalMaxPooling2D
from cnnkit.models import Model

__all__ = ["Stack", "ZooModel"]

_POOLINGS = (None, "avg", "max")


class Stack(nn.Sequential):
    """``nn.Sequential`` that passes ``training`` on to every layer.

    Built from a list (keys ``0, 1, 2, ...``, which is what makes torchvision's
    ``features.0.weight`` map by name) or a dict of named layers.
    """

    def __init__(self, layers: Sequence[nn.Module | None] | dict[str, nn.Module]):
        if isinstance(layers, dict):
            super().__init__(OrderedDict(layers))
        else:
            super().__init__(*layers)

    def forward(self, x: Any, training: bool | None = None) -> Any:
        for module in self._modules.values():
            x = module(x, training=training)
        return x


class ZooModel(Model):
    """Base of the zoo models; see the module docstring for the subclass contract.

    Class attributes a family sets:
        model_name: Registry name, e.g. ``"resnet50"``; also the ImageNet weight key.
        weight_family: Key of the torchvision converter in ``_convert`` (or ``""``).
        head_prefixes: State-dict prefixes of the classifier, dropped for ``include_top=False``.
        classifier_path: Attribute path of the final Dense layer, e.g. ``"fc"``.
        pre_logits_path: Attribute paths of the top's layers before it, run in
            order, e.g. ``("avgpool",)``.
        default_input_shape: Keras-layout sample shape used when ``input_shape`` is None.
        min_size: Smallest height/width the architecture accepts.
        has_imagenet: Whether ``weights="imagenet"`` exists for the model.
    """

    model_name: ClassVar[str] = ""
    weight_family: ClassVar[str] = ""
    head_prefixes: ClassVar[tuple[str, ...]] = ()
    classifier_path: ClassVar[str] = "fc"
    pre_logits_path: ClassVar[tuple[str, ...]] = ()
    default_input_shape: ClassVar[tuple[int, int, int]] = (224, 224, 3)
    min_size: ClassVar[int] = 32
    has_imagenet: ClassVar[bool] = True
    flatten_top: ClassVar[bool] = False

    def __init__(
        self,
        *,
        include_top: bool = True,
        weights: str | os.PathLike | None = None,
        input_shape: Sequence[int | None] | None = None,
        pooling: str | None = None,
        classes: int = 1000,
        classifier_activation: str | None = "softmax",
        name: str | None = None,
    ):
        who = type(self).__name__
        self._check_args(who, include_top, weights, pooling, classes, classifier_activation)
        shape = self._check_input_shape(who, input_shape, include_top, weights)
        super().__init__(name=name or self.model_name, input_shape=shape)
        self.include_top = bool(include_top)
        self.pooling = pooling
        self.classes = int(classes)
        self.classifier_activation = classifier_activation
        self.sample_shape: tuple[int, int, int] = shape
        self._weights_arg = weights
        self.global_pool: nn.Module | None = None
        self.output_activation: nn.Module | None = None

    # ------------------------------------------------------------------ argument checks
    def _check_args(
        self,
        who: str,
        include_top: Any,
        weights: Any,
        pooling: Any,
        classes: Any,
        classifier_activation: Any,
    ) -> None:
        if weights is not None and not isinstance(weights, (str, os.PathLike)):
            raise invalid_type(
                f"{who}: `weights` must be None, 'imagenet', or the path to a weight file.",
                received={"weights": weights},
            )
        if weights == "imagenet" and not self.has_imagenet:
            raise invalid_value(
                f"{who}: no ImageNet weights exist for this model.",
                received={"weights": weights},
                hint="Use weights=None (random initialisation) or the path to your own file.",
            )
        if pooling not in _POOLINGS:
            raise unknown_name("pooling", pooling, ["avg", "max"], argument="pooling")
        if isinstance(classes, bool) or not isinstance(classes, int) or classes < 0:
            raise invalid_value(
                f"{who}: `classes` must be a positive integer.", received={"classes": classes}
            )
        if weights == "imagenet" and include_top and classes != 1000:
            raise invalid_value(
                f"{who}: with weights='imagenet' and include_top=True, `classes` must be 1000 "
                "(the ImageNet classifier).",
                received={"classes": classes},
                hint="Use include_top=False (features only, add your own head), or build with "
                "classes=1000 and call model.reset_classifier(num_classes).",
            )
        if weights == "imagenet" and classifier_activation not in (None, "softmax"):
            raise invalid_value(
                f"{who}: only None and 'softmax' are allowed as `classifier_activation` with "
                "pretrained weights.",
                received={"classifier_activation": classifier_activation},
            )

    def _check_input_shape(
        self, who: str, input_shape: Any, include_top: bool, weights: Any
    ) -> tuple[int, int, int]:
        default = self.default_input_shape
        if input_shape is None:
            return default
        shape = tuple(input_shape)
        ok = len(shape) == 3 and all(
            isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape
        )
        if not ok:
            raise invalid_value(
                f"{who}: `input_shape` must be (height, width, channels) with positive integers.",
                expected=f"a tuple like {default}",
                received={"input_shape": input_shape},
            )
        if weights == "imagenet" and shape[2] != default[2]:
            raise invalid_value(
                f"{who}: pretrained weights expect {default[2]} input channel(s).",
                received={"input_shape": input_shape},
            )
        if min(shape[:2]) < self.min_size:
            raise invalid_value(
                f"{who}: input images are too small for this architecture.",
                expected=f"height and width >= {self.min_size}",
                received={"input_shape": input_shape},
            )
        if self.flatten_top and include_top and weights == "imagenet" and shape != default:
            raise invalid_value(
                f"{who}: with include_top=True and pretrained weights, `input_shape` must be "
                f"{default}: the first Dense layer after Flatten was trained for that size.",
                received={"input_shape": input_shape},
                hint="Use include_top=False for other image sizes.",
            )
        return shape

    # ------------------------------------------------------------------ head
    def _make_top(self, num_features: int) -> Dense | None:
        """The final classifier for ``num_features`` inputs (None when ``classes`` is 0)."""
        self.num_features = num_features
        if self.include_top and self.classifier_activation not in (None, "linear"):
            self.output_activation = Activation(self.classifier_activation)
        if not self.include_top:
            if self.pooling == "avg":
                self.global_pool = GlobalAveragePooling2D()
            elif self.pooling == "max":
                self.global_pool = GlobalMaxPooling2D()
            return None
        return self._new_classifier(self.classes)

    def _new_classifier(self, classes: int) -> Dense | None:
        if classes == 0:
            return None
        dense = Dense(classes, input_shape=(self.num_features,))
        dense.build_from_config_shape()
        return dense

    def forward_features(self, x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        """The convolutional body: ``(N, H, W, C)`` images to the last feature map."""
        raise NotImplementedError

    def _pre_logits(self, x: torch.Tensor, training: bool | None) -> torch.Tensor:
        """Pooling and hidden top layers (``pre_logits_path``): to ``(N, num_features)``."""
        for path in self.pre_logits_path:
            x = self.get_submodule(path)(x, training=training)
        return x

    def forward_head(
        self, x: torch.Tensor, pre_logits: bool = False, training: bool | None = None
    ) -> torch.Tensor:
        """Feature map to the model output.

        Args:
            x: Output of :meth:`forward_features`, ``(N, h, w, C)``.
            pre_logits: Stop before the final classifier and return the
                ``(N, num_features)`` vector it reads (for feature extraction).
            training: Training-mode flag for dropout and BatchNormalization.

        Returns:
            With ``include_top=True``: ``(N, classes)`` scores after
            ``classifier_activation``. With ``include_top=False``: the feature map
            itself, or ``(N, C)`` after ``pooling="avg"``/``"max"``.
        """
        if not self.include_top:
            return x if self.global_pool is None else self.global_pool(x, training=training)
        x = self._pre_logits(x, training)
        classifier = self.classifier_layer
        if pre_logits or classifier is None:
            return x
        x = classifier(x, training=training)
        if self.output_activation is not None:
            x = self.output_activation(x, training=training)
        return x

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        return self.forward_head(self.forward_features(inputs, training), training=training)

    @property
    def classifier_layer(self) -> nn.Module | None:
        """The final Dense layer, or None without a top (or after ``reset_classifier(0)``)."""
        if not self.include_top:
            return None
        parent_path, _, leaf = self.classifier_path.rpartition(".")
        parent = self.get_submodule(parent_path) if parent_path else self
        return parent._modules.get(leaf)

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the final Dense layer with a fresh one for ``num_classes`` classes.

        ``num_classes=0`` removes it, so the model outputs the pre-logits features.
        The output activation (``classifier_activation``) is kept.
        """
        if not self.include_top:
            raise invalid_value(
                f"{type(self).__name__}: reset_classifier needs the model's top, but it was "
                "built with include_top=False.",
                received={"include_top": False},
                hint="Build with include_top=True, or add your own head "
                "(cnnkit.transfer.replace_head).",
            )
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 0:
            raise invalid_value(
                f"{type(self).__name__}: `num_classes` must be an integer >= 0.",
                received={"num_classes": num_classes},
            )
        parent_path, _, leaf = self.classifier_path.rpartition(".")
        parent = self.get_submodule(parent_path) if parent_path else self
        device = next(self.parameters()).device
        new = self._new_classifier(num_classes)
        parent._modules[leaf] = None if new is None else new.to(device)
        self.classes = num_classes

    @property
    def feature_info(self) -> list[dict[str, Any]]:
        """Per stage: ``{"stage", "module", "channels", "reduction"}``; reduction = total stride."""
        return [dict(row) for row in self._feature_info]

    # ------------------------------------------------------------------ build / weights / config
    def _weights_build_side(self) -> int | None:
        """Side of the cheapest input that creates every weight; None: use ``input_shape``.

        Convolution weights depend only on channel counts, so a fully
        convolutional body builds on its smallest input; a Flatten top needs
        the real feature-map size.
        """
        return None if self.flatten_top and self.include_top else self.min_size

    def build(self, input_shape: Any) -> None:
        """Create the weights (on the smallest valid input when that suffices)."""
        input_shape = (None, *tuple(input_shape)[1:])
        side = self._weights_build_side()
        super().build(input_shape if side is None else (None, side, side, input_shape[-1]))
        self._build_input_shape = input_shape  # summary and input_shape report the real size

    def _finish(self) -> None:
        """Create every weight for the known input shape, then load ``weights``."""
        self.build((None, *self.sample_shape))
        weights = self._weights_arg
        if weights is None:
            return
        from cnnkit.applications._weights import imagenet_weights_path, load_into, read_state_file

        path = imagenet_weights_path(self.model_name) if weights == "imagenet" else Path(weights)
        load_into(self, read_state_file(path), source=str(weights))

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments (weights are not re-downloaded on load: ``weights=None``)."""
        return {
            "include_top": self.include_top,
            "weights": None,
            "input_shape": list(self.sample_shape),
            "pooling": self.pooling,
            "classes": self.classes,
            "classifier_activation": self.classifier_activation,
            "name": self.name,
        }
