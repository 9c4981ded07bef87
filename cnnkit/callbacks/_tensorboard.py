"""TensorBoard: real event files through ``torch.utils.tensorboard.SummaryWriter``."""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path
from typing import Any

import torch

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.callbacks._base import Callback
from cnnkit.callbacks._checks import check_freq, is_int_at_least

__all__ = ["TensorBoard"]

# Keras arguments that old course code passes; accepted, and warned about only when
# they ask for something cnnkit does not write.
_IGNORED_KERAS_ARGS = {
    "write_images": False,
    "profile_batch": 0,
    "embeddings_freq": 0,
    "embeddings_metadata": None,
}


def _summary_writer_class() -> type:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as exc:
        raise ImportError(
            "The TensorBoard callback needs the `tensorboard` package, which is not installed. "
            "Install it with: pip install 'cnnkit[tensorboard]'"
        ) from exc
    return SummaryWriter


class TensorBoard(Callback):
    """Log training to TensorBoard event files, laid out like Keras'.

    Under ``log_dir/train``: ``epoch_loss``, ``epoch_accuracy``, ... and
    ``epoch_learning_rate`` at step = 0-based epoch; under ``log_dir/validation``:
    the ``val_*`` logs without the prefix (``epoch_loss``, ``epoch_accuracy``).
    With an integer ``update_freq``, ``batch_loss``, ... every that many batches
    at step = batches done. With ``histogram_freq=N``, a histogram of every
    weight (tags like ``conv2d/weight``) every N epochs.

    Args:
        log_dir: Root folder of the run. Default ``"logs"``.
        histogram_freq: Epochs between weight histograms; 0 = none. Default 0.
        write_graph: Write the model graph (traced with a zero batch of
            ``model.input_shape``). Default False.
        update_freq: ``"epoch"`` (default) or a positive number of batches.
        write_steps_per_second: Also log ``epoch_steps_per_second``. Default False.
        **keras_args: ``write_images``, ``profile_batch``, ``embeddings_freq`` and
            ``embeddings_metadata`` are accepted for Keras code and not written.

    Raises:
        ImportError: If ``tensorboard`` is not installed (``cnnkit[tensorboard]``).

    Example:
        >>> from cnnkit.callbacks import TensorBoard
        >>> tb = TensorBoard(log_dir="logs/run1", histogram_freq=1)  # doctest: +SKIP
    """

    def __init__(
        self,
        log_dir: str | os.PathLike[str] = "logs",
        histogram_freq: int = 0,
        write_graph: bool = False,
        update_freq: str | int = "epoch",
        write_steps_per_second: bool = False,
        **keras_args: Any,
    ) -> None:
        super().__init__()
        self._writer_class = _summary_writer_class()
        if not isinstance(log_dir, (str, os.PathLike)):
            raise invalid_type(
                "TensorBoard: `log_dir` must be a path.", received={"log_dir": log_dir}
            )
        if not is_int_at_least(histogram_freq, 0):
            raise invalid_value(
                "TensorBoard: `histogram_freq` must be a whole number of epochs (0 = off).",
                received={"histogram_freq": histogram_freq},
            )
        _check_keras_args(keras_args)
        self.log_dir = Path(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = bool(write_graph)
        self.update_freq = check_freq("TensorBoard", "update_freq", update_freq)
        self.write_steps_per_second = bool(write_steps_per_second)
        self.global_step = 0
        self._writers: dict[str, Any] = {}
        self._epoch_start = (0, 0.0)

    @property
    def needs_batch_logs(self) -> bool:
        """Tells the engine whether to call the batch hooks: batch scalars or speed only."""
        return self.update_freq != "epoch" or self.write_steps_per_second

    def writer(self, split: str) -> Any:
        """The ``SummaryWriter`` of ``"train"`` or ``"validation"``, created on first use."""
        if split not in self._writers:
            self._writers[split] = self._writer_class(log_dir=str(self.log_dir / split))
        return self._writers[split]

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        if self.write_graph:
            self._log_graph()

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._epoch_start = (self.global_step, time.perf_counter())

    def on_train_batch_begin(self, batch: int, logs: dict[str, float] | None = None) -> None:
        # Counted when a batch begins, so a backup taken at any batch end sees batches done.
        self.global_step += 1

    def on_train_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        if self.update_freq == "epoch" or self.global_step % self.update_freq:
            return
        writer = self.writer("train")
        for name, value in (logs or {}).items():
            writer.add_scalar(f"batch_{name}", float(value), self.global_step)

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = dict(logs or {})
        optimizer = getattr(self.model, "optimizer", None)
        if "learning_rate" not in logs and hasattr(optimizer, "param_groups"):
            logs["learning_rate"] = float(optimizer.param_groups[0]["lr"])
        if self.write_steps_per_second:
            steps, start = self._epoch_start
            elapsed = time.perf_counter() - start
            if elapsed > 0:
                logs["steps_per_second"] = (self.global_step - steps) / elapsed
        for name, value in logs.items():
            split, tag = ("validation", name[4:]) if name.startswith("val_") else ("train", name)
            self.writer(split).add_scalar(f"epoch_{tag}", float(value), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def _log_weights(self, epoch: int) -> None:
        writer = self.writer("train")
        for name, tensor in self.model.state_dict().items():
            if tensor.is_floating_point() and tensor.numel() > 0:
                values = tensor.detach().float().cpu()
                writer.add_histogram(name.replace(".", "/"), values, epoch)

    def _log_graph(self) -> None:
        shape = getattr(self.model, "input_shape", None)
        if not shape:
            warnings.warn(
                "TensorBoard: write_graph=True needs `model.input_shape` to build an example "
                "input, and this model has none; the graph is not written.",
                RuntimeWarning,
                stacklevel=3,
            )
            return
        parameter = next(self.model.parameters(), None)
        device = parameter.device if parameter is not None else "cpu"
        example = torch.zeros((1, *tuple(shape)[1:]), device=device)
        was_training = self.model.training
        self.model.eval()
        try:
            with warnings.catch_warnings():
                # add_graph traces with torch.jit, which warns that it is deprecated and
                # that the layers' shape checks are not recorded: the drawn graph is still
                # right, and there is nothing a user can act on.
                warnings.filterwarnings("ignore", category=DeprecationWarning, module="torch")
                warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
                self.writer("train").add_graph(self.model, example)
        finally:
            self.model.train(was_training)

    def get_state(self) -> dict[str, Any]:
        """``{"global_step": n}``: batches done, the step of batch-level scalars."""
        return {"global_step": self.global_step}

    def set_state(self, state: dict[str, Any]) -> None:
        self.global_step = int(state.get("global_step", 0))


def _check_keras_args(keras_args: dict[str, Any]) -> None:
    for name, value in keras_args.items():
        if name not in _IGNORED_KERAS_ARGS:
            raise invalid_type(
                f"TensorBoard got an unexpected keyword argument {name!r}.",
                received={name: value},
                choices=sorted(_IGNORED_KERAS_ARGS),
            )
        if value and value != _IGNORED_KERAS_ARGS[name]:
            warnings.warn(
                f"TensorBoard: `{name}` is not supported by cnnkit and is ignored.",
                RuntimeWarning,
                stacklevel=3,
            )
