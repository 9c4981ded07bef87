"""The train/test/predict steps and loops that ``Trainer`` is built from.

Hot path per training batch: forward (under autocast when asked), loss,
``zero_grad(set_to_none=True)``, backward, optional clipping, optimizer step,
and on-device metric accumulation; nothing is read back to Python here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from cnnkit._errors import invalid_value
from cnnkit.callbacks._base import CallbackList
from cnnkit.training._checks import check_lengths, check_positive_int, check_targets, check_verbose
from cnnkit.training._custom_step import custom_steps, needs_loss, overrides
from cnnkit.training._data import ArrayData, Batch, as_tensor, make_data
from cnnkit.training._ddp import reduce_metrics
from cnnkit.training._fit_inputs import batch_weights, class_weight_table
from cnnkit.training._loss_terms import LossTermsMixin
from cnnkit.training._progress import ProgressDisplay
from cnnkit.training._resume import ResumeMixin

__all__ = ["StepsMixin", "predict"]


def _no_labels() -> ValueError:
    return invalid_value(
        "The data yielded batches without labels; training and evaluation need (x, y) batches.",
        hint="Yield (x, y) or (x, y, sample_weight) tuples, or pass y= with array inputs.",
    )


def _to_numpy(outputs: list[Any]) -> Any:
    first = outputs[0]
    if isinstance(first, (list, tuple)):
        return [_to_numpy([o[i] for o in outputs]) for i in range(len(first))]
    if isinstance(first, dict):
        return {k: _to_numpy([o[k] for o in outputs]) for k in first}
    return torch.cat([o.float() for o in outputs]).cpu().numpy()


def predict_loop(
    model: nn.Module,
    forward: Callable[[torch.Tensor], Any],
    data: Any,
    progress: ProgressDisplay,
    autocast: Callable[[], Any],
) -> Any:
    """Outputs of ``forward`` over ``data`` in eval mode under ``inference_mode``, as NumPy."""
    outputs: list[Any] = []
    was_training = model.training
    model.eval()
    progress.begin(data.steps)
    step = 0
    try:
        with torch.inference_mode():
            for step, (xb, _, _) in enumerate(data.epoch(), 1):
                with autocast():
                    outputs.append(forward(xb))
                progress.update(step, dict)
    finally:
        model.train(was_training)
    progress.end(step, {})
    if not outputs:
        raise invalid_value("predict(): the data holds no samples.", received={"steps": step})
    return _to_numpy(outputs)


def predict(model: nn.Module, x: Any, batch_size: int = 32, verbose: Any = 0, steps=None) -> Any:
    """Outputs of an uncompiled ``model`` for ``x`` (array, Sequence or iterable) as NumPy.

    Args:
        model: Any ``nn.Module`` taking Keras-layout batches.
        x: Inputs ``(samples, ...)``, or batches from a dataset/generator.
        batch_size: Samples per forward pass (arrays only).
        verbose: 0 silent, 1 progress bar, 2 one line, "auto" = 1.
        steps: Batches to draw from a generator.
    """
    check_positive_int(batch_size, "batch_size")
    params = next(model.parameters(), None)
    device = params.device if params is not None else torch.device("cpu")
    data = make_data(
        x,
        None,
        None,
        batch_size=batch_size,
        device=device,
        shuffle=False,
        generator=None,
        steps=steps,
        role="predict",
    )
    from contextlib import nullcontext

    return predict_loop(model, model, data, ProgressDisplay(check_verbose(verbose)), nullcontext)


class StepsMixin(ResumeMixin, LossTermsMixin):
    """Steps and loops; expects the attributes that :class:`Trainer` sets up."""

    model: nn.Module
    device: torch.device

    # ------------------------------------------------------------------ one step
    def _forward_for_loss(self, xb: torch.Tensor, forward: Any = None) -> Any:
        forward = self._forward if forward is None else forward
        if self._final is not None:
            with self._final.disabled():
                return forward(xb)
        return forward(xb)

    def _track(self, yb, y_pred, wb, loss, n: int) -> None:
        self.loss_tracker.update_mean(loss.detach(), n)
        kind = None if self._final is None else self._final.kind
        y_pred = y_pred.detach()
        for metric in self.metrics:
            metric.update(yb, y_pred, kind, wb)

    def _check_once(self, data: Any, yb: torch.Tensor | None, y_pred: Any) -> None:
        if yb is None:
            raise _no_labels()
        if not self._checked:
            full = data.y if isinstance(data, ArrayData) and data.y is not None else yb
            check_targets(self.loss, full, y_pred)
            self._checked = True

    def _train_step(self, xb, yb, wb, data) -> bool:
        """One optimisation step; False when the NaN guard refused the batch (no update)."""
        if self._optimizer is None:
            self._ensure_built(xb)
            self._reg_cache = None
        if self._reg_cache is None:
            self._scan_layers()
        optimizer = self._optimizer
        scale = getattr(data, "loss_scale", None)  # set only while sharded (distributed)
        forward = self._ddp if scale is not None else None
        with self._autocast():
            y_pred = self._forward_for_loss(xb, forward)
            self._check_once(data, yb, y_pred)
            loss = self._loss_value(yb, y_pred, wb, scale)
        guard = self._guard
        if guard is not None and guard.bad_loss(loss, xb):
            return False
        optimizer.zero_grad(set_to_none=True)
        clip = self._spec is not None and self._spec.clips
        if self._scaler is not None:
            self._scaler.scale(loss).backward()
            if clip:
                self._scaler.unscale_(optimizer)
                self._spec.clip_(list(self.model.parameters()))
            self._scaler.step(optimizer)
            self._scaler.update()
        else:
            loss.backward()
            if clip:
                self._spec.clip_(list(self.model.parameters()))
            optimizer.step()
        for layer in self._constrained:  # Keras projects constrained weights after each update
            layer.apply_constraints()
        # A scaled loss counts for 1/scale samples: summed over the ranks that is the
        # global batch mean weighted by the global batch size.
        self._track(yb, y_pred, wb, loss, len(xb) if scale is None else 1.0 / scale)
        return True

    # ------------------------------------------------------------------ loops
    def _test_loop(self, data: Any, cbs: CallbackList | None, progress: ProgressDisplay):
        was_training = self.model.training
        self.model.eval()
        self._reset_metrics()
        progress.begin(data.steps)
        step = 0
        checked, self._checked = self._checked, False
        try:
            with torch.inference_mode():
                for step, (xb, yb, wb) in enumerate(data.epoch(), 1):
                    if cbs is not None:
                        cbs.on_test_batch_begin(step - 1)
                    with self._autocast():
                        y_pred = self._forward_for_loss(xb)
                        self._check_once(data, yb, y_pred)
                        loss = self._loss_value(yb, y_pred, wb)
                    self._track(yb, y_pred, wb, loss, len(xb))
                    if cbs is not None:
                        cbs.on_test_batch_end(step - 1, self._logs())
                    progress.update(step, self._logs)
        finally:
            self.model.train(was_training)
            self._checked = checked
        if getattr(data, "sharded", False):  # a validation part of a distributed fit
            reduce_metrics(self)
        logs = self._logs()
        progress.end(step, logs)
        return logs

    def _result(self, logs: dict[str, float], return_dict: bool) -> Any:
        if return_dict:
            return logs
        values = [logs["loss"], *(logs[m.name] for m in self.metrics)]
        return values[0] if len(values) == 1 else values

    def evaluate(
        self,
        x=None,
        y=None,
        batch_size=None,
        verbose="auto",
        sample_weight=None,
        steps=None,
        callbacks=None,
        return_dict=False,
    ) -> Any:
        """Loss and metrics on ``x``/``y``: ``[loss, *metrics]`` (a float with no metrics).

        With ``return_dict=True``: ``{"loss": ..., "accuracy": ...}``.
        """
        if self.loss is None and needs_loss(self, "test_step"):
            raise invalid_value(
                "evaluate(): the model was compiled without a loss.", received={"loss": None}
            )
        batch_size = 32 if batch_size is None else batch_size
        check_positive_int(batch_size, "batch_size")
        check_positive_int(steps, "steps", allow_none=True)
        verbose = check_verbose(verbose)
        data = make_data(
            x,
            y,
            sample_weight,
            batch_size=batch_size,
            device=self.device,
            shuffle=False,
            generator=None,
            steps=steps,
            role="evaluate",
        )
        if isinstance(data, ArrayData):
            if data.y is None:
                raise _no_labels()
            check_lengths(data.x, data.y, data.w)
        cbs = CallbackList(
            callbacks,
            model=self.model,
            params={"epochs": 1, "steps": data.steps, "verbose": verbose},
        )
        cbs.on_test_begin()
        with custom_steps(self, train=False) as custom:
            logs = self._test_loop(data, cbs, ProgressDisplay(verbose))
        cbs.on_test_end(logs)
        if custom is not None:  # the model's own test_step chose the names
            values = list(logs.values())
            return logs if return_dict else values[0] if len(values) == 1 else values
        return self._result(logs, return_dict)

    evaluate_generator = evaluate

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None) -> Any:
        """Model outputs for ``x`` as a NumPy array (probabilities for a softmax model)."""
        batch_size = 32 if batch_size is None else batch_size
        check_positive_int(batch_size, "batch_size")
        data = make_data(
            x,
            None,
            None,
            batch_size=batch_size,
            device=self.device,
            shuffle=False,
            generator=None,
            steps=steps,
            role="predict",
        )
        cbs = CallbackList(
            callbacks, model=self.model, params={"epochs": 1, "steps": data.steps, "verbose": 0}
        )
        cbs.on_predict_begin()
        # A model's own predict_step replaces the (possibly compiled) forward.
        forward = self.model.predict_step if overrides(self.model, "predict_step") else None
        out = predict_loop(
            self.model,
            forward or self._forward,
            data,
            ProgressDisplay(check_verbose(verbose)),
            self._autocast,
        )
        cbs.on_predict_end()
        return out

    predict_generator = predict

    # ------------------------------------------------------------------ single batches
    def _batch(self, x, y, sample_weight) -> tuple[Batch, ArrayData]:
        xt = as_tensor(x, self.device, name="x")
        yt = None if y is None else as_tensor(y, self.device, name="y")
        wt = None if sample_weight is None else as_tensor(sample_weight, self.device).float()
        check_lengths(xt, yt, wt)
        data = ArrayData(xt, yt, wt, len(xt))
        return next(data.epoch()), data

    def train_on_batch(
        self, x, y=None, sample_weight=None, class_weight=None, return_dict=False
    ) -> Any:
        """One optimizer step on one batch; returns its loss (and metrics)."""
        (xb, yb, wb), data = self._batch(x, y, sample_weight)
        self.model.train()
        self._reset_metrics()
        self._checked = False
        weights = batch_weights(yb, wb, class_weight_table(class_weight, self.device))
        self._train_step(xb, yb, weights, data)
        return self._result(self._logs(), return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False) -> Any:
        """Loss (and metrics) on one batch, without training."""
        _, data = self._batch(x, y, sample_weight)
        return self._result(self._test_loop(data, None, ProgressDisplay(0)), return_dict)

    def predict_on_batch(self, x) -> Any:
        """Outputs for one batch as NumPy."""
        return self.predict(x, batch_size=max(len(x), 1), verbose=0)
