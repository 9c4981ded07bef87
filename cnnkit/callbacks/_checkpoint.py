"""ModelCheckpoint: save the model or its weights every epoch / N batches, or only when best."""

from __future__ import annotations

import os
import string
import warnings
from pathlib import Path
from typing import Any

from cnnkit._errors import close_matches, invalid_type, invalid_value
from cnnkit.callbacks._checks import check_freq, is_real, optional_number
from cnnkit.callbacks._monitor import MonitorCallback

__all__ = ["ModelCheckpoint"]

_MODEL_EXT = ".cnnkit"
_WEIGHTS_EXT = ".safetensors"  # also matches the recommended ".weights.safetensors"
_KERAS_MODEL_EXTS = (".keras", ".h5", ".hdf5")
_KERAS_WEIGHTS_EXTS = (".weights.h5", ".h5", ".hdf5")
# Names that clearly mean the other kind of file, for the error's hint.
_MODEL_EXTS = (_MODEL_EXT, ".keras")
_WEIGHTS_EXTS = (_WEIGHTS_EXT, ".weights.h5")


class ModelCheckpoint(MonitorCallback):
    """Save the model (``.cnnkit``) or its weights (``.safetensors``) during training.

    ``filepath`` may be a template filled from the epoch (1-based, as in Keras'
    file names), the batch (1-based, batch-level saves only) and the logs, e.g.
    ``"ckpt-{epoch:02d}-{val_loss:.3f}.cnnkit"`` → ``ckpt-03-0.412.cnnkit``. A key
    that is not available raises an error listing the keys that are.

    Args:
        filepath: Where to save; ``.cnnkit`` for the full model, ``.safetensors``
            (e.g. ``best.weights.safetensors``) with ``save_weights_only=True``.
            Keras names (``.keras``/``.h5``; ``.weights.h5``/``.hdf5`` for weights)
            are accepted with a warning and hold cnnkit's format.
        monitor: The metric compared by ``save_best_only``. Default ``"val_loss"``.
        verbose: 1 prints every save decision. Default 0.
        save_best_only: Save only when ``monitor`` improves on the best so far.
        save_weights_only: Save ``model.save_weights`` instead of ``model.save``.
        mode: ``"auto"``, ``"min"`` or ``"max"`` for ``monitor``.
        save_freq: ``"epoch"`` (default) or a positive integer number of batches.
        initial_value_threshold: With ``save_best_only``, a value the metric must
            beat before the first save. Default None.

    Attributes:
        best: The best monitored value saved so far (None before the first).
        last_saved: The path of the last file written, or None.

    Example:
        >>> from cnnkit.callbacks import ModelCheckpoint
        >>> ckpt = ModelCheckpoint("best.cnnkit", monitor="val_accuracy", save_best_only=True)
    """

    def __init__(
        self,
        filepath: str | os.PathLike[str],
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str | int = "epoch",
        initial_value_threshold: float | None = None,
    ) -> None:
        super().__init__(monitor=monitor, mode=mode)
        self.filepath = _check_filepath(filepath, bool(save_weights_only))
        self.template_keys = _template_keys(self.filepath)
        if initial_value_threshold is not None and not is_real(initial_value_threshold):
            raise invalid_type(
                "ModelCheckpoint: `initial_value_threshold` must be a number or None.",
                received={"initial_value_threshold": initial_value_threshold},
            )
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.save_freq = check_freq("ModelCheckpoint", "save_freq", save_freq)
        self.best = optional_number(initial_value_threshold)
        self.last_saved: str | None = None
        self._current_epoch = 0
        self._batches_since_save = 0
        self._last_batch_seen = -1

    @property
    def needs_batch_logs(self) -> bool:
        """Tells the engine whether to build per-batch logs: only for ``save_freq=N``."""
        return self.save_freq != "epoch"

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        # Keras keeps ``best`` across fit calls, so there is nothing to reset here.
        self._state_restored = False

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._current_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        if self.save_freq == "epoch":
            return
        # A batch index that does not grow means a new epoch began (Keras' rule).
        seen = batch + 1 if batch <= self._last_batch_seen else batch - self._last_batch_seen
        self._batches_since_save += seen
        self._last_batch_seen = batch
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._current_epoch, batch, logs or {})

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if self.save_freq == "epoch":
            self._save(epoch, None, logs or {})

    def file_path(self, epoch: int, batch: int | None, logs: dict[str, Any]) -> str:
        """The template filled for 0-based ``epoch`` / ``batch`` (shown 1-based) and ``logs``."""
        values: dict[str, Any] = {k: float(v) for k, v in logs.items()}
        values["epoch"] = epoch + 1
        if batch is not None:
            values["batch"] = batch + 1
        missing = [key for key in self.template_keys if key not in values]
        if missing:
            matches = close_matches(missing[0], values)
            raise invalid_value(
                f"ModelCheckpoint: the filepath template {self.filepath!r} uses the key "
                f"{missing[0]!r}, which is not available when saving.",
                received={"filepath": self.filepath},
                suggestion=", ".join(repr(m) for m in matches) if matches else None,
                choices=sorted(values),
            )
        try:
            return self.filepath.format(**values)
        except (ValueError, TypeError) as exc:
            raise invalid_value(
                f"ModelCheckpoint: cannot fill the filepath template {self.filepath!r}: {exc}.",
                received={"filepath": self.filepath},
                hint="Use {epoch:02d} for the epoch and {val_loss:.3f} for metrics.",
            ) from None

    def _save(self, epoch: int, batch: int | None, logs: dict[str, Any]) -> None:
        path = self.file_path(epoch, batch, logs)
        if self.save_best_only:
            current = self.get_monitor_value(logs)
            if current is None:
                return
            if not self.is_improvement(current, self.best):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best}")
                return
            if self.verbose > 0:
                print(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best} to "
                    f"{current}, saving model to {path}"
                )
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        self.last_saved = path

    def get_state(self) -> dict[str, Any]:
        """``{"best", "batches_since_save", "last_batch_seen"}`` (``best`` may be None)."""
        return {
            "best": self.best,
            "batches_since_save": self._batches_since_save,
            "last_batch_seen": self._last_batch_seen,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.best = optional_number(state.get("best"))
        self._batches_since_save = int(state.get("batches_since_save", 0))
        self._last_batch_seen = int(state.get("last_batch_seen", -1))
        self._mark_restored()


def _check_filepath(filepath: Any, weights_only: bool) -> str:
    """The path as a str, checked against ``save_weights_only`` like Keras checks it.

    Keras' own names (``best.h5``, ``model.keras``, ``weights.best.hdf5``) are
    accepted so course code runs unchanged; the file then holds cnnkit's format
    under that name (``load_model`` / ``load_weights`` read it), with a warning.
    """
    if not isinstance(filepath, (str, os.PathLike)):
        raise invalid_type(
            "ModelCheckpoint: `filepath` must be a path (str or pathlib.Path).",
            received={"filepath": filepath},
        )
    path = os.fspath(filepath)
    if weights_only:
        ours, keras, other = (_WEIGHTS_EXT,), _KERAS_WEIGHTS_EXTS, _MODEL_EXTS
    else:
        ours, keras, other = (_MODEL_EXT,), _KERAS_MODEL_EXTS, _WEIGHTS_EXTS
    lowered = path.lower()
    if lowered.endswith(ours):
        return path
    if lowered.endswith(keras) and not lowered.endswith(other):
        warnings.warn(
            f"ModelCheckpoint: {path!r} has a Keras extension; cnnkit writes its own "
            "safetensors format under that name (cnnkit's load_model/load_weights read it, "
            f"Keras does not). Prefer a name ending in {ours[0]!r}.",
            UserWarning,
            stacklevel=3,
        )
        return path
    if weights_only:
        raise invalid_value(
            "ModelCheckpoint: with `save_weights_only=True` the filepath must end in "
            "`.weights.safetensors` (or `.safetensors`).",
            received={"filepath": path},
            hint="A .cnnkit or .keras file is a whole model: drop save_weights_only=True."
            if lowered.endswith(other)
            else None,
        )
    raise invalid_value(
        "ModelCheckpoint: the filepath of a full-model checkpoint must end in `.cnnkit`.",
        received={"filepath": path},
        hint="A weights file name holds weights only: pass save_weights_only=True."
        if lowered.endswith(other)
        else None,
    )


def _template_keys(filepath: str) -> list[str]:
    """The names used in ``{...}`` fields of the template (``{epoch:02d}`` → ``epoch``)."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(filepath) if name is not None]
    except ValueError as exc:
        raise invalid_value(
            f"ModelCheckpoint: the filepath template is not a valid format string: {exc}.",
            received={"filepath": filepath},
            hint="Double literal braces: '{{' and '}}'.",
        ) from None
    keys = []
    for field in fields:
        key = field.split(".", 1)[0].split("[", 1)[0]
        if not key:
            raise invalid_value(
                "ModelCheckpoint: the filepath template has an unnamed field '{}'.",
                received={"filepath": filepath},
                hint="Name every field, e.g. {epoch:02d} or {val_loss:.3f}.",
            )
        keys.append(key)
    return keys
