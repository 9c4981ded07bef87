"""The NaN guard of ``fit``: a non-finite loss stops training with the weights from before it.

``fit(on_nonfinite="stop")`` (the default) works in one of two ways, chosen by
where a host read is cheap:

* **exact** (CPU, MPS): the step asks :meth:`NonFiniteGuard.bad_loss` before the
  backward pass. Reading one scalar there costs about a microsecond on a CPU,
  where nothing runs ahead of Python anyway. A bad loss skips the update, so the
  weights and the optimizer state are exactly those from before the batch;
  nothing is copied, ever.
* **deferred** (CUDA, distributed runs): reading the loss every step would stall
  the GPU queue, so the loss tracker's running sum (non-finite from the first
  bad batch on) is read only at check points, every ``CHECK_SECONDS`` and at
  the epoch end (only there in a distributed run, whose epoch logs are the same
  on every rank), with a device-side record of the first bad step.
  At each finite check point the weights and optimizer state are copied into a
  reused buffer; a bad check restores that copy (the state a few batches before
  the bad one) and says so.

A model's own ``train_step`` applies its update before the engine sees its
loss, so for it the guard reads the returned dict instead (every value whose key
contains ``"loss"``, else every value): after each step in the exact mode, at the
epoch end in the deferred mode. It stops ``fit`` and says that the bad batch's
update has been applied (:meth:`NonFiniteGuard.bad_step_logs`).

``fit(on_nonfinite="continue")`` trains on, as Keras does, and warns once per
``fit`` at the end of the first epoch whose loss is not finite.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any

import torch

from cnnkit._errors import invalid_value

__all__ = [
    "CHECK_SECONDS",
    "DEFERRED_DEVICES",
    "MODES",
    "NonFiniteGuard",
    "check_mode",
    "watched_losses",
]

MODES = ("stop", "continue")
#: Device types whose host reads stall a queue of work, so the check is deferred.
DEFERRED_DEVICES = ("cuda",)
#: Seconds between two reads of the loss (and snapshots) in the deferred mode.
CHECK_SECONDS = 0.5


def check_mode(on_nonfinite: Any) -> str:
    """``on_nonfinite`` checked against :data:`MODES`."""
    if on_nonfinite not in MODES:
        raise invalid_value(
            "fit(): unknown `on_nonfinite`.",
            received={"on_nonfinite": on_nonfinite},
            choices=list(MODES),
        )
    return on_nonfinite


def watched_losses(logs: dict[str, Any]) -> dict[str, Any]:
    """The entries of a step's logs the guard watches: keys containing "loss", else all."""
    losses = {k: v for k, v in logs.items() if "loss" in k}
    return losses or dict(logs)


def _nonfinite_keys(logs: dict[str, Any]) -> list[str]:
    return [k for k, v in watched_losses(logs).items() if not math.isfinite(float(v))]


class _Snapshot:
    """Weights, buffers and optimizer state copied into buffers that are reused."""

    def __init__(self) -> None:
        self.position: tuple[int, int] | None = None
        self._model: list[tuple[torch.Tensor, torch.Tensor]] = []
        self._optim: dict[Any, dict[str, Any]] = {}

    def take(self, model: torch.nn.Module, optimizer: Any, position: tuple[int, int]) -> None:
        with torch.no_grad():
            tensors = list(model.state_dict().values())
            if len(self._model) != len(tensors):
                self._model = [(t, t.detach().clone()) for t in tensors]
            else:
                for t, copy in self._model:
                    copy.copy_(t)
            self._optim = {
                p: {k: v.detach().clone() if torch.is_tensor(v) else v for k, v in s.items()}
                for p, s in optimizer.state.items()
            }
        self.position = position

    def restore(self, optimizer: Any) -> None:
        with torch.no_grad():
            for t, copy in self._model:
                t.copy_(copy)
        for p in list(optimizer.state):
            if p not in self._optim:
                del optimizer.state[p]  # state created after the snapshot (a first step)
        for p, saved in self._optim.items():
            optimizer.state[p] = {k: v.clone() if torch.is_tensor(v) else v
                                  for k, v in saved.items()}  # fmt: skip


class NonFiniteGuard:
    """Watches the training loss of one ``fit`` call.

    Args:
        trainer: The trainer whose ``loss_tracker``, model and optimizer are watched.
        mode: ``"stop"`` or ``"continue"``.
        epochs: Epochs of the run (for the message).
        steps: Batches per epoch, or None when unknown (for the message).
        epoch_end_only: Deferred mode, checked at epoch ends only (distributed runs,
            whose epoch logs are identical on every rank).
        deferred: Force the deferred mode (default: on CUDA, or ``epoch_end_only``).
    """

    def __init__(
        self,
        trainer: Any,
        mode: str,
        *,
        epochs: int | None = None,
        steps: int | None = None,
        epoch_end_only: bool = False,
        deferred: bool | None = None,
    ) -> None:
        self.trainer = trainer
        self.mode = mode
        self.epochs, self.steps = epochs, steps
        self.epoch_end_only = epoch_end_only
        if deferred is None:
            deferred = trainer.device.type in DEFERRED_DEVICES or epoch_end_only
        self.deferred = deferred
        self.exact = mode == "stop" and not self.deferred
        #: ``(epoch, batch)``, 0-based, of the first non-finite loss, once found.
        self.found_at: tuple[int, int] | None = None
        self._bad_batch: Any = None  # (x min, x max, has non-finite) of the bad batch
        self._warned = False
        self._snapshot = _Snapshot()
        self._first_bad: torch.Tensor | None = None
        self._next_check = 0.0
        #: Keys of a custom ``train_step``'s dict that were not finite, once found.
        self._custom_keys: list[str] | None = None

    # ------------------------------------------------------------------ exact mode
    def bad_loss(self, loss: torch.Tensor, xb: torch.Tensor) -> bool:
        """True (and the update must be skipped) when ``loss`` is not finite; exact mode only."""
        if not self.exact or bool(torch.isfinite(loss.detach())):
            return False
        x = xb.detach().float()
        self._bad_batch = (float(x.nan_to_num().min()), float(x.nan_to_num().max()),
                           not bool(torch.isfinite(x).all()))  # fmt: skip
        return True

    def bad_step_logs(self, logs: dict[str, Any], xb: Any) -> bool:
        """True when a custom ``train_step``'s ``logs`` hold a non-finite loss; exact mode only.

        The step has already updated the weights, so unlike :meth:`bad_loss`
        nothing is skipped: ``fit`` stops after this batch and says so.
        """
        if not self.exact:
            return False
        bad = _nonfinite_keys(logs)
        if not bad:
            return False
        self._custom_keys = bad
        if isinstance(xb, torch.Tensor):
            x = xb.detach().float()
            self._bad_batch = (float(x.nan_to_num().min()), float(x.nan_to_num().max()),
                               not bool(torch.isfinite(x).all()))  # fmt: skip
        return True

    # ------------------------------------------------------------------ per step / epoch
    def begin_epoch(self, epoch: int) -> None:
        """Deferred mode: a snapshot of the epoch's starting state."""
        if self.mode == "stop" and self.deferred:
            self._first_bad = None
            self._take(epoch, 0)

    def after_step(self, epoch: int, step: int, skipped: bool) -> bool:
        """Whether ``fit`` must stop after 1-based ``step`` (``skipped``: exact-mode hit)."""
        if skipped:
            self.found_at = (epoch, step - 1)
            self._report(restored_from=None)
            return True
        if self.mode != "stop" or not self.deferred:
            return False
        total = self._running_sum()
        if total is None:
            return False
        bad = ~torch.isfinite(total)
        here = torch.full_like(total, float(step))
        first = self._first_bad
        self._first_bad = torch.where(bad & ~(first >= 0), here, first) if first is not None \
            else torch.where(bad, here, torch.full_like(total, -1.0))  # fmt: skip
        now = time.perf_counter()
        if self.epoch_end_only or now < self._next_check:
            return False
        return self._check(epoch, step, now)

    def end_epoch(self, epoch: int, step: int, logs: dict[str, float]) -> bool:
        """Epoch-end check on the logs already read; True when ``fit`` must stop."""
        custom = self._custom_keys is not None or getattr(self.trainer, "_custom_active", False)
        if custom:
            bad = _nonfinite_keys(logs)
            loss = logs[bad[0]] if bad else None
        else:
            loss = logs.get("loss")
        if loss is None or math.isfinite(loss):
            return False
        if self.mode == "continue":
            if not self._warned:
                self._warned = True
                warnings.warn(
                    f"The training loss is {loss} at the end of epoch {epoch + 1}; training "
                    "goes on because fit(on_nonfinite='continue'). " + _ADVICE,
                    RuntimeWarning,
                    stacklevel=5,
                )
            return False
        if custom and self.deferred:
            self._custom_keys = bad
            self.found_at = (epoch, max(step - 1, 0))
            self._report(restored_from=None)
            return True
        return self.deferred and self._check(epoch, step, time.perf_counter())

    # ------------------------------------------------------------------ deferred mode
    def _running_sum(self) -> torch.Tensor | None:
        state = getattr(self.trainer.loss_tracker, "_state", None)
        return None if not state else state[0].detach()

    def _take(self, epoch: int, step: int) -> None:
        self._snapshot.take(self.trainer.model, self.trainer.optimizer, (epoch, step))
        self._next_check = time.perf_counter() + CHECK_SECONDS if CHECK_SECONDS else 0.0

    def _check(self, epoch: int, step: int, now: float) -> bool:
        first = self._first_bad
        if first is None or float(first) < 0:
            self._take(epoch, step)
            return False
        self.found_at = (epoch, int(float(first)) - 1)
        self._snapshot.restore(self.trainer.optimizer)
        self._report(restored_from=self._snapshot.position)
        return True

    # ------------------------------------------------------------------ the message
    def _report(self, restored_from: tuple[int, int] | None) -> None:
        epoch, batch = self.found_at or (0, 0)
        where = f"epoch {epoch + 1}" + (f"/{self.epochs}" if self.epochs else "")
        where += f", batch {batch + 1}" + (f"/{self.steps}" if self.steps else "")
        if self._custom_keys is not None:
            names = ", ".join(repr(k) for k in self._custom_keys)
            kept = (
                f"train_step() returned a non-finite {names}. A custom train_step updates the "
                "weights itself, so they are those after that batch (restore a checkpoint, "
                "e.g. with BackupAndRestore or ModelCheckpoint)."
            )
            if self.deferred:
                where = f"epoch {epoch + 1}" + (f"/{self.epochs}" if self.epochs else "")
                where += " (checked at the epoch end)"
        elif restored_from is None:
            kept = "The weights and optimizer state are those from before that batch."
        else:
            e, b = restored_from
            at = f"after batch {b} of epoch {e + 1}" if b else f"at the start of epoch {e + 1}"
            kept = (
                f"The weights and optimizer state were restored to those {at} "
                "(the last check before the bad batch)."
            )
        optimizer = getattr(self.trainer, "_optimizer", None)
        groups = getattr(optimizer, "param_groups", None)
        rate = f"now {float(groups[0]['lr']):.4g}; try 10x smaller" if groups else "try 10x smaller"
        batch_range = ""
        if self._bad_batch is not None:
            lo, hi, nonfinite = self._bad_batch
            batch_range = f" That batch's inputs range from {lo:.4g} to {hi:.4g}" + (
                " and contain NaN or inf values." if nonfinite else "."
            )
        warnings.warn(
            f"fit() stopped: the training loss became NaN or infinite at {where} (1-based). "
            f"{kept} Check the learning rate ({rate}) and the input "
            f"range.{batch_range} " + _ADVICE,
            RuntimeWarning,
            stacklevel=5,
        )


_ADVICE = (
    "Inputs should be finite and scaled (e.g. x / 255.0 for 0..255 images), labels within "
    "[0, classes). Pass fit(on_nonfinite='continue') to train on regardless."
)
