"""Activation functions by Keras name (``"relu"``, ``"softmax"``, ...).

Every entry is an element-wise (or last-axis, for softmax) function on a torch
tensor, so an activation never changes the layout of its input.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from cnnkit._errors import invalid_type, unknown_name

__all__ = ["ACTIVATIONS", "activate", "activation_name", "get_activation"]

ActivationFn = Callable[[torch.Tensor], torch.Tensor]


def linear(x: torch.Tensor) -> torch.Tensor:
    """Identity: ``f(x) = x``."""
    return x


def leaky_relu(x: torch.Tensor) -> torch.Tensor:
    """``x`` for ``x > 0`` else ``0.2·x`` (Keras' default slope for the named activation)."""
    return F.leaky_relu(x, 0.2)


def softmax(x: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis, like Keras' ``axis=-1``."""
    return torch.softmax(x, dim=-1)


#: Name -> function. Torch's own functions where their defaults equal Keras'
#: (gelu is the exact erf form, Keras' default ``approximate=False``).
ACTIVATIONS: dict[str, ActivationFn] = {
    "linear": linear,
    "relu": F.relu,
    "relu6": F.relu6,
    "leaky_relu": leaky_relu,
    "elu": F.elu,
    "selu": F.selu,
    "gelu": F.gelu,
    "swish": F.silu,
    "silu": F.silu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softplus": F.softplus,
    "softmax": softmax,
}


#: Activations whose outputs are probabilities: computed in float32 even under bf16/fp16
#: autocast, so that a softmax row sums to 1 to float32 precision, not bf16's 0.4 % steps.
_PROBABILITIES = {id(softmax), id(torch.sigmoid)}


def activate(fn: ActivationFn, x: torch.Tensor) -> torch.Tensor:
    """``fn(x)``; softmax and sigmoid of a half-precision ``x`` run in float32."""
    if id(fn) in _PROBABILITIES and x.dtype in (torch.bfloat16, torch.float16):
        return fn(x.float())
    return fn(x)


def get_activation(
    identifier: str | ActivationFn | None, argument: str = "activation"
) -> ActivationFn:
    """Look up an activation by name, or pass a callable through.

    Args:
        identifier: A name from :data:`ACTIVATIONS`, a callable, or None (linear).
        argument: The argument name used in error messages.

    Returns:
        A function from tensor to tensor of the same shape.

    Raises:
        ValueError: For an unknown name, with close-match suggestions.
        TypeError: For anything that is neither a string nor callable.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = ACTIVATIONS.get(identifier.lower())
        if fn is None:
            raise unknown_name("activation", identifier, ACTIVATIONS, argument=argument)
        return fn
    if callable(identifier):
        return identifier
    raise invalid_type(
        f"`{argument}` must be an activation name or a callable.",
        received={argument: identifier},
        choices=sorted(ACTIVATIONS),
    )


def activation_name(fn: ActivationFn) -> str:
    """The name to store in a config: the registered name, else the function's ``__name__``."""
    for name, registered in ACTIVATIONS.items():
        if registered is fn:
            return name
    return getattr(fn, "__name__", type(fn).__name__)
