"""Weight constraints, applied after each optimizer step (Keras semantics).

A constraint maps a Keras-layout weight to its projected value. Keras calls
them after every update; cnnkit's training engine does the same through
``Layer.apply_constraints()``.
"""

from __future__ import annotations

from typing import Any

import torch

from cnnkit._errors import invalid_type, invalid_value, unknown_name

__all__ = [
    "Constraint",
    "MaxNorm",
    "MinMaxNorm",
    "NonNeg",
    "UnitNorm",
    "get_constraint",
    "serialize_constraint",
]

_EPS = 1e-7  # Keras' backend epsilon keeps the division finite for all-zero filters


class Constraint:
    """Base class: ``constraint(w) -> projected w`` (Keras layout)."""

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}


class NonNeg(Constraint):
    """Clamp every weight at zero from below."""

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w.clamp_min(0.0)


class MinMaxNorm(Constraint):
    """Rescale so the L2 norm along ``axis`` lies in ``[min_value, max_value]``.

    ``axis=0`` (Keras default) is per output unit for Dense ``(in, out)``; use
    ``[0, 1, 2]`` for a Conv2D kernel ``(kh, kw, in, out)``.
    """

    def __init__(
        self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis: Any = 0
    ):
        if min_value < 0 or max_value < min_value:
            raise invalid_value(
                "MinMaxNorm: need 0 <= min_value <= max_value.",
                received={"min_value": min_value, "max_value": max_value},
            )
        self.min_value, self.max_value, self.rate = float(min_value), float(max_value), float(rate)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        norms = w.square().sum(dim=self.axis, keepdim=True).sqrt()
        desired = self.rate * norms.clamp(self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (_EPS + norms))

    def get_config(self) -> dict[str, Any]:
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


class MaxNorm(MinMaxNorm):
    """Rescale so the L2 norm along ``axis`` is at most ``max_value`` (default 2)."""

    def __init__(self, max_value: float = 2.0, axis: Any = 0):
        super().__init__(0.0, max_value, 1.0, axis)

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        norms = w.square().sum(dim=self.axis, keepdim=True).sqrt()
        return w * (norms.clamp(0, self.max_value) / (_EPS + norms))

    def get_config(self) -> dict[str, Any]:
        return {"max_value": self.max_value, "axis": self.axis}


class UnitNorm(MinMaxNorm):
    """Rescale to unit L2 norm along ``axis``."""

    def __init__(self, axis: Any = 0):
        super().__init__(1.0, 1.0, 1.0, axis)

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


_CLASSES: dict[str, type[Constraint]] = {
    c.__name__: c for c in (NonNeg, MinMaxNorm, MaxNorm, UnitNorm)
}
_BY_NAME = {
    "non_neg": NonNeg,
    "max_norm": MaxNorm,
    "min_max_norm": MinMaxNorm,
    "unit_norm": UnitNorm,
}


def get_constraint(identifier: Any, argument: str = "kernel_constraint") -> Any:
    """A constraint from None, a name, a ``{"class_name", "config"}`` dict or a callable."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is None:
            raise unknown_name("constraint", identifier, _BY_NAME, argument=argument)
        return cls()
    if isinstance(identifier, dict) and "class_name" in identifier:
        cls = _CLASSES.get(identifier["class_name"])
        if cls is None:
            raise unknown_name(
                "constraint class", identifier["class_name"], _CLASSES, argument=argument
            )
        return cls(**identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise invalid_type(
        f"`{argument}` must be a constraint name, object or callable.",
        received={argument: identifier},
        choices=sorted(_BY_NAME),
    )


def serialize_constraint(constraint: Any) -> dict[str, Any] | None:
    """JSON form that :func:`get_constraint` reads back (None stays None)."""
    if constraint is None:
        return None
    if type(constraint).__name__ in _CLASSES:
        return {"class_name": type(constraint).__name__, "config": constraint.get_config()}
    raise invalid_type(
        "Cannot serialise a custom constraint; use a cnnkit Constraint.",
        received={"constraint": constraint},
    )
