"""Training state a custom ``train_step`` keeps on its model, for ``BackupAndRestore``.

A GAN holds one optimizer per sub-model (``self.d_optimizer``,
``self.g_optimizer``), its own loss trackers (``self.d_loss_tracker``) and maybe
a ``keras.random.SeedGenerator``: none of them is part of the model's
``state_dict`` or of the trainer. :func:`capture_extra` finds every such
attribute of the model (by name, sorted) and returns (tensors, JSON), stored
beside the trainer's own state; :func:`restore_extra` loads them back. An
optimizer that has not built its torch optimizer yet (a resumed run before its
first ``apply``) keeps the state until it does.
"""

from __future__ import annotations

from typing import Any

import torch

from cnnkit.training._metric_base import Metric
from cnnkit.training._optimizer_apply import SpecApplyMixin
from cnnkit.training._random import SeedGenerator
from cnnkit.training._state import flatten_optimizer, unflatten_optimizer

__all__ = ["capture_extra", "restore_extra"]


def _attributes(trainer: Any, kind: tuple[type, ...]) -> list[tuple[str, Any]]:
    own = {id(trainer._optimizer), id(trainer.loss_tracker), *(id(m) for m in trainer.metrics)}
    return sorted(
        (name, value)
        for name, value in vars(trainer.model).items()
        if isinstance(value, kind) and id(value) not in own
    )


def _optimizers(trainer: Any) -> list[tuple[str, Any]]:
    return _attributes(trainer, (SpecApplyMixin, torch.optim.Optimizer))


def capture_extra(trainer: Any) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The model-held optimizers, metrics and seed generators as (tensors, JSON)."""
    tensors: dict[str, torch.Tensor] = {}
    meta: dict[str, Any] = {"optimizers": {}, "metrics": [], "seeds": []}
    for name, optimizer in _optimizers(trainer):
        state = optimizer.state_dict()
        if state is not None:
            opt_tensors, opt_meta = flatten_optimizer(state, prefix=f"optim@{name}")
            tensors |= opt_tensors
            meta["optimizers"][name] = opt_meta
    for name, metric in _attributes(trainer, (Metric,)):
        meta["metrics"].append(name)
        for j, value in enumerate(metric._state or []):
            tensors[f"metric@{name}/{j}"] = value
    for name, seed in _attributes(trainer, (SeedGenerator,)):
        meta["seeds"].append(name)
        tensors[f"rng@{name}"] = seed.torch_generator.get_state()
    return tensors, meta


def restore_extra(trainer: Any, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    """Inverse of :func:`capture_extra` (attributes missing from the model are skipped)."""
    model = vars(trainer.model)
    for name, opt_meta in meta["optimizers"].items():
        if name in model:
            model[name].load_state_dict(
                unflatten_optimizer(tensors, opt_meta, prefix=f"optim@{name}")
            )
    for name in meta["metrics"]:
        if isinstance(model.get(name), Metric):
            found = sorted(
                (k for k in tensors if k.startswith(f"metric@{name}/")),
                key=lambda k: int(k.rsplit("/", 1)[1]),
            )
            model[name]._state = [tensors[k].to(trainer.device) for k in found] or None
    for name in meta["seeds"]:
        if isinstance(model.get(name), SeedGenerator):
            model[name].torch_generator.set_state(tensors[f"rng@{name}"])
