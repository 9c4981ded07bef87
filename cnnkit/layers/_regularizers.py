"""Weight and activity regularizers (``"l1"``, ``"l2"``, ``"l1_l2"`` or objects).

A regularizer maps a tensor to a scalar penalty. Layers return their
penalties from ``regularization_losses()``; the training engine adds the sum
over all layers to the loss, as Keras does.
"""

from __future__ import annotations

from typing import Any

import torch

from cnnkit._errors import invalid_type, invalid_value, unknown_name

__all__ = ["L1L2", "Regularizer", "get_regularizer", "l1", "l1_l2", "l2", "serialize_regularizer"]


class Regularizer:
    """Base class: ``reg(weight) -> scalar tensor``."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}


class L1L2(Regularizer):
    """``l1·Σ|w| + l2·Σw²``.

    Args:
        l1: L1 factor (default 0).
        l2: L2 factor (default 0).
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        for arg, value in (("l1", l1), ("l2", l2)):
            if not isinstance(value, (int, float)) or value < 0:
                raise invalid_value(
                    f"Regularizer: `{arg}` must be a non-negative number.",
                    received={arg: value},
                )
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        penalty = x.new_zeros(())
        if self.l1:
            penalty = penalty + self.l1 * x.abs().sum()
        if self.l2:
            penalty = penalty + self.l2 * x.square().sum()
        return penalty

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}

    def __repr__(self) -> str:
        return f"L1L2(l1={self.l1}, l2={self.l2})"


def l1(l1: float = 0.01) -> L1L2:
    """L1 penalty ``l1·Σ|w|`` (Keras default factor 0.01)."""
    return L1L2(l1=l1)


def l2(l2: float = 0.01) -> L1L2:
    """L2 penalty ``l2·Σw²`` (Keras default factor 0.01)."""
    return L1L2(l2=l2)


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """Both penalties (Keras defaults 0.01 each)."""
    return L1L2(l1=l1, l2=l2)


_BY_NAME = {"l1": l1, "l2": l2, "l1_l2": l1_l2}


def get_regularizer(identifier: Any, argument: str = "kernel_regularizer") -> Any:
    """A regularizer from None, a name, a ``{"class_name", "config"}`` dict or a callable."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        factory = _BY_NAME.get(identifier.lower())
        if factory is None:
            raise unknown_name("regularizer", identifier, _BY_NAME, argument=argument)
        return factory()
    if isinstance(identifier, dict) and identifier.get("class_name") == "L1L2":
        return L1L2(**identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise invalid_type(
        f"`{argument}` must be a regularizer name, object or callable.",
        received={argument: identifier},
        choices=sorted(_BY_NAME),
    )


def serialize_regularizer(reg: Any) -> dict[str, Any] | None:
    """JSON form that :func:`get_regularizer` reads back (None stays None)."""
    if reg is None:
        return None
    if isinstance(reg, L1L2):
        return {"class_name": "L1L2", "config": reg.get_config()}
    raise invalid_type(
        "Cannot serialise a custom regularizer; use l1/l2/l1_l2 or L1L2.",
        received={"regularizer": reg},
    )
