"""``fine_tune``: the two-stage transfer recipe in one call.

Stage 1 trains the new head on the frozen pretrained body; stage 2 unfreezes
the deepest stage(s) and trains them with the head at ``lr × finetune_lr_factor``,
decaying to 0 along a cosine (``schedule="cosine"``).

Speed on a CPU (``cache=True``, the default): the frozen part of the network
is deterministic (the body runs with ``training=False`` and frozen weights),
so its output for an image never changes during training. ``fine_tune``
therefore decodes every image and runs the frozen prefix **once**, in a
single pass that stores both cut points (the input of the first unfrozen
stage-2 unit and the pooled features for the head), and trains each stage on
those tensors: the head stage costs seconds, the fine-tuning stage a fraction
of a full forward/backward pass. The price: augmentation is limited to fixed
views computed in that pass (``augment="flip"``: each training image as it is
and mirrored), not a new random variant every epoch. Pass ``cache=False`` to
train through the whole network on every batch instead, e.g. when the model
starts with its own augmentation layers (then caching is switched off
automatically).
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
from cnnkit.models._model import model_device
from cnnkit.transfer._extract import (
    collect,
    inference_layout,
    predict_with_labels,
    resolve_precision,
)
from cnnkit.transfer._head import replace_head
from cnnkit.transfer._stages import (
    UnitChain,
    adam,
    check_schedule,
    cut_point,
    fit_chain,
    loss_for,
    stage_callbacks,
    stage_line,
)
from cnnkit.transfer._tune_data import as_dataset, cache_cuts, check_augment, fit_xy
from cnnkit.transfer._units import find_base, freeze, model_units, unfreeze

__all__ = ["FineTuneResult", "default_unfreeze_from", "fine_tune"]


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


def _with_new_head(model: nn.Module, train: Any, classes: int | None, **head: Any) -> nn.Module:
    if not isinstance(model, ZooModel):
        return model
    n = classes or len(getattr(train, "class_names", None) or [])
    if n < 1:
        raise invalid_value(
            "fine_tune: cannot tell the number of classes; pass classes=N.",
            received={"classes": classes},
        )
    return replace_head(model, n, head["hidden"], head["dropout"])


def fine_tune(
    model: nn.Module,
    train: Any,
    val: Any = None,
    *,
    head_epochs: int = 10,
    epochs: int = 3,
    unfreeze_from: Any = None,
    lr: float = 1e-3,
    finetune_lr_factor: float = 0.1,
    schedule: str | None = "cosine",
    callbacks: list[Any] | None = None,
    batch_size: int = 32,
    classes: int | None = None,
    hidden: int | None = None,
    dropout: float = 0.2,
    augment: str | None = "flip",
    cache: bool = True,
    precision: str = "auto",
    verbose: Any = "auto",
) -> FineTuneResult:
    """Train a new head on a frozen pretrained body, then fine-tune its deepest stages.

    Args:
        model: A zoo model with ImageNet weights (a new head is added with
            :func:`replace_head`), or a model from :func:`replace_head`.
        train: Training data: a dataset from ``image_dataset_from_directory``, a
            folder of class sub-folders, or a pair ``(x, y)`` of 0..255 images and labels.
        val: Validation data of the same kinds, or None.
        head_epochs: Epochs of stage 1 (head only). Default 10 (seconds with the cache).
        epochs: Epochs of stage 2 (fine-tuning). Default 3; 0 skips it.
        unfreeze_from: Stage name, layer name or unit index where stage 2 starts;
            default the deepest stage (``default_unfreeze_from``).
        lr: Adam learning rate of stage 1. Default 1e-3.
        finetune_lr_factor: Stage 2 starts at ``lr × finetune_lr_factor``. Default 0.1.
        schedule: ``"cosine"`` (default): stage 2's rate decays to 0 along a cosine
            over its steps (``CosineDecay``), so it ends on small, careful updates;
            None: constant. A rate callback in ``callbacks`` overrides it.
        callbacks: Callbacks for both stages' ``fit``. With the cache they see the
            trained part of the network as ``callback.model``; its ``optimizer``
            is the stage's and its ``save`` saves the whole model.
        batch_size: Batch size of both stages and of the caching pass. Default 32.
        classes: Number of classes for a new head; default ``len(train.class_names)``.
        hidden, dropout: Passed to :func:`replace_head`.
        augment: ``"flip"`` (default): training images are also seen mirrored
            left-right (with the cache: each one cached as it is and mirrored;
            without: mirrored at random per batch). None: no augmentation.
            Mirroring suits most photos; pass None for images whose left and
            right differ in meaning (text, digits, road signs).
        cache: Run the frozen part once and train on its outputs (module docstring).
        precision: Of the caching pass, as ``extract_features``: ``"auto"``
            (bf16 where the device computes it natively), ``"float32"`` or
            ``"bf16"``. Training always runs in float32.
        verbose: ``fit``'s verbosity.

    Returns:
        A :class:`FineTuneResult`; ``print(result)`` shows the report.
    """
    mirrored = check_augment(augment)
    check_schedule(schedule)
    size_of = model if isinstance(model, ZooModel) else find_base(model)
    if size_of is not None:
        train = as_dataset(train, size_of.sample_shape[:2], batch_size, shuffle=not cache)
        val = as_dataset(val, size_of.sample_shape[:2], batch_size, shuffle=False)
    model = _with_new_head(model, train, classes, hidden=hidden, dropout=dropout)
    base = find_base(model)
    if base is None:
        raise invalid_type(
            "fine_tune: `model` must be a zoo model or a model from replace_head.",
            received={"model": type(model).__name__},
        )
    resolve_precision(precision, model_device(model))  # rejects an unknown one before any work
    lines: list[str] = []
    freeze(model)
    units = model_units(model)
    head_cut = cut_point(units)
    unfreeze_from = default_unfreeze_from(base) if unfreeze_from is None else unfreeze_from
    # Resolve stage 2's start now (unfreeze, then freeze again) so one pass caches both cuts.
    unfreeze(model, unfreeze_from)
    tune_cut = min(cut_point(units), head_cut) if epochs else head_cut
    freeze(model)
    use_cache = cache and tune_cut > 0
    fit_kw = {"batch_size": batch_size, "verbose": verbose}
    classes_out = getattr(units[-1].module, "units", None) or 2
    tune_lr = lr * finetune_lr_factor

    started = time.perf_counter()
    if use_cache:
        cuts = (tune_cut, head_cut)
        tr = cache_cuts(
            model, units, cuts, train, batch_size, mirrored=mirrored, precision=precision
        )
        va = (
            None
            if val is None
            else cache_cuts(model, units, cuts, val, batch_size, precision=precision)
        )
        shown = f"{len(tr[2]) // (2 if mirrored else 1)} training images"
        lines.append(
            f"cached: {shown}{' and their mirror images' if mirrored else ''} → "
            f"{tuple(tr[0].shape[1:])} at '{units[tune_cut].path}' and {tr[1].shape[1]} "
            f"features at '{units[head_cut].path}' in one pass "
            f"({time.perf_counter() - started:.0f} s, {tr[3]})"
        )
        loss = loss_for(tr[2], classes_out)
        head = fit_chain(
            UnitChain(units[head_cut:], model),
            tr[1],
            tr[2],
            None if va is None else (va[1], va[2]),
            lr=lr,
            epochs=head_epochs,
            loss=loss,
            callbacks=callbacks,
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
        loss = "sparse_categorical_crossentropy" if classes_out > 1 else "binary_crossentropy"
        model.compile(optimizer=adam(lr), loss=loss, metrics=["accuracy"])
        train_x, train_y = fit_xy(train, mirrored, batch_size)
        head = model.fit(
            train_x, train_y, validation_data=val, epochs=head_epochs, callbacks=callbacks, **fit_kw
        )
    lines.append(stage_line("head", head, lr, model, f"{head_epochs} epochs, body frozen"))
    tuned = None
    if epochs:
        unfreeze(model, unfreeze_from)
        tune_callbacks = stage_callbacks(schedule, tune_lr, callbacks)
        if use_cache:
            tuned = fit_chain(
                UnitChain(units[tune_cut:], model),
                torch.from_numpy(tr[0]),
                tr[2],
                None if va is None else (torch.from_numpy(va[0]), va[2]),
                lr=tune_lr,
                epochs=epochs,
                loss=loss,
                callbacks=tune_callbacks,
                **fit_kw,
            )
        else:
            model.compile(optimizer=adam(tune_lr), loss=loss, metrics=["accuracy"])
            tuned = model.fit(
                train_x,
                train_y,
                validation_data=val,
                epochs=epochs,
                callbacks=tune_callbacks,
                **fit_kw,
            )
        decay = ", cosine decay to 0" if schedule == "cosine" else ""
        what = f"{epochs} epochs from '{unfreeze_from}'{decay}"
        lines.append(stage_line("fine-tune", tuned, tune_lr, model, what))
    lines.append(f"total {time.perf_counter() - started:.0f} s")
    merged = {k: list(v) for k, v in head.history.items()}
    head_len = len(merged.get("loss", []))
    for k, v in tuned.history.items() if tuned else []:
        merged.setdefault(k, [float("nan")] * head_len)
        merged[k].extend(v)
    result = FineTuneResult(model, head, tuned, merged, lines)
    if val is not None:
        if use_cache:
            chain = UnitChain(units[tune_cut:] if epochs else units[head_cut:], model)
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
