"""The training stages of ``fine_tune``: a chain of units trained on cached inputs.

A stage trains the units after a cut point (:func:`cut_point`) with Adam,
through :class:`~cnnkit.training.Trainer`; :func:`stage_callbacks` adds the
stage-2 learning-rate schedule in front of the caller's callbacks, and
:func:`stage_line` writes the stage's line of the report.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from cnnkit._errors import unknown_name
from cnnkit.callbacks import CosineDecay, History
from cnnkit.layers import Dropout
from cnnkit.layers._augment import _RandomLayer
from cnnkit.transfer._units import Unit

__all__ = [
    "UnitChain",
    "adam",
    "check_schedule",
    "cut_point",
    "fit_chain",
    "loss_for",
    "stage_callbacks",
    "stage_line",
]

_SCHEDULES = ("cosine", None)


class UnitChain(nn.Sequential):
    """Units run in order with their forced training flags; shares their modules.

    It is what callbacks see as ``callback.model`` while a cached stage trains:
    ``optimizer`` is the stage's optimizer (learning-rate callbacks), and
    ``save``/``save_weights`` save the whole ``owner`` model, which holds the
    same modules (so ``ModelCheckpoint`` writes a model that takes images).

    Args:
        units: The units, in forward order.
        owner: The model they belong to.
    """

    def __init__(self, units: list[Unit], owner: nn.Module):
        super().__init__(*[u.module for u in units])
        self._flags = [u.training for u in units]
        # Not a submodule: registering it would put the whole model's parameters in the chain.
        self.__dict__["_owner"] = owner
        self.__dict__["_trainer"] = None

    def forward(self, x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        for module, flag in zip(self, self._flags, strict=True):
            x = module(x, training=flag if flag is not None else training)
        return x

    @property
    def optimizer(self) -> Any:
        """The torch optimizer of the stage training this chain (None before ``fit``)."""
        trainer = self.__dict__["_trainer"]
        return None if trainer is None else trainer.optimizer

    def save(self, *args: Any, **kwargs: Any) -> Any:
        """Save the whole model (``Model.save``); the chain's weights are its weights."""
        return self.__dict__["_owner"].save(*args, **kwargs)

    def save_weights(self, *args: Any, **kwargs: Any) -> Any:
        """``Model.save_weights`` of the whole model."""
        return self.__dict__["_owner"].save_weights(*args, **kwargs)


def cut_point(units: list[Unit]) -> int:
    """Index of the first unit whose output can change during training (trainable or random)."""
    for i, unit in enumerate(units):
        random = unit.training is not False and any(
            isinstance(m, (Dropout, _RandomLayer)) for m in unit.module.modules()
        )
        if random or any(p.requires_grad for p in unit.module.parameters()):
            return i
    return len(units)


def loss_for(labels: np.ndarray, classes: int) -> str:
    """Keras' loss name for ``classes`` outputs and integer or one-hot ``labels``."""
    if classes == 1:
        return "binary_crossentropy"
    return "categorical_crossentropy" if labels.ndim == 2 else "sparse_categorical_crossentropy"


def adam(lr: float) -> Any:
    """cnnkit's Adam at learning rate ``lr``."""
    from cnnkit.training.optimizers import Adam

    return Adam(learning_rate=lr)


def check_schedule(schedule: Any) -> None:
    """Reject anything but ``"cosine"`` and None with the template error."""
    if schedule not in _SCHEDULES:
        raise unknown_name("schedule", schedule, ["cosine", "None"], argument="schedule")


def stage_callbacks(schedule: str | None, lr: float, callbacks: list[Any] | None) -> list[Any]:
    """``callbacks`` with stage 2's schedule first, so a caller's own rate callback wins."""
    own = [CosineDecay(lr)] if schedule == "cosine" else []
    return own + list(callbacks or [])


def fit_chain(
    chain: UnitChain, x: Any, y: Any, val: Any, *, lr: float, epochs: int, loss: str, **fit_kw: Any
) -> History:
    """Train ``chain`` on cached inputs ``x`` with Adam at ``lr``; ``fit``'s History."""
    from cnnkit.training import Trainer

    trainer = Trainer(chain, optimizer=adam(lr), loss=loss, metrics=["accuracy"])
    chain.__dict__["_trainer"] = trainer
    return trainer.fit(x, y, validation_data=val, epochs=epochs, **fit_kw)


def stage_line(name: str, history: History, lr: float, model: nn.Module, what: str) -> str:
    """One line of the report: what trained, at which rate, and the last/best accuracy."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    h = history.history
    acc = h.get("val_accuracy") or h.get("accuracy") or [float("nan")]
    which = "val_accuracy" if "val_accuracy" in h else "accuracy"
    return (
        f"{name:<9} {what}, lr {lr:g}, {trainable:,} trainable parameters: "
        f"{which} {acc[-1]:.4f} (best {max(acc):.4f})"
    )
