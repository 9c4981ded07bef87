"""The metric base classes: running sums on the device, Keras' ``update_state``/``result``.

Every metric keeps running sums as tensors on the model's device and only
turns them into a Python float in :meth:`Metric.result_float`, which the
engine calls at most a few times per second (and at epoch end). The Keras
names work too: ``update_state(y_true, y_pred, sample_weight=None)``,
``result()`` and ``reset_state()``; a plain :class:`Mean` (``Mean(name="loss")``,
as a custom ``train_step`` keeps one) averages whatever values it is given.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

__all__ = ["Mean", "Metric", "probabilities"]


def probabilities(y_pred: torch.Tensor, activation: str | None) -> torch.Tensor:
    """Probabilities from what the engine fed: logits of ``activation`` or probabilities."""
    if activation == "softmax":
        return torch.softmax(y_pred.float(), dim=-1)
    if activation == "sigmoid":
        return torch.sigmoid(y_pred.float())
    return y_pred


class Metric:
    """Base class: ``update(y_true, y_pred, activation, sample_weight)`` then ``result()``.

    Args:
        name: The key in the logs (``"accuracy"``, ``"val_accuracy"`` for validation).
    """

    default_name: ClassVar[str] = "metric"
    #: Constructor argument -> attribute holding it, for :meth:`get_config`.
    config_attributes: ClassVar[dict[str, str]] = {}

    def __init__(self, name: str | None = None) -> None:
        self.name = name or self.default_name
        self._state: list[torch.Tensor] | None = None

    def reset(self) -> None:
        """Forget the accumulated state (called at every epoch start)."""
        self._state = None

    def _accumulate(self, *values: torch.Tensor | float) -> None:
        """Add to the running sums; plain numbers (sample counts) cost no new tensor."""
        if self._state is None:
            device = next(v.device for v in values if isinstance(v, torch.Tensor))
            # float32 sums: exact for counts below 2**24 and supported on every device (MPS).
            self._state = [
                torch.as_tensor(v, dtype=torch.float32, device=device).detach().clone()
                for v in values
            ]
        else:
            for acc, v in zip(self._state, values, strict=True):
                acc.add_(v.detach() if isinstance(v, torch.Tensor) else v)

    def update(
        self,
        y_true: torch.Tensor,
        y_pred: torch.Tensor,
        activation: str | None = None,
        sample_weight: torch.Tensor | None = None,
    ) -> None:
        raise NotImplementedError

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Keras' name for :meth:`update`: accumulate one batch (tensors or arrays).

        ``y_pred`` holds what the metric compares (probabilities, not logits).
        """
        y_pred = _tensor(y_pred, None).detach()
        y_true = _tensor(y_true, y_pred.device).detach()
        weight = None if sample_weight is None else _tensor(sample_weight, y_pred.device).float()
        self.update(y_true, y_pred, None, weight)

    def reset_state(self) -> None:
        """Keras' name for :meth:`reset` (``fit`` calls it at every epoch start)."""
        self.reset()

    def reset_states(self) -> None:
        """Keras 2's spelling of :meth:`reset_state`."""
        self.reset()

    def result(self) -> torch.Tensor:
        """The current value as a 0-d tensor on the device (no synchronisation)."""
        raise NotImplementedError

    def result_float(self) -> float:
        return float(self.result().item()) if self._state is not None else 0.0

    def get_config(self) -> dict[str, Any]:
        """The constructor's keyword arguments (JSON-able): ``type(self)(**get_config())``."""
        own = {arg: getattr(self, attr) for arg, attr in self.config_attributes.items()}
        return {"name": self.name} | own

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _tensor(value: Any, device: torch.device | None) -> torch.Tensor:
    tensor = value if isinstance(value, torch.Tensor) else torch.as_tensor(value)
    return tensor if device is None else tensor.to(device)


class Mean(Metric):
    """Weighted mean of per-sample values; subclasses define :meth:`values`.

    Used as it is, it is Keras' ``Mean``: ``update_state(values, sample_weight=None)``
    averages the given values (a loss, a tensor of any shape), as the trackers
    of a custom ``train_step`` do: ``self.loss_tracker = Mean(name="loss")``.
    """

    default_name = "mean"

    def update_state(self, *args: Any, sample_weight: Any = None) -> None:
        """Subclasses: ``(y_true, y_pred, sample_weight)``; plain Mean: ``(values, weight)``."""
        if type(self).values is not Mean.values:
            super().update_state(*args, sample_weight=sample_weight)
            return
        values, *rest = args
        if rest:
            (sample_weight,) = rest
        vals = _tensor(values, None).detach().float()
        if sample_weight is None:
            self._accumulate(vals.sum(), float(vals.numel()))
            return
        w = _tensor(sample_weight, vals.device).float()
        w = w.reshape(w.shape + (1,) * (vals.ndim - w.ndim)).expand_as(vals)
        self._accumulate((vals * w).sum(), w.sum())

    def values(
        self, y_true: torch.Tensor, y_pred: torch.Tensor, activation: str | None
    ) -> torch.Tensor:
        """One value per sample, shape ``(batch,)``."""
        raise NotImplementedError

    def update(self, y_true, y_pred, activation=None, sample_weight=None) -> None:
        vals = self.values(y_true, y_pred, activation).float()
        if sample_weight is None:
            self._accumulate(vals.sum(), float(vals.numel()))
        else:
            w = sample_weight.reshape(vals.shape).to(vals.dtype)
            self._accumulate((vals * w).sum(), w.sum())

    def update_mean(self, value: torch.Tensor, count: int) -> None:
        """Add a batch mean ``value`` that covers ``count`` samples (the loss tracker)."""
        self._accumulate(value * count, float(count))

    def result(self) -> torch.Tensor:
        if self._state is None:
            return torch.tensor(0.0)
        total, count = self._state
        return total / count.clamp_min(1e-12)
