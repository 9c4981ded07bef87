"""``fine_tune``: the two-stage transfer recipe in one call.

Stage 1 trains the new head on the frozen pretrained body; stage 2 unfreezes
the deepest stage(s) and trains them with the head at ``lr × finetune_lr_factor``.

Speed on a CPU (``cache=True``, the default): the frozen part of the network
is deterministic (the body runs with ``training=False`` and frozen weights),
so its output for an image never changes during training. ``fine_tune``
therefore decodes every image and runs the frozen prefix **once**, in a
single pass that stores both cut points (the input of the first unfrozen
stage-2 unit and the pooled features for the head), and trains each stage on
those tensors: the head stage costs seconds, the fine-tuning stage a fraction
of a full forward/backward pass. The price: no random augmentation of the
images (the same cached tensor every epoch). Pass ``cache=False`` to train
through the whole network on every batch instead, e.g. when the model
starts with augmentation layers (then caching is switched off automatically).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.applications import ZooModel
from cnnkit.callbacks import History
from cnnkit.layers import Dropout
from cnnkit.layers._augment import _RandomLayer
from cnnkit.models._model import model_device
from cnnkit.transfer._extract import (
    collect,
    inference_layout,
    iter_batches,
    predict_with_labels,
    run_units,
)
from cnnkit.transfer._head import replace_head
from cnnkit.transfer._units import Unit, find_base, freeze, model_units, unfreeze

__all__ = ["FineTuneResult", "default_unfreeze_from", "fine_tune"]

#: Largest cache kept in memory before falling back to full passes.
MAX_CACHE_BYTES = 2 * 1024**3


class _Chain(nn.Sequential):
    """Units run in order with their forced training flags; shares the modules."""

    def __init__(self, units: list[Unit]):
        super().__init__(*[u.module for u in units])
        self._flags = [u.training for u in units]

    def forward(self, x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        for module, flag in zip(self, self._flags, strict=True):
            x = module(x, training=flag if flag is not None else training)
        return x


@dataclass
class FineTuneResult:
    """What :func:`fine_tune` returns; ``str(result)`` is a short report.

    Attributes:
        model: The trained model (pretrained body + new head).
        head_history: History of stage 1 (head only).
        finetune_history: History of stage 2 (deepest stages unfrozen), None if ``epochs=0``.
        history: Both stages' per-epoch values concatenated, e.g. ``history["val_accuracy"]``.
        lines: The report lines.
        val_predictions: Class probabilities of the final model on ``val``
            ``(N, classes)``, in the order of ``val_labels`` (None without ``val``).
        val_labels: The validation labels.
    """

    model: Any
    head_history: History
    finetune_history: History | None
    history: dict[str, list[float]] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    val_predictions: np.ndarray | None = None
    val_labels: np.ndarray | None = None

    def __str__(self) -> str:
        return "\n".join(self.lines)


def default_unfreeze_from(base: ZooModel) -> str:
    """The deepest stage of ``feature_info`` (before the final 1×1 ``head`` row, if any)."""
    rows = base.feature_info
    if len(rows) > 1 and rows[-1]["stage"] == "head":
        return rows[-2]["stage"]
    return rows[-1]["stage"]


def _first_trainable(units: list[Unit]) -> int:
    for i, unit in enumerate(units):
        if any(p.requires_grad for p in unit.module.parameters()):
            return i
    return len(units)


def _cut_point(units: list[Unit]) -> int:
    """First unit whose output can change during training (trainable or random)."""
    for i, unit in enumerate(units):
        random = unit.training is not False and any(
            isinstance(m, (Dropout, _RandomLayer)) for m in unit.module.modules()
        )
        if random or any(p.requires_grad for p in unit.module.parameters()):
            return i
    return len(units)


def _loss_for(labels: np.ndarray, classes: int) -> str:
    if classes == 1:
        return "binary_crossentropy"
    return "categorical_crossentropy" if labels.ndim == 2 else "sparse_categorical_crossentropy"


def _cache(model: nn.Module, units: list[Unit], cuts: tuple[int, int], data: Any, bs: int) -> Any:
    """One pass: ``(inputs of units[cuts[0]], inputs of units[cuts[1]], labels)``."""
    early, late = cuts
    base = find_base(model)
    batches, total = iter_batches(data, bs, None if base is None else base.sample_shape[:2])
    device = model_device(model)
    early_shape: list[tuple[int, ...]] = []

    def both(x: torch.Tensor) -> torch.Tensor:
        a = run_units(units[:early], x)
        b = run_units(units[early:late], a)
        early_shape[:] = [tuple(a.shape[1:])]
        return torch.cat([a.flatten(1), b.flatten(1)], dim=1)

    with inference_layout(model):
        flat, labels = collect(both, batches, total, device=device, verbose=True, label="caching")
    if labels is None:
        raise invalid_value("fine_tune: the data has no labels.", received={"labels": None})
    split = int(np.prod(early_shape[0]))
    return flat[:, :split].reshape(-1, *early_shape[0]), flat[:, split:], labels


def _xy(data: Any) -> tuple[Any, Any]:
    """``fit``'s ``(x, y)`` for an ``(images, labels)`` pair, ``(dataset, None)`` otherwise."""
    if isinstance(data, tuple) and len(data) == 2 and hasattr(data[0], "shape"):
        return data
    return data, None


def _adam(lr: float) -> Any:
    from cnnkit.training.optimizers import Adam

    return Adam(learning_rate=lr)


def _fit(
    module: nn.Module, x: Any, y: Any, val: Any, *, lr: float, epochs: int, **kw: Any
) -> History:
    from cnnkit.training import Trainer

    trainer = Trainer(module, optimizer=_adam(lr), loss=kw.pop("loss"), metrics=["accuracy"])
    return trainer.fit(x, y, validation_data=val, epochs=epochs, **kw)


def fine_tune(
    model: nn.Module,
    train: Any,
    val: Any = None,
    *,
    head_epochs: int = 5,
    epochs: int = 5,
    unfreeze_from: Any = None,
    lr: float = 1e-3,
    finetune_lr_factor: float = 0.1,
    callbacks: list[Any] | None = None,
    batch_size: int = 32,
    classes: int | None = None,
    hidden: int | None = None,
    dropout: float = 0.2,
    cache: bool = True,
    verbose: Any = "auto",
) -> FineTuneResult:
    """Train a new head on a frozen pretrained body, then fine-tune its deepest stages.

    Args:
        model: A zoo model with ImageNet weights (a new head is added with
            :func:`replace_head`), or a model from :func:`replace_head`.
        train: Training data: a dataset from ``image_dataset_from_directory``, a
            folder, or a pair ``(x, y)`` of 0..255 images and labels.
        val: Validation data of the same kinds, or None.
        head_epochs: Epochs of stage 1 (head only). Default 5.
        epochs: Epochs of stage 2 (fine-tuning). Default 5; 0 skips it.
        unfreeze_from: Stage name, layer name or unit index where stage 2 starts;
            default the deepest stage (``default_unfreeze_from``).
        lr: Adam learning rate of stage 1. Default 1e-3.
        finetune_lr_factor: Stage 2 uses ``lr × finetune_lr_factor``. Default 0.1.
        callbacks: Callbacks for both stages' ``fit``. With ``cache=True`` they see
            the trained part of the network as ``callback.model``.
        batch_size: Batch size of both stages and of the caching pass. Default 32.
        classes: Number of classes for a new head; default ``len(train.class_names)``.
        hidden, dropout: Passed to :func:`replace_head`.
        cache: Run the frozen part once and train on its outputs (module docstring).
        verbose: ``fit``'s verbosity.

    Returns:
        A :class:`FineTuneResult`; ``print(result)`` shows the report.
    """
    if isinstance(model, ZooModel):
        n = classes or len(getattr(train, "class_names", None) or [])
        if n < 1:
            raise invalid_value(
                "fine_tune: cannot tell the number of classes; pass classes=N.",
                received={"classes": classes},
            )
        model = replace_head(model, n, hidden, dropout)
    base = find_base(model)
    if base is None:
        raise invalid_type(
            "fine_tune: `model` must be a zoo model or a model from replace_head.",
            received={"model": type(model).__name__},
        )
    lines: list[str] = []
    freeze(model)
    units = model_units(model)
    head_cut = _cut_point(units)
    unfreeze_from = default_unfreeze_from(base) if unfreeze_from is None else unfreeze_from
    # Resolve stage 2's start now (unfreeze, then freeze again) so one pass caches both cuts.
    unfreeze(model, unfreeze_from)
    tune_cut = min(_cut_point(units), head_cut) if epochs else head_cut
    freeze(model)
    use_cache = cache and tune_cut > 0
    fit_kw = {"batch_size": batch_size, "callbacks": callbacks, "verbose": verbose}
    classes_out = units[-1].module.units if hasattr(units[-1].module, "units") else None

    started = time.perf_counter()
    if use_cache:
        tr = _cache(model, units, (tune_cut, head_cut), train, batch_size)
        va = None if val is None else _cache(model, units, (tune_cut, head_cut), val, batch_size)
        lines.append(
            f"cached: {len(tr[2])} training images → {tuple(tr[0].shape[1:])} at "
            f"'{units[tune_cut].path}' and {tr[1].shape[1]} features at '{units[head_cut].path}' "
            f"in one pass ({time.perf_counter() - started:.0f} s)"
        )
        loss = _loss_for(tr[2], classes_out or 2)
        head_val = None if va is None else (va[1], va[2])
        head = _fit(
            _Chain(units[head_cut:]),
            tr[1],
            tr[2],
            head_val,
            lr=lr,
            epochs=head_epochs,
            loss=loss,
            **fit_kw,
        )
    else:
        if cache:
            warnings.warn(
                "fine_tune: the network starts with random layers, so nothing is "
                "cached; every epoch runs the whole network.",
                UserWarning,
                stacklevel=2,
            )
        loss = (
            "sparse_categorical_crossentropy" if (classes_out or 2) > 1 else "binary_crossentropy"
        )
        model.compile(optimizer=_adam(lr), loss=loss, metrics=["accuracy"])
        head = model.fit(*_xy(train), validation_data=val, epochs=head_epochs, **fit_kw)
    lines.append(_stage_line("head", head, lr, model, f"{head_epochs} epochs, body frozen"))
    tuned = None
    if epochs:
        unfreeze(model, unfreeze_from)
        tune_lr = lr * finetune_lr_factor
        if use_cache:
            tune_val = None if va is None else (torch.from_numpy(va[0]), va[2])
            tuned = _fit(
                _Chain(units[tune_cut:]),
                torch.from_numpy(tr[0]),
                tr[2],
                tune_val,
                lr=tune_lr,
                epochs=epochs,
                loss=loss,
                **fit_kw,
            )
        else:
            model.compile(optimizer=_adam(tune_lr), loss=loss, metrics=["accuracy"])
            tuned = model.fit(*_xy(train), validation_data=val, epochs=epochs, **fit_kw)
        lines.append(
            _stage_line(
                "fine-tune", tuned, tune_lr, model, f"{epochs} epochs from '{unfreeze_from}'"
            )
        )
    lines.append(f"total {time.perf_counter() - started:.0f} s")
    merged = {k: list(v) for k, v in head.history.items()}
    head_len = len(merged.get("loss", []))
    for k, v in tuned.history.items() if tuned else []:
        merged.setdefault(k, [float("nan")] * head_len)
        merged[k].extend(v)
    result = FineTuneResult(model, head, tuned, merged, lines)
    if val is not None:
        if use_cache:
            chain = _Chain(units[tune_cut:] if epochs else units[head_cut:])
            inputs = torch.from_numpy(va[0] if epochs else va[1])
            with inference_layout(chain):
                result.val_predictions, _ = collect(
                    chain,
                    [(inputs[i : i + batch_size], None) for i in range(0, len(inputs), batch_size)],
                    None,
                    device=model_device(model),
                    verbose=False,
                )
            result.val_labels = va[2]
        else:
            result.val_predictions, result.val_labels = predict_with_labels(model, val, batch_size)
    return result


def _stage_line(name: str, history: History, lr: float, model: nn.Module, what: str) -> str:
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    h = history.history
    acc = h.get("val_accuracy") or h.get("accuracy") or [float("nan")]
    which = "val_accuracy" if "val_accuracy" in h else "accuracy"
    return (
        f"{name:<9} {what}, lr {lr:g}, {trainable:,} trainable parameters: "
        f"{which} {acc[-1]:.4f} (best {max(acc):.4f})"
    )
