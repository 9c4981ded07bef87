"""Keras-2 compatibility of the optimizer specs and the torch optimizers they build.

Two things course code relies on:

* constructor keywords: Keras 2's ``lr`` (a deprecated alias of ``learning_rate``)
  and ``decay``; Keras 3 keywords with no meaning here. Nothing is ignored
  silently: an alias warns once, a harmless keyword is accepted only at its
  no-op value, anything else raises with close-match suggestions.
* ``model.optimizer.learning_rate`` / ``.lr``: custom callbacks read and set the
  rate there, so the torch optimizer the engine builds is a subclass with that
  property, mapped onto every param group's ``lr``.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch

from cnnkit._errors import close_matches, invalid_type, invalid_value
from cnnkit.training._optimizer_apply import TorchApplyMixin

__all__ = ["keras_learning_rate", "with_learning_rate_property"]

# Keras 3 keywords accepted at the value that makes them a no-op (None: any value,
# they change nothing numerically here).
_NOOP_KEYWORDS: dict[str, Any] = {
    "name": None,
    "jit_compile": None,
    "use_ema": False,
    "ema_momentum": None,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}
_warned_lr = False


def keras_learning_rate(
    cls_name: str, learning_rate: float, extra: dict[str, Any], known: list[str]
) -> float:
    """Resolve the Keras-2 keywords in ``extra``; return the learning rate to use.

    Args:
        cls_name: The optimizer class name (for messages).
        learning_rate: The ``learning_rate`` argument.
        extra: Keywords the constructor did not name (``lr``, ``decay``, ...).
        known: Every keyword the constructor accepts (for suggestions).

    Raises:
        ValueError: ``decay`` > 0, or a no-op keyword at a value that would matter.
        TypeError: An unknown keyword (with close matches).
    """
    global _warned_lr
    extra = dict(extra)
    if "lr" in extra:
        learning_rate = extra.pop("lr")
        if not _warned_lr:
            _warned_lr = True
            warnings.warn(
                f"{cls_name}: the `lr` argument is deprecated, use `learning_rate` instead.",
                FutureWarning,  # shown by default, unlike DeprecationWarning outside __main__
                stacklevel=4,
            )
    decay = extra.pop("decay", 0.0)
    if decay:
        raise invalid_value(
            f"{cls_name}: Keras 2's `decay` argument is not supported.",
            received={"decay": decay},
            hint="Keras 2 used lr / (1 + decay * iterations), updated every batch; schedule it "
            "with a callback instead, e.g. per epoch: callbacks=[LearningRateScheduler(lambda "
            "epoch, lr: lr0 / (1 + decay * steps_per_epoch * epoch))], or CosineDecay.",
        )
    for key, value in extra.items():
        if key not in _NOOP_KEYWORDS:
            choices = sorted({*known, "lr", "decay", *_NOOP_KEYWORDS})
            matches = close_matches(key, choices)
            raise invalid_type(
                f"{cls_name}() got an unexpected keyword argument {key!r}.",
                received={key: value},
                suggestion=", ".join(repr(m) for m in matches) if matches else None,
                choices=choices,
            )
        noop = _NOOP_KEYWORDS[key]
        if noop is not None and value != noop:
            raise invalid_value(
                f"{cls_name}: `{key}={value!r}` is not supported by cnnkit.",
                received={key: value},
                expected=f"{key}={noop!r}",
            )
    return learning_rate


class _LearningRateMixin:
    """Keras' ``optimizer.learning_rate`` / ``optimizer.lr`` on a torch optimizer."""

    param_groups: list[dict[str, Any]]

    @property
    def learning_rate(self) -> float:
        """The first param group's rate; setting it sets every group's rate."""
        return float(self.param_groups[0]["lr"])

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        if isinstance(value, torch.Tensor):
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise invalid_value(
                "optimizer.learning_rate must be a positive number.",
                received={"learning_rate": value},
            )
        for group in self.param_groups:
            group["lr"] = float(value)

    lr = learning_rate


_SUBCLASSES: dict[type, type] = {}


def with_learning_rate_property(
    torch_class: type[torch.optim.Optimizer],
) -> type[torch.optim.Optimizer]:
    """A subclass of ``torch_class`` (cached) with ``learning_rate``/``lr`` and ``apply``."""
    if torch_class not in _SUBCLASSES:
        bases = (_LearningRateMixin, TorchApplyMixin, torch_class)  # + Keras 3's apply()
        _SUBCLASSES[torch_class] = type(torch_class.__name__, bases, {})
    return _SUBCLASSES[torch_class]
