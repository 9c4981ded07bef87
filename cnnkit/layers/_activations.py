"""Activation functions by Keras name (``"relu"``, ``"softmax"``, ...).

Every entry is an element-wise (or last-axis, for softmax) function on a torch
tensor, so an activation never changes the layout of its input.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from cnnkit._errors import invalid_type, unknown_name

__all__ = ["ACTIVATIONS", "activation_name", "get_activation"]

ActivationFn = Callable[[torch.Tensor], torch.Tensor]


def linear(x: torch.Tensor) -> torch.Tensor:
    """Identity: ``f(x) = x``."""
    return x


def relu(x: torch.Tensor) -> torch.Tensor:
    """``max(x, 0)``."""
    return F.relu(x)


def relu6(x: torch.Tensor) -> torch.Tensor:
    """``min(max(x, 0), 6)`` (MobileNet)."""
    return F.relu6(x)


def leaky_relu(x: torch.Tensor) -> torch.Tensor:
    """``x`` for ``x > 0`` else ``0.2·x`` (Keras' default slope for the named activation)."""
    return F.leaky_relu(x, 0.2)


def elu(x: torch.Tensor) -> torch.Tensor:
    """``x`` for ``x > 0`` else ``exp(x) − 1``."""
    return F.elu(x)


def selu(x: torch.Tensor) -> torch.Tensor:
    """Scaled ELU with the self-normalising constants."""
    return F.selu(x)


def gelu(x: torch.Tensor) -> torch.Tensor:
    """``x·Φ(x)``, the exact (erf) form as in Keras' default ``approximate=False``."""
    return F.gelu(x)


def silu(x: torch.Tensor) -> torch.Tensor:
    """``x·sigmoid(x)``, also called swish."""
    return F.silu(x)


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    """``1 / (1 + exp(−x))``."""
    return torch.sigmoid(x)


def tanh(x: torch.Tensor) -> torch.Tensor:
    """Hyperbolic tangent."""
    return torch.tanh(x)


def softplus(x: torch.Tensor) -> torch.Tensor:
    """``log(1 + exp(x))``."""
    return F.softplus(x)


def softmax(x: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis, like Keras' ``axis=-1``."""
    return torch.softmax(x, dim=-1)


ACTIVATIONS: dict[str, ActivationFn] = {
    "linear": linear,
    "relu": relu,
    "relu6": relu6,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "selu": selu,
    "gelu": gelu,
    "swish": silu,
    "silu": silu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "softplus": softplus,
    "softmax": softmax,
}


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
