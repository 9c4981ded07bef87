"""Weight initializers by Keras name or object.

Initializers receive the weight's shape in *Keras* layout (kernel
``(kh, kw, in, out)``, Dense ``(in, out)``) so fan-in and fan-out are exactly
Keras' ones; the layer converts the result to torch's layout. Randomness comes
from torch's global generator, so ``torch.manual_seed`` makes it reproducible.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from cnnkit._errors import invalid_type, invalid_value, unknown_name

__all__ = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "compute_fans",
    "get_initializer",
    "serialize_initializer",
]

# Keras divides the std of a unit normal truncated at ±2 by this to keep the variance.
_TRUNC_STD = 0.87962566103423978


def compute_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """Keras' fan-in and fan-out of a Keras-layout shape: receptive field × in / × out."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def _snake(name: str) -> str:
    """``GlorotUniform`` -> ``glorot_uniform``."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


class Initializer:
    """Base class: ``init(shape) -> torch.Tensor`` of that shape (float32)."""

    def __call__(self, shape: tuple[int, ...]) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    """All zeros (Keras' default bias initializer)."""

    def __call__(self, shape: tuple[int, ...]) -> torch.Tensor:
        return torch.zeros(shape)


class Ones(Initializer):
    """All ones (BatchNormalization gamma)."""

    def __call__(self, shape: tuple[int, ...]) -> torch.Tensor:
        return torch.ones(shape)


class Constant(Initializer):
    """Every entry equal to ``value`` (default 0)."""

    def __init__(self, value: float = 0.0):
        self.value = float(value)

    def __call__(self, shape: tuple[int, ...]) -> torch.Tensor:
        return torch.full(shape, self.value)

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


class RandomUniform(Initializer):
    """Uniform on ``[minval, maxval)``; Keras defaults −0.05, 0.05."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05):
        self.minval, self.maxval = float(minval), float(maxval)

    def __call__(self, shape: tuple[int, ...]) -> torch.Tensor:
        return torch.empty(shape).uniform_(self.minval, self.maxval)

    def get_config(self) -> dict[str, Any]:
        return {"minval": self.minval, "maxval": self.maxval}


class RandomNormal(Initializer):
    """Normal with ``mean`` and ``stddev``; Keras defaults 0, 0.05."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05):
        self.mean, self.stddev = float(mean), float(stddev)

    def __call__(self, shape: tuple[int, ...]) -> torch.Tensor:
        return torch.empty(shape).normal_(self.mean, self.stddev)

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomNormal):
    """Normal truncated at two standard deviations from the mean."""

    def __call__(self, shape: tuple[int, ...]) -> torch.Tensor:
        t = torch.empty(shape)
        lo, hi = self.mean - 2 * self.stddev, self.mean + 2 * self.stddev
        return torch.nn.init.trunc_normal_(t, self.mean, self.stddev, lo, hi)


class VarianceScaling(Initializer):
    """Keras' ``VarianceScaling``: variance ``scale / n`` with ``n`` from ``mode``.

    Args:
        scale: Positive scale factor (default 1).
        mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``.
        distribution: ``"truncated_normal"``, ``"untruncated_normal"`` or ``"uniform"``.
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "normal", "uniform")

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
    ):
        if not scale > 0:
            raise invalid_value(
                "VarianceScaling: `scale` must be positive.",
                expected="a number > 0",
                received={"scale": scale},
            )
        if mode not in self._MODES:
            raise unknown_name("VarianceScaling mode", mode, self._MODES, argument="mode")
        if distribution not in self._DISTRIBUTIONS:
            raise unknown_name(
                "VarianceScaling distribution",
                distribution,
                self._DISTRIBUTIONS,
                argument="distribution",
            )
        self.scale, self.mode, self.distribution = float(scale), mode, distribution
        self.seed = seed

    def __call__(self, shape: tuple[int, ...]) -> torch.Tensor:
        fan_in, fan_out = compute_fans(tuple(shape))
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        # A seeded initializer gives the same values on every call, as in Keras.
        gen = None if self.seed is None else torch.Generator().manual_seed(int(self.seed))
        t = torch.empty(shape)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return t.uniform_(-limit, limit, generator=gen)
        if self.distribution == "truncated_normal":
            std = math.sqrt(variance) / _TRUNC_STD
            return torch.nn.init.trunc_normal_(t, 0.0, std, -2 * std, 2 * std, generator=gen)
        return t.normal_(0.0, math.sqrt(variance), generator=gen)

    def get_config(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
        }


class _NamedScaling(VarianceScaling):
    """A VarianceScaling preset under Keras' class name (``HeNormal()`` ...)."""

    _preset: tuple[float, str, str] = (1.0, "fan_in", "truncated_normal")

    def __init__(self, seed: int | None = None):
        super().__init__(*self._preset, seed=seed)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


def _preset(name: str, scale: float, mode: str, distribution: str) -> type[_NamedScaling]:
    doc = f"``VarianceScaling({scale}, {mode!r}, {distribution!r})`` under Keras' class name."
    attrs = {"__doc__": doc, "_preset": (scale, mode, distribution), "__module__": __name__}
    return type(name, (_NamedScaling,), attrs)


# glorot: variance 2/(fan_in + fan_out) (Keras' default kernel init); he: 2/fan_in; lecun: 1/fan_in.
GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal = (
    _preset("GlorotUniform", 1.0, "fan_avg", "uniform"),
    _preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal"),
    _preset("HeUniform", 2.0, "fan_in", "uniform"),
    _preset("HeNormal", 2.0, "fan_in", "truncated_normal"),
    _preset("LecunUniform", 1.0, "fan_in", "uniform"),
    _preset("LecunNormal", 1.0, "fan_in", "truncated_normal"),
)


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix over the flattened Keras shape, times ``gain``."""

    def __init__(self, gain: float = 1.0):
        self.gain = float(gain)

    def __call__(self, shape: tuple[int, ...]) -> torch.Tensor:
        rows = math.prod(shape[:-1]) if len(shape) > 1 else 1
        flat = torch.nn.init.orthogonal_(torch.empty(rows, shape[-1]), gain=self.gain)
        return flat.reshape(shape)

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain}


_PRESETS: tuple[type[_NamedScaling], ...] = (
    GlorotUniform,
    GlorotNormal,
    HeUniform,
    HeNormal,
    LecunUniform,
    LecunNormal,
)
_CLASSES: dict[str, type[Initializer]] = (
    {
        c.__name__: c
        for c in (Zeros, Ones, Constant, RandomUniform, RandomNormal, TruncatedNormal, Orthogonal)
    }
    | {"VarianceScaling": VarianceScaling}
    | {c.__name__: c for c in _PRESETS}
)
_BY_NAME: dict[str, Any] = {
    "zeros": Zeros,
    "ones": Ones,
    "constant": Constant,
    "random_uniform": RandomUniform,
    "random_normal": RandomNormal,
    "truncated_normal": TruncatedNormal,
    "orthogonal": Orthogonal,
} | {snake: cls for cls in _PRESETS for snake in [_snake(cls.__name__)]}


def get_initializer(identifier: Any, argument: str = "kernel_initializer") -> Initializer:
    """An :class:`Initializer` from a name, a ``{"class_name", "config"}`` dict or an object.

    Raises:
        ValueError: Unknown name, with close-match suggestions.
        TypeError: Anything else that is not callable.
    """
    if isinstance(identifier, str):
        factory = _BY_NAME.get(identifier.lower())
        if factory is None:
            raise unknown_name("initializer", identifier, _BY_NAME, argument=argument)
        init = factory()
        init.keras_name = identifier.lower()  # remembered so configs stay short
        return init
    if isinstance(identifier, dict) and "class_name" in identifier:
        cls = _CLASSES.get(identifier["class_name"])
        if cls is None:
            raise unknown_name(
                "initializer class", identifier["class_name"], _CLASSES, argument=argument
            )
        return cls(**identifier.get("config", {}))
    if isinstance(identifier, Initializer) or callable(identifier):
        return identifier
    raise invalid_type(
        f"`{argument}` must be an initializer name, object or callable.",
        received={argument: identifier},
        choices=sorted(_BY_NAME),
    )


def serialize_initializer(init: Any) -> str | dict[str, Any]:
    """JSON form that :func:`get_initializer` reads back."""
    name = getattr(init, "keras_name", None)
    if name is not None:
        return name
    if type(init).__name__ in _CLASSES:
        return {"class_name": type(init).__name__, "config": init.get_config()}
    raise invalid_type(
        "Cannot serialise a custom initializer; pass a name or a cnnkit Initializer.",
        received={"initializer": init},
    )
