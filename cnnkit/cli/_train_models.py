"""The models ``cnnkit train --model`` knows, plus ``file.py:function`` for your own.

Every model starts with ``Rescaling(1/255)`` so it takes raw uint8 pixels:
the saved ``model.cnnkit`` then classifies image files with no extra
preprocessing step.
"""

from __future__ import annotations

import importlib.util
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cnnkit._errors import invalid_type, invalid_value, unknown_name

__all__ = ["MODELS", "build_model"]

Shape = tuple[int, int, int]


def _lenet5(input_shape: Shape, classes: int) -> Any:
    """LeNet-5, 3×3 ReLU variant (60,074 parameters on MNIST)."""
    from cnnkit.applications import LeNet5
    from cnnkit.layers import Input, Rescaling
    from cnnkit.models import Sequential

    return Sequential(
        [
            Input(input_shape),
            Rescaling(1 / 255),
            LeNet5(variant="relu", input_shape=input_shape, classes=classes),
        ],
        name="lenet5",
    )


def _mnist_cnn(input_shape: Shape, classes: int) -> Any:
    """Keras' "simple MNIST convnet" example: two conv blocks, dropout, softmax."""
    from cnnkit.layers import Conv2D, Dense, Dropout, Flatten, Input, MaxPooling2D, Rescaling
    from cnnkit.models import Sequential

    return Sequential(
        [
            Input(input_shape),
            Rescaling(1 / 255),
            Conv2D(32, 3, activation="relu"),
            MaxPooling2D(2),
            Conv2D(64, 3, activation="relu"),
            MaxPooling2D(2),
            Flatten(),
            Dropout(0.5),
            Dense(classes, activation="softmax"),
        ],
        name="mnist_cnn",
    )


MODELS: dict[str, Callable[[Shape, int], Any]] = {"lenet5": _lenet5, "mnist_cnn": _mnist_cnn}


def _from_file(spec: str, input_shape: Shape, classes: int) -> Any:
    """``path/to/file.py:function``; the function gets ``(input_shape, classes)``."""
    file, _, name = spec.rpartition(":")
    path = Path(file)
    if not path.is_file():
        raise invalid_value(f"--model {spec!r}: no such file {file!r}.", received={"model": spec})
    module_spec = importlib.util.spec_from_file_location(f"cnnkit_user_model_{path.stem}", path)
    if module_spec is None or module_spec.loader is None:
        raise invalid_value(f"--model {spec!r}: cannot import {file!r}.", received={"model": spec})
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)  # the user's own file, named on the command line
    fn = getattr(module, name, None)
    if not callable(fn):
        found = [
            n
            for n, v in vars(module).items()
            if inspect.isfunction(v) and v.__module__ == module.__name__ and not n.startswith("_")
        ]
        raise unknown_name(f"function in {file}", name, found, argument="model")
    return fn(input_shape, classes)


def build_model(spec: str, input_shape: Shape, classes: int) -> Any:
    """A model from the table or from ``file.py:function``."""
    if spec.endswith(".py") or ".py:" in spec:
        if ".py:" not in spec:
            raise invalid_value(
                "--model FILE.py needs the function to call: FILE.py:FUNCTION.",
                received={"model": spec},
            )
        model = _from_file(spec, input_shape, classes)
    elif spec in MODELS:
        model = MODELS[spec](input_shape, classes)
    else:
        raise unknown_name("model", spec, [*MODELS, "<file.py:function>"], argument="model")
    from torch import nn

    if not isinstance(model, nn.Module):
        raise invalid_type(
            f"--model {spec!r} did not return a model.", received={"returned": type(model).__name__}
        )
    return model
