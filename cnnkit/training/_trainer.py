"""``Trainer``: what ``model.compile`` creates; runs ``fit`` on any ``nn.Module``.

The shape of ``cnnkit.training`` (imports run downward in this list; nothing
here imports ``cnnkit.models``, which sits *above* the engine):

* ``_trainer.Trainer`` (this module): the compiled configuration of one model:
  device, loss, metrics, optimizer, precision, and ``self._forward``, the
  possibly compiled forward, built in exactly one place (``__init__``).
  ``fit`` checks its arguments, turns the data into adapters and hands them
  to a ``FitLoop``.
* ``_fit_loop.FitLoop``: one ``fit`` call as named steps: ``_begin`` (callbacks,
  history, resume), per epoch ``_train_epoch`` / ``_end_epoch`` (validation,
  epoch hooks) / ``_should_stop``, then ``_finish``.
* ``_steps.StepsMixin``: one batch (``_train_step(xb, yb, wb, data)``: forward,
  loss, backward, optimizer step, on-device metrics), the evaluation loop
  (``_test_loop``, shared by ``evaluate`` and the validation pass),
  ``evaluate``/``predict`` and the single-batch APIs.
* ``_loss_terms.LossTermsMixin``: the loss of one batch (compiled loss, penalties,
  auxiliary heads). ``_resume.ResumeMixin``: ``get/set_training_state`` for
  ``BackupAndRestore``.
* below them: ``_data``/``_fit_inputs`` (adapters), ``_ddp`` (data-parallel hooks),
  ``_engine`` (device, precision, threads), ``_progress``, ``_losses``,
  ``_metrics``, ``_optimizers``, ``_heads``, ``_state``.

How a model reaches the trainer: ``cnnkit.models.Model.compile`` (in
``cnnkit/models/_training_api.py``) constructs ``Trainer(model, ...)`` and keeps
it on the model; ``model.fit`` calls ``trainer.fit``. The trainer reads only
this of a model, so a plain ``nn.Module`` works too: ``__call__`` on a
Keras-layout batch, ``parameters()``/``modules()``/``train()``/``eval()``/
``state_dict()``; it sets ``model.stop_training`` and ``model.history``
(callbacks set ``stop_training = True`` to end ``fit``); and it asks, when
present, for cnnkit ``Layer`` penalties/constraints and ``auxiliary_loss``.

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
from cnnkit.callbacks._base import Callback, History
from cnnkit.training._checks import (
    check_positive_int,
    check_validation_split,
    check_verbose,
    ignore_loader_arguments,
    step_count,
)
from cnnkit.training._compile import build_forward
from cnnkit.training._custom_step import custom_steps, needs_loss
from cnnkit.training._ddp import distribute_fit
from cnnkit.training._engine import (
    apply_channels_last,
    autocast_factory,
    configure_threads,
    grad_scaler,
    resolve_device,
)
from cnnkit.training._fit_inputs import class_weight_table, fit_data, loss_weight
from cnnkit.training._fit_loop import FitLoop
from cnnkit.training._heads import find_final_activation
from cnnkit.training._losses import get_loss
from cnnkit.training._metrics import Mean, get_metric
from cnnkit.training._nonfinite import check_mode
from cnnkit.training._optimizers import get_optimizer
from cnnkit.training._steps import StepsMixin

__all__ = ["Trainer"]

# Keras compile() arguments that have no meaning in this engine and are accepted silently.
_KERAS_IGNORED = frozenset(
    {"weighted_metrics", "run_eagerly", "steps_per_execution", "auto_scale_loss", "jit"}
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
        channels_last: cnnkit's extra (Keras has none): also store 4-D weights in
            ``torch.channels_last`` memory format (batches already are). Default False.
        jit_compile: Ask for a compiled forward pass; the policy in
            :mod:`cnnkit.training._compile` decides per device: on CPU and MPS it
            runs eagerly and says so in one warning line (inductor does not win its
            compile time back around oneDNN convolutions); on CUDA each mode (train,
            evaluate, predict) runs eagerly for its first 60 s, then
            ``torch.compile`` compiles one static batch shape, with ragged batches
            run eagerly and smaller evaluate/predict batches padded. Default False.
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
        channels_last: bool = False,
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
                    "channels_last",
                ],
            )
        configure_threads()
        self.model = model
        self.device = resolve_device(device)
        model.to(self.device)
        apply_channels_last(model, channels_last)
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
        self._guard: Any = None  # the NaN guard while a fit runs (_nonfinite.py)
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
        on_nonfinite: str = "stop",
    ) -> History:
        """Train for ``epochs`` epochs; Keras' arguments and semantics. Returns a ``History``.

        ``x`` is an array/tensor ``(samples, H, W, C)`` with ``y``, a Keras-style
        Sequence, or an iterable of ``(x, y[, sample_weight])`` batches. Batch size
        defaults to 32. Float step counts (Keras 2's ``len(x) / 32``) are rounded up;
        Keras 2's ``workers``/``use_multiprocessing``/``max_queue_size`` are ignored
        with a one-time warning. Inside a ``torch.distributed`` group (e.g. under
        ``cnnkit.training.distributed.launch``) array inputs are trained data-parallel,
        ``batch_size`` being the global batch (see :mod:`cnnkit.training._ddp`).

        ``on_nonfinite="stop"`` (default) ends ``fit`` at the first NaN or infinite
        training loss, with the weights and optimizer state from before that batch
        and a ``RuntimeWarning`` naming the epoch, the batch and what to check;
        ``"continue"`` trains on (Keras' behaviour) and warns once. See
        :mod:`cnnkit.training._nonfinite`.
        """
        ignore_loader_arguments(
            workers=workers, use_multiprocessing=use_multiprocessing, max_queue_size=max_queue_size
        )
        if self.loss is None and needs_loss(self, "train_step"):
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
        verbose = check_verbose(verbose)
        on_nonfinite = check_mode(on_nonfinite)
        data, val_data = fit_data(
            x,
            y,
            sample_weight,
            batch_size=batch_size,
            shuffle=bool(shuffle),
            steps=step_count(steps_per_epoch, "steps_per_epoch"),
            split=check_validation_split(validation_split, x),
            validation_data=validation_data,
            validation_steps=step_count(validation_steps, "validation_steps"),
            device=self.device,
            generator=self.data_order,
            require_labels=needs_loss(self, "train_step"),
        )
        data, val_data, callbacks, verbose = distribute_fit(
            self, data, val_data, callbacks, verbose
        )
        loop = FitLoop(
            self,
            data,
            val_data,
            list(callbacks or []),
            epochs=epochs,
            initial_epoch=initial_epoch,
            verbose=verbose,
            class_weights=class_weight_table(class_weight, self.device),
            on_nonfinite=on_nonfinite,
        )
        # Decided once per fit: a model's own train_step/test_step, or the built-in step.
        with custom_steps(self, train=True):
            return loop.run()

    fit_generator = fit
