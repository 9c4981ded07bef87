"""The zoo's registry: one explicit table from model names to builders.

Nothing registers itself on import; adding a model means adding a row here.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any

from cnnkit._errors import invalid_type, unknown_name
from cnnkit.applications.alexnet import AlexNet
from cnnkit.applications.densenet import DenseNet121
from cnnkit.applications.efficientnet_lite import EfficientNetLite0
from cnnkit.applications.googlenet import GoogLeNet
from cnnkit.applications.lenet import LeNet5
from cnnkit.applications.mobilenet_v2 import MobileNetV2
from cnnkit.applications.resnet import ResNet18, ResNet34, ResNet50, ResNet101, ResNet152
from cnnkit.applications.vgg import VGG16, VGG19

__all__ = ["MODELS", "get_model", "list_models"]

#: Registry name -> builder (a class or function taking the builder keywords).
MODELS: dict[str, Callable[..., Any]] = {
    "lenet5": LeNet5,
    "alexnet": AlexNet,
    "vgg16": VGG16,
    "vgg19": VGG19,
    "resnet18": ResNet18,
    "resnet34": ResNet34,
    "resnet50": ResNet50,
    "resnet101": ResNet101,
    "resnet152": ResNet152,
    "googlenet": GoogLeNet,
    "mobilenet_v2": MobileNetV2,
    "densenet121": DenseNet121,
    "efficientnet_lite0": EfficientNetLite0,
}


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names matching a shell-style ``pattern`` (e.g. ``"resnet*"``), sorted."""
    if not isinstance(pattern, str):
        raise invalid_type(
            "list_models: `pattern` must be a string.", received={"pattern": pattern}
        )
    return sorted(name for name in MODELS if fnmatch.fnmatchcase(name, pattern.lower()))


def get_model(name: str, **kwargs: Any) -> Any:
    """Build the registered model ``name`` with the builder keywords ``kwargs``.

    Example: ``get_model("resnet50", weights="imagenet")``.

    Raises:
        ValueError: unknown name, with close-match suggestions.
    """
    key = name.lower().replace("-", "_") if isinstance(name, str) else name
    if key not in MODELS:
        raise unknown_name("model", name, MODELS, argument="name")
    return MODELS[key](**kwargs)
