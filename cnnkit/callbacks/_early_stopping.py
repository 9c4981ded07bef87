"""EarlyStopping: stop training when the monitored metric has stopped improving."""

from __future__ import annotations

import warnings
from typing import Any

import torch

from cnnkit.callbacks._checks import check_count, optional_number
from cnnkit.callbacks._monitor import MonitorCallback

__all__ = ["EarlyStopping"]


class EarlyStopping(MonitorCallback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs (Keras semantics).

    Args:
        monitor: The metric to watch. Default ``"val_loss"``.
        min_delta: Smallest change that counts as an improvement. Default 0.
        patience: Epochs without improvement after which training stops. Default 0.
        verbose: 1 prints when it stops and when it restores weights. Default 0.
        mode: ``"auto"`` (from the name: accuracy/AUC up, losses down), ``"min"``, ``"max"``.
        baseline: A value the metric must beat: improvements that stay short of
            it do not reset the patience count (Keras 3 rule). Default None.
        restore_best_weights: At the end of training, load the weights of the best
            epoch (kept as a CPU copy of the state dict). Default False.
        start_from_epoch: Epochs to wait before monitoring starts (warm-up). Default 0.

    Attributes:
        wait: Epochs since the last improvement. best: The best value seen.
        best_epoch: Its 0-based epoch. stopped_epoch: The 0-based epoch it stopped at (0 if not).

    Example:
        >>> from cnnkit.callbacks import EarlyStopping
        >>> stop = EarlyStopping(monitor="val_accuracy", patience=3, restore_best_weights=True)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__(monitor=monitor, mode=mode, min_delta=min_delta, baseline=baseline)
        self.patience = check_count("EarlyStopping", "patience", patience)
        self.start_from_epoch = check_count("EarlyStopping", "start_from_epoch", start_from_epoch)
        self.verbose = verbose
        self.restore_best_weights = bool(restore_best_weights)
        self.best_weights: dict[str, torch.Tensor] | None = None
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best: float | None = None
        self.best_epoch = 0
        self.best_weights = None
        # True when a resumed run knows the best value but not its weights (see set_state).
        self._best_weights_lost = False

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        self.wait += 1
        if self.is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = _cpu_copy(self.model.state_dict())
                self._best_weights_lost = False
            # Improving but still short of the baseline does not reset the patience.
            if self.baseline is None or self.is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if not self.restore_best_weights:
            return
        if self.best_weights is not None:
            if self.verbose > 0:
                print(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.load_state_dict(self.best_weights)
        elif self._best_weights_lost:
            warnings.warn(
                f"EarlyStopping: the best epoch ({self.best_epoch + 1}) came before training "
                "was resumed, and its weights are not part of a backup, so the final weights "
                "are kept instead of restored.",
                RuntimeWarning,
                stacklevel=2,
            )

    def get_state(self) -> dict[str, Any]:
        """``{"wait", "best", "best_epoch", "stopped_epoch"}`` (``best`` may be None)."""
        return {
            "wait": self.wait,
            "best": self.best,
            "best_epoch": self.best_epoch,
            "stopped_epoch": self.stopped_epoch,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.wait = int(state.get("wait", 0))
        self.best = optional_number(state.get("best"))
        self.best_epoch = int(state.get("best_epoch", 0))
        self.stopped_epoch = int(state.get("stopped_epoch", 0))
        self.best_weights = None
        self._best_weights_lost = self.restore_best_weights and self.best is not None
        self._mark_restored()


def _cpu_copy(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Cloned CPU tensors, so later optimizer steps cannot change the saved copy."""
    return {k: v.detach().to("cpu", copy=True) for k, v in state_dict.items()}
