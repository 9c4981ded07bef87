"""``keras.backend`` as course code calls it: session, formats, dtypes, small tensor helpers.

``import cnnkit as keras`` makes ``keras.backend.clear_session()``,
``keras.backend.image_data_format()`` and ``from keras import backend as K`` work. The
engine is PyTorch, so :func:`backend` answers ``"torch"``.
"""

from __future__ import annotations

import gc
from typing import Any

import numpy as np
import torch

from cnnkit._config import image_data_format, set_image_data_format
from cnnkit._errors import invalid_type, invalid_value
from cnnkit.layers import reset_layer_names
from cnnkit.training._loss_base import EPSILON

__all__ = [
    "backend",
    "clear_session",
    "count_params",
    "epsilon",
    "floatx",
    "get_value",
    "image_data_format",
    "int_shape",
    "set_floatx",
    "set_image_data_format",
    "set_value",
]


def backend() -> str:
    """The name of the engine underneath: ``"torch"``."""
    return "torch"


def clear_session(free_memory: bool = True) -> None:
    """Start fresh, as Keras does between models built in one program.

    Automatic layer names restart (the next ``Conv2D`` is ``conv2d`` again). With
    ``free_memory`` (default True) Python's garbage collector runs and, on a CUDA
    machine, the cached GPU memory of models no longer referenced is released.
    Models still referenced are untouched: PyTorch has no global graph to reset.
    """
    reset_layer_names()
    if free_memory:
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def epsilon() -> float:
    """The fuzz factor the losses clip probabilities with: ``1e-07``, as Keras."""
    return EPSILON


def floatx() -> str:
    """The dtype of weights and of float inputs: ``"float32"``."""
    return "float32"


def set_floatx(value: str) -> None:
    """Accept ``"float32"``, the only weight dtype cnnkit builds.

    Raises:
        ValueError: for any other dtype; bf16/fp16 training is
            ``compile(mixed_precision=...)``.
    """
    if value != "float32":
        raise invalid_value(
            "set_floatx: cnnkit keeps weights in float32.",
            received={"value": value},
            choices=["float32"],
            hint="For bf16/fp16 arithmetic use model.compile(..., mixed_precision='bf16').",
        )


def _shape(x: Any) -> tuple[Any, ...]:
    shape = getattr(x, "shape", None)
    if shape is None:
        raise invalid_type(
            "The argument must be a tensor, an array or a symbolic Input tensor.",
            received={"x": type(x).__name__},
        )
    return tuple(None if d is None else int(d) for d in shape)


def int_shape(x: Any) -> tuple[Any, ...]:
    """The shape of a tensor, array or symbolic tensor as a tuple (``None`` where unknown)."""
    return _shape(x)


def count_params(x: Any) -> int:
    """The number of values in a weight tensor (or array): the product of its shape.

    Raises:
        ValueError: for a symbolic tensor whose shape has unknown (``None``) sizes.
    """
    shape = _shape(x)
    if any(d is None for d in shape):
        raise invalid_value("count_params: the shape has unknown sizes.", received={"shape": shape})
    return int(np.prod(shape, dtype=np.int64))


def get_value(x: Any) -> Any:
    """The value of a tensor as a NumPy array (a number stays a number)."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return x


def set_value(x: Any, value: Any) -> None:
    """Overwrite a weight tensor in place with ``value`` (same shape).

    Raises:
        TypeError: for a plain number such as ``model.optimizer.learning_rate``,
            which has no storage to write to: assign it instead.
    """
    if not isinstance(x, torch.Tensor):
        raise invalid_type(
            "set_value: `x` must be a tensor (a weight); a number cannot be set in place.",
            received={"x": type(x).__name__},
            hint="For the learning rate assign it: model.optimizer.learning_rate = value.",
        )
    with torch.no_grad():
        x.copy_(torch.as_tensor(np.asarray(value), dtype=x.dtype))
