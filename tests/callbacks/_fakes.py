"""A minimal model and a hook driver that stand in for ``fit`` in the callback tests.

The driver calls the hooks in the order the engine does, so each test is a table of
per-epoch logs in and observable effects out (stop epoch, learning rates, files).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

from cnnkit.callbacks import Callback, CallbackList


class FakeModel(nn.Module):
    """One Dense-like layer, a torch optimizer and the save methods the callbacks use.

    Args:
        lrs: One learning rate per optimizer param group.
        optimizer: ``"sgd"`` (momentum 0.9) or ``"adam"``.
    """

    def __init__(self, lrs: Sequence[float] = (0.1,), optimizer: str = "sgd") -> None:
        super().__init__()
        self.dense = nn.Linear(3, 2)
        self.extra = nn.Linear(2, 2)
        self.input_shape = (None, 3)
        params = [self.dense.parameters(), self.extra.parameters()][: len(lrs)]
        groups = [{"params": list(p), "lr": lr} for p, lr in zip(params, lrs, strict=True)]
        if optimizer == "adam":
            self.optimizer: torch.optim.Optimizer = torch.optim.Adam(groups)
        else:
            self.optimizer = torch.optim.SGD(groups, momentum=0.9)
        self.stop_training = False
        self.saved: list[tuple[str, str]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.extra(torch.relu(self.dense(x)))

    def lrs(self) -> list[float]:
        return [float(g["lr"]) for g in self.optimizer.param_groups]

    def fill(self, value: float) -> None:
        """Set every weight to ``value``: stands in for the training of one epoch."""
        with torch.no_grad():
            for p in self.parameters():
                p.fill_(value)

    def save(self, path: str | os.PathLike[str]) -> None:
        save_file(dict(self.state_dict()), os.fspath(path))
        self.saved.append(("model", os.fspath(path)))

    def save_weights(self, path: str | os.PathLike[str]) -> None:
        save_file(dict(self.state_dict()), os.fspath(path))
        self.saved.append(("weights", os.fspath(path)))


def drive(
    callbacks: Callback | Sequence[Callback],
    epoch_logs: Sequence[dict[str, float]],
    *,
    model: FakeModel | None = None,
    steps: int = 0,
    batch_logs: Callable[[int, int], dict[str, float]] | None = None,
    initial_epoch: int = 0,
    start_batch: int = 0,
    crash_after: tuple[int, int] | None = None,
    begin: bool = True,
    end: bool = True,
) -> int:
    """Run the hooks like ``fit`` and return how many epochs ran.

    Epoch ``e`` (0-based, counted from 0 even when ``initial_epoch`` > 0) gets
    ``epoch_logs[e - initial_epoch]``; its weights are filled with ``e`` at the
    start of the epoch, so restored weights tell which epoch they came from.
    ``start_batch`` skips the first batches of the first epoch (a mid-epoch resume);
    ``crash_after=(epoch, batch)`` returns right after that batch (a crash).
    """
    model = model if model is not None else FakeModel()
    cbs = [callbacks] if isinstance(callbacks, Callback) else list(callbacks)
    total = initial_epoch + len(epoch_logs)
    cb_list = CallbackList(
        cbs, model=model, params={"epochs": total, "steps": steps or None, "verbose": 0}
    )
    if begin:
        cb_list.on_train_begin()
    ran = 0
    for epoch in range(initial_epoch, total):
        model.fill(float(epoch))
        cb_list.on_epoch_begin(epoch)
        first = start_batch if epoch == initial_epoch else 0
        for batch in range(first, steps):
            cb_list.on_train_batch_begin(batch)
            cb_list.on_train_batch_end(batch, batch_logs(epoch, batch) if batch_logs else {})
            if crash_after == (epoch, batch):
                return ran
        cb_list.on_epoch_end(epoch, dict(epoch_logs[epoch - initial_epoch]))
        ran += 1
        if model.stop_training:
            break
    if end:
        cb_list.on_train_end()
    return ran


def series(key: str, values: Sequence[float], **extra: float) -> list[dict[str, float]]:
    """Epoch logs with ``key`` taking ``values`` in turn (plus constant ``extra`` keys)."""
    return [{key: float(v), **extra} for v in values]


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(os.fspath(path))
