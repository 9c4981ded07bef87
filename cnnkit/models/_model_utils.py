"""Small helpers every model module shares: device, eval mode, zero batches, shape errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from cnnkit._errors import invalid_value

__all__ = [
    "eval_mode",
    "model_device",
    "unknown_input_shape_error",
    "with_batch_none",
    "zeros_for",
]


def unknown_input_shape_error(name: str, action: str) -> ValueError:
    """The error for doing ``action`` on a model whose input shape is not known yet."""
    return invalid_value(
        f"Cannot {action} model '{name}': its input shape is unknown, so its layers have "
        "no weights and no output shapes yet.",
        received={"input_shape": None},
        hint="Pass `input_shape=(H, W, C)` to the first layer, start the model with "
        "`Input(shape=(H, W, C))`, or call `model.build((None, H, W, C))`.",
    )


def model_device(module: nn.Module) -> torch.device:
    """Device of the first parameter or buffer; CPU for a model without any."""
    for t in module.parameters():
        return t.device
    for t in module.buffers():
        return t.device
    return torch.device("cpu")


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[None]:
    """Everything in eval mode for a shape probe; each module's own flag restored after."""
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield
    finally:
        for m, mode in modes:
            m.training = mode


def zeros_for(shape: Any, device: torch.device) -> Any:
    if isinstance(shape, list):
        return [zeros_for(s, device) for s in shape]
    return torch.zeros((1, *shape[1:]), device=device)


def with_batch_none(shape: Any) -> Any:
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return [with_batch_none(s) for s in shape]
    return (None, *tuple(shape)[1:])
