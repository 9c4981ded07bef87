"""A model's own ``train_step`` / ``test_step`` / ``predict_step`` inside ``fit`` and ``evaluate``.

Keras 3's torch idiom (``keras.io/guides/custom_train_step_in_torch``)::

    class GAN(Model):
        def train_step(self, data):
            self.zero_grad()
            loss = self.compute_loss(y=y, y_pred=self(x, training=True))
            loss.backward()
            self.optimizer.apply()            # or self.d_optimizer.apply(grads, weights)
            ...
            return {"loss": self.loss_tracker.result()}

``cnnkit.models.Model`` defines the three steps (marked as built in with
:data:`BUILTIN_STEP`). The engine decides **once per call** of ``fit`` /
``evaluate`` whether the model overrides one: if not, nothing changes and the
built-in fast step runs; if so, :func:`custom_steps` puts the step functions of
:class:`CustomSteps` on the trainer for the duration of the call, so the
``FitLoop`` (callbacks, progress bar, History, ``BackupAndRestore``, the
validation pass) drives the model's step instead. Each step gets ``data`` as
Keras packs it: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``; its returned dict
of numbers is what the progress bar, callbacks and History show. At each epoch
start (and at the start of ``evaluate``) every metric in ``model.metrics`` is
reset.
"""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Iterator
from typing import Any

import torch

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.training._progress import ProgressDisplay

__all__ = [
    "BUILTIN_STEP",
    "CustomSteps",
    "custom_steps",
    "overrides",
    "pack_x_y_sample_weight",
    "unpack_x_y_sample_weight",
]

#: Attribute set on ``Model.train_step``/``test_step``/``predict_step`` (the defaults).
BUILTIN_STEP = "_cnnkit_builtin_step"


def overrides(model: Any, step: str) -> bool:
    """Whether ``type(model)`` defines its own ``step`` (``"train_step"``, ...)."""
    method = getattr(type(model), step, None)
    return method is not None and not getattr(method, BUILTIN_STEP, False)


def pack_x_y_sample_weight(x: Any, y: Any = None, sample_weight: Any = None) -> Any:
    """Keras' packing of one batch: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``."""
    if y is None and sample_weight is None:
        return x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data: Any) -> tuple[Any, Any, Any]:
    """Inverse of :func:`pack_x_y_sample_weight` (Keras' ``keras.utils`` function)."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data[0], data[1], data[2]
    raise invalid_value(
        "Data must be x, (x,), (x, y) or (x, y, sample_weight).",
        received={"len(data)": len(data)},
    )


def check_step_logs(result: Any, step: str) -> dict[str, Any]:
    """The dict a step returned, checked: string keys, numbers or one-element tensors."""
    if not isinstance(result, dict):
        raise invalid_type(
            f"{step}() must return a dict of metric names to numbers, e.g. "
            "{'loss': self.loss_tracker.result()}.",
            received={"type": type(result).__name__},
        )
    for key, value in result.items():
        if not isinstance(key, str):
            raise invalid_type(f"{step}(): every key must be a string.", received={"key": key})
        if isinstance(value, torch.Tensor):
            if value.numel() != 1 or value.is_complex():
                raise invalid_value(
                    f"{step}(): '{key}' must be one number; reduce it first (.mean()).",
                    received={f"{key}.shape": tuple(value.shape)},
                )
        elif isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise invalid_type(
                f"{step}(): '{key}' must be a number or a one-element tensor.",
                received={key: type(value).__name__},
            )
    return result


def _floats(result: dict[str, Any] | None) -> dict[str, float]:
    if not result:
        return {}
    return {k: float(v.detach().float().item()) if isinstance(v, torch.Tensor) else float(v)
            for k, v in result.items()}  # fmt: skip


def model_metrics(trainer: Any) -> list[Any]:
    """``model.metrics`` (Keras), or the trainer's own metrics for a plain module."""
    metrics = getattr(trainer.model, "metrics", None)
    if isinstance(metrics, (list, tuple)):
        return list(metrics)
    return [trainer.loss_tracker, *trainer.metrics]


class CustomSteps:
    """The step functions the fit loop calls while a model's own step is in charge.

    Args:
        trainer: The :class:`~cnnkit.training.Trainer` of the model.
    """

    def __init__(self, trainer: Any) -> None:
        self.trainer = trainer
        self.model = trainer.model
        self.last: dict[str, Any] | None = None

    def train_batch(self, xb: torch.Tensor, yb: Any, wb: Any, data: Any) -> bool:
        """``model.train_step`` on one batch.

        Returns:
            False when the NaN guard found a non-finite loss in the returned dict
            (``fit`` stops; the step's own update has been applied), else True.
        """
        if self.trainer._optimizer is None:
            self.trainer._ensure_built(xb)
        result = self.model.train_step(pack_x_y_sample_weight(xb, yb, wb))
        self.last = check_step_logs(result, "train_step")
        guard = self.trainer._guard
        return guard is None or not guard.bad_step_logs(self.last, xb)

    def logs(self) -> dict[str, float]:
        """The latest step's dict as floats (read at most a few times a second)."""
        return _floats(self.last)

    def reset_metrics(self) -> None:
        """Reset ``model.metrics`` and the compiled ones (every epoch, every evaluate)."""
        seen = set()
        for metric in [*model_metrics(self.trainer), self.trainer.loss_tracker,
                       *self.trainer.metrics]:  # fmt: skip
            if id(metric) not in seen and callable(getattr(metric, "reset_state", None)):
                seen.add(id(metric))
                metric.reset_state()

    def test_loop(self, data: Any, cbs: Any, progress: ProgressDisplay) -> dict[str, float]:
        """``model.test_step`` over ``data`` in eval mode without gradients; the last logs."""
        model = self.model
        was_training = model.training
        model.eval()
        self.reset_metrics()
        progress.begin(data.steps)
        result: dict[str, Any] | None = None
        step = 0
        try:
            with torch.no_grad():
                for step, (xb, yb, wb) in enumerate(data.epoch(), 1):
                    if cbs is not None:
                        cbs.on_test_batch_begin(step - 1)
                    out = model.test_step(pack_x_y_sample_weight(xb, yb, wb))
                    result = check_step_logs(out, "test_step")
                    if cbs is not None:
                        cbs.on_test_batch_end(step - 1, _floats(result))
                    progress.update(step, lambda r=result: _floats(r))
        finally:
            model.train(was_training)
        logs = _floats(result)
        progress.end(step, logs)
        return logs


@contextlib.contextmanager
def custom_steps(trainer: Any, train: bool) -> Iterator[CustomSteps | None]:
    """Route ``trainer``'s steps to the model's own for one ``fit`` (``train``) or ``evaluate``.

    Yields None, and changes nothing, when the model overrides neither
    ``train_step`` nor ``test_step``: the built-in step keeps its speed.
    """
    model = trainer.model
    if not (overrides(model, "train_step") or overrides(model, "test_step")):
        yield None
        return
    steps = CustomSteps(trainer)
    # Instance attributes shadow the built-in methods for this call only.
    installed = {"_test_loop": steps.test_loop, "_reset_metrics": steps.reset_metrics}
    if train:
        # _custom_active tells the NaN guard to read the step's dict (_nonfinite.py).
        installed |= {"_train_step": steps.train_batch, "_logs": steps.logs, "_custom_active": True}
    vars(trainer).update(installed)
    try:
        yield steps
    finally:
        for name in installed:
            vars(trainer).pop(name, None)


def needs_loss(trainer: Any, step: str) -> bool:
    """Whether ``fit``/``evaluate`` need a compiled loss: only for the built-in steps."""
    return not (overrides(trainer.model, step) or overrides(trainer.model, "train_step"))
