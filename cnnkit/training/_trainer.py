"""``Trainer``: what ``model.compile`` creates; runs ``fit`` on any ``nn.Module``.

The model takes and returns Keras-layout tensors (NHWC images). ``fit`` draws
one permutation per epoch from the trainer's own ``torch.Generator`` (seeded
from torch's global seed, so ``set_random_seed`` makes runs repeatable) and
batches by index gather. Metrics stay on the device; the progress display
reads them at most 10 times per second.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.callbacks._base import Callback, CallbackList, History
from cnnkit.training._checks import (
    check_positive_int,
    check_validation_split,
    check_verbose,
    ignore_loader_arguments,
    step_count,
)
from cnnkit.training._compile import build_forward
from cnnkit.training._data import ArrayData, SequenceData
from cnnkit.training._ddp import agree_stop, distribute_fit, reduce_metrics
from cnnkit.training._engine import (
    autocast_factory,
    configure_threads,
    grad_scaler,
    resolve_device,
)
from cnnkit.training._fit_inputs import batch_weights, class_weight_table, fit_data, loss_weight
from cnnkit.training._heads import find_final_activation
from cnnkit.training._losses import get_loss
from cnnkit.training._metrics import Mean, get_metric
from cnnkit.training._optimizers import get_optimizer
from cnnkit.training._progress import ProgressDisplay
from cnnkit.training._steps import StepsMixin

__all__ = ["Trainer"]

# Keras compile() arguments that have no meaning in this engine and are accepted silently.
_KERAS_IGNORED = frozenset(
    {"weighted_metrics", "run_eagerly", "steps_per_execution", "auto_scale_loss", "jit"}
)


def _needs_batch_logs(cb: Callback) -> bool:
    """Whether ``cb`` does anything per batch (else the engine skips building batch logs)."""
    explicit = getattr(cb, "needs_batch_logs", None)
    if explicit is not None:
        return bool(explicit)
    cls = type(cb)
    return any(
        getattr(cls, hook) is not getattr(Callback, hook)
        for hook in ("on_train_batch_end", "on_train_batch_begin", "on_batch_end", "on_batch_begin")
        if hasattr(Callback, hook)
    )


class Trainer(StepsMixin):
    """Compiled training configuration of one model (``model.compile`` creates it).

    Args:
        model: Any ``torch.nn.Module`` mapping a Keras-layout batch to outputs.
        optimizer: Name, cnnkit optimizer spec or torch optimizer (default Adam 1e-3).
        loss: Loss name or :class:`~cnnkit.training.losses.Loss`; needed for fit/evaluate.
        metrics: List of metric names (``"accuracy"``, ``"top_5_accuracy"``, ...) or metrics.
        loss_weights: Scale of the (single) loss, a number or a one-element list/dict.
        device: ``"auto"`` (cuda > mps > cpu), ``"cpu"``, ``"cuda"``, ``"mps"``.
        mixed_precision: None, ``"bf16"`` or ``"fp16"`` (with loss scaling).
        jit_compile: Run the forward pass through ``torch.compile``.
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: Any = "adam",
        loss: Any = None,
        metrics: Any = None,
        loss_weights: Any = None,
        *,
        device: Any = "auto",
        mixed_precision: Any = None,
        jit_compile: bool = False,
        **keras_ignored: Any,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise invalid_type(
                "Trainer: `model` must be a torch.nn.Module.",
                received={"model": type(model).__name__},
            )
        unknown = sorted(set(keras_ignored) - _KERAS_IGNORED)
        if unknown:
            raise invalid_type(
                f"compile() got unexpected keyword argument(s) {unknown}.",
                received={k: keras_ignored[k] for k in unknown},
                choices=[
                    "optimizer",
                    "loss",
                    "metrics",
                    "loss_weights",
                    "device",
                    "mixed_precision",
                    "jit_compile",
                ],
            )
        configure_threads()
        self.model = model
        self.device = resolve_device(device)
        model.to(self.device)
        self.loss = None if loss is None else get_loss(loss)
        self.loss_weight = loss_weight(loss_weights)
        metric_list = [] if metrics is None else metrics
        if isinstance(metric_list, (str, dict)) or not hasattr(metric_list, "__iter__"):
            metric_list = [metric_list]
        self.metrics = [get_metric(m) for m in metric_list]
        self.loss_tracker = Mean("loss")
        self._autocast = autocast_factory(mixed_precision, self.device)
        self._scaler = grad_scaler(mixed_precision, self.device)
        self._forward = build_forward(model, jit_compile, self.device)
        self._ddp: nn.Module | None = None  # the DDP wrapper while a distributed fit runs
        self._optimizer_arg = optimizer
        self._optimizer: torch.optim.Optimizer | None = None
        self._spec: Any = None
        self._final = None
        # The data order follows torch's global seed without consuming from it.
        self.data_order = torch.Generator().manual_seed(torch.initial_seed())
        self._resume: tuple[int, int] | None = None
        self._checked = False
        self._pending_state: dict[str, Any] | None = None
        self._reg_cache: list[Any] | None = None  # layers with regularizers (found lazily)
        self._constrained: list[Any] = []  # layers with weight constraints
        self._aux_models: list[Any] = []  # models with training-only auxiliary heads
        self._position = (0, 0)
        self._epoch_order_state = self.data_order.get_state()
        self.callbacks: list[Callback] = []
        self.history: History | None = None
        if any(p.numel() for p in model.parameters()):
            self._build_optimizer()
        else:
            self._check_optimizer_name(optimizer)
        self._configure_head()

    # ------------------------------------------------------------------ set-up helpers
    def _check_optimizer_name(self, optimizer: Any) -> None:
        # A lazily built model has no parameters yet; still reject a bad name now.
        from cnnkit.training._optimizers import _BY_NAME

        if isinstance(optimizer, str) and optimizer.lower() not in _BY_NAME:
            get_optimizer(optimizer, [])

    def _build_optimizer(self) -> None:
        self._optimizer, self._spec = get_optimizer(self._optimizer_arg, self.model.parameters())

    def _configure_head(self) -> None:
        final = find_final_activation(self.model)
        pairs = None if self.loss is None else self.loss.pairs_with
        if final is not None and self.loss is not None and final.kind == pairs:
            if self.loss.from_logits:
                import warnings

                warnings.warn(
                    f"The model ends in a {final.kind} but the loss was given from_logits=True, "
                    "so the probabilities are treated as logits. Use from_logits=False (the "
                    "default): cnnkit then computes the loss stably from the logits.",
                    UserWarning,
                    stacklevel=4,
                )
                final = None
        else:
            final = None
        self._final = final

    @property
    def optimizer(self) -> torch.optim.Optimizer:
        """The torch optimizer (built at compile, or at the first batch of a lazy model)."""
        if self._optimizer is None:
            self._build_optimizer()
        return self._optimizer  # type: ignore[return-value]

    def _ensure_built(self, x: torch.Tensor) -> None:
        """Build a lazily shaped model with one forward pass before the optimizer exists."""
        if self._optimizer is not None:
            return
        was_training = self.model.training
        self.model.eval()
        with torch.no_grad():
            self._forward(x[:1])
        self.model.train(was_training)
        self._build_optimizer()

    # ------------------------------------------------------------------ logs
    def _logs(self) -> dict[str, float]:
        logs = {m.name: m.result_float() for m in self.metrics}
        logs["loss"] = self.loss_tracker.result_float()
        return logs

    def _reset_metrics(self) -> None:
        self.loss_tracker.reset()
        for m in self.metrics:
            m.reset()

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: Any = "auto",
        callbacks: list[Callback] | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool = True,
        class_weight: dict[int, float] | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | float | None = None,
        validation_steps: int | float | None = None,
        workers: int | None = None,
        use_multiprocessing: bool | None = None,
        max_queue_size: int | None = None,
    ) -> History:
        """Train for ``epochs`` epochs; Keras' arguments and semantics. Returns a ``History``.

        ``x`` is an array/tensor ``(samples, H, W, C)`` with ``y``, a Keras-style
        Sequence, or an iterable of ``(x, y[, sample_weight])`` batches. Batch size
        defaults to 32. Float step counts (Keras 2's ``len(x) / 32``) are rounded up;
        Keras 2's ``workers``/``use_multiprocessing``/``max_queue_size`` are ignored
        with a one-time warning. Inside a ``torch.distributed`` group (e.g. under
        ``cnnkit.training.distributed.launch``) array inputs are trained data-parallel,
        ``batch_size`` being the global batch (see :mod:`cnnkit.training._ddp`).
        """
        ignore_loader_arguments(
            workers=workers, use_multiprocessing=use_multiprocessing, max_queue_size=max_queue_size
        )
        if self.loss is None:
            raise invalid_value(
                "fit(): the model was compiled without a loss.",
                received={"loss": None},
                hint="compile(optimizer=..., loss='sparse_categorical_crossentropy', ...)",
            )
        if x is None:
            raise invalid_value("fit(): `x` (the training data) is required.", received={"x": None})
        batch_size = 32 if batch_size is None else batch_size
        check_positive_int(batch_size, "batch_size")
        check_positive_int(epochs, "epochs", minimum=0)
        check_positive_int(initial_epoch, "initial_epoch", minimum=0)
        steps_per_epoch = step_count(steps_per_epoch, "steps_per_epoch")
        validation_steps = step_count(validation_steps, "validation_steps")
        verbose = check_verbose(verbose)
        split = check_validation_split(validation_split, x)
        data, val_data = fit_data(
            x,
            y,
            sample_weight,
            batch_size=batch_size,
            shuffle=bool(shuffle),
            steps=steps_per_epoch,
            split=split,
            validation_data=validation_data,
            validation_steps=validation_steps,
            device=self.device,
            generator=self.data_order,
        )
        data, val_data, callbacks, verbose = distribute_fit(
            self, data, val_data, callbacks, verbose
        )
        class_w = class_weight_table(class_weight, self.device)
        history = History()
        self.history = history
        self.callbacks = list(callbacks or [])
        cbs = CallbackList(
            [history, *self.callbacks],
            model=self.model,
            params={"epochs": epochs, "steps": data.steps, "verbose": verbose},
        )
        for cb in self.callbacks:
            if hasattr(cb, "set_trainer"):
                cb.set_trainer(self)
        batch_cbs = any(_needs_batch_logs(cb) for cb in self.callbacks)
        # Hooks that must run after every callback has handled the batch/epoch (backups).
        after_batch = [cb.after_train_batch_end for cb in self.callbacks
                       if hasattr(cb, "after_train_batch_end")]  # fmt: skip
        after_epoch = [
            cb.after_epoch_end for cb in self.callbacks if hasattr(cb, "after_epoch_end")
        ]
        self.model.stop_training = False
        self._reg_cache = None  # layers may have changed since the last fit
        self.model.history = history
        self._checked = False
        progress = ProgressDisplay(verbose, epochs)
        self._position = (initial_epoch, 0)
        self._epoch_order_state = self.data_order.get_state()
        if isinstance(data, ArrayData) and self._optimizer is None:
            self._ensure_built(data.x[:1].float())  # a backup can only load into built layers
        cbs.on_train_begin()
        self._apply_pending_state()
        start_epoch, start_step = self._resume or (initial_epoch, 0)
        resumed_mid_epoch = self._resume is not None and start_step > 0
        self._resume = None
        if isinstance(data, SequenceData):
            # A Sequence keeps its own epoch counter (orders, augmentation draws): replay
            # the epoch ends a resumed run skipped.
            for _ in range(start_epoch - initial_epoch):
                data.end_epoch()
        logs: dict[str, float] = {}
        for epoch in range(start_epoch, epochs):
            self.model.train()
            if not resumed_mid_epoch:
                self._reset_metrics()
            resumed_mid_epoch = False
            cbs.on_epoch_begin(epoch)
            self._epoch_order_state = self.data_order.get_state()
            progress.begin(data.steps, epoch)
            step = start_step
            for step, (xb, yb, wb) in enumerate(data.epoch(start_step), start_step + 1):
                if batch_cbs:
                    cbs.on_train_batch_begin(step - 1)
                self._train_step(xb, yb, batch_weights(yb, wb, class_w), data)
                self._position = (epoch, step)
                if batch_cbs:
                    cbs.on_train_batch_end(step - 1, self._logs())
                    for hook in after_batch:
                        hook(step - 1)
                progress.update(step, self._logs)
                if batch_cbs and self._ddp is not None:
                    self.model.stop_training = agree_stop(self.model.stop_training, self.device)
                if self.model.stop_training:
                    break
            start_step = 0
            if self._ddp is not None:
                reduce_metrics(self)
            logs = self._logs()
            if val_data is not None:
                val = self._test_loop(val_data, None, ProgressDisplay(0))
                logs.update({f"val_{k}": v for k, v in val.items()})
            logs["learning_rate"] = float(self.optimizer.param_groups[0]["lr"])
            self._position = (epoch + 1, 0)
            self._epoch_order_state = self.data_order.get_state()
            progress.end(step, logs)
            cbs.on_epoch_end(epoch, logs)
            for hook in after_epoch:
                hook(epoch)
            if self._ddp is not None:
                self.model.stop_training = agree_stop(self.model.stop_training, self.device)
            if self.model.stop_training:
                break
        cbs.on_train_end(logs)
        self._ddp = None
        return history

    fit_generator = fit
