"""What ``fit``/``evaluate``/``predict`` iterate over: arrays, Keras Sequences, iterables.

In-memory arrays become tensors on the device once (uint8 stays uint8) and are
batched by index gather from one permutation per epoch, drawn from the
engine's own ``torch.Generator``; each batch is cast to float on the device.
Nothing happens per sample in Python. Sequences (``__len__`` + ``__getitem__``
returning whole batches, e.g. ``ImageDataGenerator.flow``) and iterables
(datasets, generators) yield whole batches already.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from cnnkit._errors import invalid_type, invalid_value

__all__ = ["ArrayData", "Batch", "IterableData", "SequenceData", "as_tensor", "make_data"]

Batch = tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]


#: Rows converted per chunk from float64: bounds the temporary to a few MB whatever the array.
_CHUNK_BYTES = 8 << 20


def _float32_copy(arr: np.ndarray) -> torch.Tensor:
    """A float32 tensor of a float64 array, converted in row chunks.

    One float32 allocation and no full-size temporary: converting a
    60,000x28x28x1 ``x / 255.0`` array costs its 188 MB of float32 on top of the
    user's 376 MB, not a contiguous float64 copy as well (strided arrays).
    """
    out = torch.empty(arr.shape, dtype=torch.float32)
    flat = out.numpy()
    if arr.ndim == 0 or arr.size == 0:
        flat[...] = arr
        return out
    rows = max(1, _CHUNK_BYTES // max(1, arr[0].nbytes))
    for start in range(0, len(arr), rows):
        flat[start : start + rows] = arr[start : start + rows]
    return out


def to_device(t: torch.Tensor, device: torch.device, *, pin: bool = False) -> torch.Tensor:
    """``t`` on ``device``; with ``pin``, a CPU tensor bound for CUDA goes through pinned
    (page-locked) memory so the copy is asynchronous and overlaps the running step."""
    if pin and device.type == "cuda" and t.device.type == "cpu":
        t = t.pin_memory()
    return t.to(device, non_blocking=True)


def as_tensor(
    value: Any, device: torch.device, *, name: str = "x", pin: bool = False
) -> torch.Tensor:
    """``value`` as a tensor on ``device``; float64 -> float32, other dtypes kept.

    NumPy arrays are wrapped without a copy where possible (uint8 stays uint8),
    so a 60,000-image MNIST array costs 47 MB, not 188 MB of float32. Float64
    arrays (a course's ``x / 255.0``) are converted to float32 once, in chunks.
    ``pin``: see ``to_device`` (per-batch data from Sequences and iterables; whole
    arrays are copied to the device once and need no pinning).
    """
    if isinstance(value, torch.Tensor):
        t = value
    else:
        arr = np.asarray(value)
        if arr.dtype == object or not (
            np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_
        ):
            raise invalid_type(
                f"`{name}` must hold numbers.",
                expected="a numeric NumPy array or torch tensor",
                received={f"{name}.dtype": str(arr.dtype)},
            )
        if arr.dtype == np.float64:
            return to_device(_float32_copy(arr), device, pin=pin)
        with warnings.catch_warnings():
            # Read-only arrays (np.frombuffer, memory maps) are fine: batches are gathered
            # copies and the engine never writes into the data.
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            t = torch.from_numpy(np.ascontiguousarray(arr))
    if t.dtype == torch.float64:
        t = t.float()
    elif t.dtype == torch.bool:
        t = t.to(torch.uint8)
    return to_device(t, device, pin=pin)


def _input_float(x: torch.Tensor) -> torch.Tensor:
    # Keras feeds uint8 images as float values 0..255; the model does any scaling.
    return x if x.is_floating_point() else x.float()


class ArrayData:
    """In-memory ``x``/``y``/``sample_weight`` batched by index gather.

    Args:
        x: Inputs, ``(samples, ...)`` tensor already on the device.
        y: Targets or None (predict).
        sample_weight: ``(samples,)`` weights or None.
        batch_size: Samples per batch; the last batch may be smaller.
        shuffle: Draw a new permutation every epoch.
        generator: The engine's data-order generator (CPU).
        steps: Cap on batches per epoch (``steps_per_epoch``); None for all.
    """

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor | None,
        sample_weight: torch.Tensor | None,
        batch_size: int,
        *,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
        steps: int | None = None,
    ) -> None:
        self.x, self.y, self.w = x, y, sample_weight
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.num_samples = len(x)
        full = -(-self.num_samples // batch_size)
        self.steps: int | None = full if steps is None else min(steps, full)
        # Distributed training (cnnkit.training._ddp): (rank, world_size) when every
        # batch is a global batch of which this process takes its slice, and
        # ``loss_scale`` = world_size / samples in the current global batch.
        self.shard: tuple[int, int] | None = None
        self.loss_scale: float | None = None
        self.sharded = False  # True for a validation part whose sums are all-reduced

    def epoch(self, start: int = 0) -> Iterator[Batch]:
        """Yield the batches of one epoch, skipping the first ``start`` (resume)."""
        order = None
        if self.shuffle:
            order = torch.randperm(self.num_samples, generator=self.generator)
            order = order.to(self.x.device)
        elif self.shard is not None:
            order = torch.arange(self.num_samples, device=self.x.device)
        bs = self.batch_size
        for step in range(start, self.steps or 0):
            if order is None:
                sl = slice(step * bs, (step + 1) * bs)
                yield (
                    _input_float(self.x[sl]),
                    None if self.y is None else self.y[sl],
                    None if self.w is None else self.w[sl],
                )
                continue
            idx = order[step * bs : (step + 1) * bs]
            weights = self.w
            if self.shard is not None:
                rank, world = self.shard
                self.loss_scale = world / len(idx)
                part = idx.tensor_split(world)[rank]
                if len(part) == 0:
                    # A last global batch smaller than world_size leaves this rank none: a
                    # zero-weight stand-in keeps it in DDP's all-reduce and out of the sums.
                    part, weights = idx[:1], torch.zeros(len(self.x), device=self.x.device)
                idx = part
            yield (
                _input_float(self.x.index_select(0, idx)),
                None if self.y is None else self.y.index_select(0, idx),
                None if weights is None else weights.index_select(0, idx),
            )


def _unpack(batch: Any, device: torch.device) -> Batch:
    """A yielded ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, w)`` as device tensors."""
    if isinstance(batch, dict) or not isinstance(batch, (tuple, list)):
        parts: tuple[Any, ...] = (batch,)
    else:
        parts = tuple(batch)
    if not 1 <= len(parts) <= 3:
        raise invalid_value(
            "A batch from the data must be x, (x,), (x, y) or (x, y, sample_weight).",
            received={"len(batch)": len(parts)},
        )
    x = _input_float(as_tensor(parts[0], device, name="x", pin=True))
    has_y = len(parts) > 1 and parts[1] is not None
    y = as_tensor(parts[1], device, name="y", pin=True) if has_y else None
    w = as_tensor(parts[2], device, name="sample_weight", pin=True) if len(parts) > 2 else None
    w = None if w is None else w.float()
    return x, y, w


class SequenceData:
    """A Keras ``Sequence``-like object: ``len(seq)`` batches, ``seq[i]`` is batch ``i``.

    Without ``steps`` (or with ``steps == len(seq)``) an epoch is one pass in a
    fresh order. With any other ``steps`` (``steps_per_epoch``/``validation_steps``)
    the Sequence is an endless stream, as Keras 2's enqueuer made it: each epoch
    takes the next ``steps`` batches, continuing where the last one stopped and
    starting a new pass (a new order, ``on_epoch_end``) whenever one is used up,
    so ``steps_per_epoch`` may exceed ``len(seq)``. With ``shuffle`` every pass
    permutes the batch order; ``seq.on_epoch_end()`` is called after every pass.
    """

    def __init__(
        self,
        seq: Any,
        device: torch.device,
        *,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
        steps: int | None = None,
    ) -> None:
        self.seq, self.device = seq, device
        self.shuffle, self.generator = shuffle, generator
        n = len(seq)
        self.steps: int | None = n if steps is None else steps
        self.stream = steps is not None and steps != n and n > 0
        self._order: list[int] = []
        self._cursor = 0  # position in the current pass (stream mode)

    def _new_order(self) -> list[int]:
        n = len(self.seq)
        if self.shuffle:
            return torch.randperm(n, generator=self.generator).tolist()
        return list(range(n))

    def epoch(self, start: int = 0) -> Iterator[Batch]:
        if not self.stream:
            order = self._new_order()
            for step in range(start, self.steps or 0):
                yield _unpack(self.seq[order[step]], self.device)
            self.end_epoch()
            return
        for step in range(self.steps or 0):
            if self._cursor == 0:
                self._order = self._new_order()
            index = self._order[self._cursor]
            self._cursor += 1
            if self._cursor == len(self._order):
                self._cursor = 0
            if step >= start:  # a resumed epoch skips its first batches without reading them
                yield _unpack(self.seq[index], self.device)
            if self._cursor == 0:
                self.end_epoch()

    def end_epoch(self) -> None:
        """Tell the Sequence a pass ended (Keras calls ``on_epoch_end``)."""
        if hasattr(self.seq, "on_epoch_end"):
            self.seq.on_epoch_end()


class IterableData:
    """An iterable of batches: a dataset (re-iterable, maybe with ``len``) or a generator.

    A generator is one iterator shared by all epochs, so it needs
    ``steps_per_epoch`` (Keras' rule); a dataset is iterated afresh each epoch.
    """

    def __init__(self, data: Any, device: torch.device, *, steps: int | None = None) -> None:
        self.data, self.device = data, device
        self.one_shot = iter(data) is data
        self.steps: int | None = steps
        if steps is None and not self.one_shot and hasattr(data, "__len__"):
            self.steps = len(data)

    def epoch(self, start: int = 0) -> Iterator[Batch]:
        it = self.data if self.one_shot else iter(self.data)
        step = 0
        while self.steps is None or step < self.steps:
            try:
                batch = next(it)
            except StopIteration:
                if self.one_shot and step < (self.steps or 0):
                    raise invalid_value(
                        "The generator ran out of data before `steps_per_epoch` batches.",
                        received={"steps_per_epoch": self.steps, "batches_seen": step},
                        hint="Make the generator loop forever (Keras' convention) or lower "
                        "steps_per_epoch / epochs.",
                    ) from None
                return
            if step >= start:
                yield _unpack(batch, self.device)
            step += 1


def make_data(
    x: Any,
    y: Any,
    sample_weight: Any,
    *,
    batch_size: int,
    device: torch.device,
    shuffle: bool,
    generator: torch.Generator | None,
    steps: int | None,
    role: str = "fit",
) -> ArrayData | SequenceData | IterableData:
    """The right adapter for ``x``; ``y``/``sample_weight`` only go with arrays."""
    if isinstance(x, (np.ndarray, torch.Tensor, list)):
        if isinstance(x, list) and x and not isinstance(x[0], (int, float, list, np.ndarray)):
            raise invalid_type(
                f"{role}(): `x` must be an array, a tensor or a dataset.",
                received={"x": type(x[0]).__name__},
            )
        xt = as_tensor(x, device, name="x")
        yt = None if y is None else as_tensor(y, device, name="y")
        wt = None if sample_weight is None else as_tensor(sample_weight, device).float()
        return ArrayData(xt, yt, wt, batch_size, shuffle=shuffle, generator=generator, steps=steps)
    if y is not None:
        raise invalid_value(
            f"{role}(): `y` must not be given when `x` is a dataset or generator; the data "
            "itself must yield (x, y) batches.",
            received={"x": type(x).__name__, "y": type(y).__name__},
        )
    if hasattr(x, "__getitem__") and hasattr(x, "__len__") and not isinstance(x, (str, dict)):
        return SequenceData(x, device, shuffle=shuffle, generator=generator, steps=steps)
    if hasattr(x, "__iter__"):
        data = IterableData(x, device, steps=steps)
        if data.one_shot and steps is None:
            raise _missing_steps(role, x)
        return data
    raise invalid_type(
        f"{role}(): `x` must be a NumPy array, a torch tensor, a Keras-style Sequence, a "
        "dataset or a generator of batches.",
        received={"x": type(x).__name__},
    )


#: For each caller: (the call, the data argument, the step argument, what one run is).
_STEP_ARGUMENTS: dict[str, tuple[str, str, str, str]] = {
    "fit": ("fit", "x", "steps_per_epoch", "an epoch"),
    "validation": ("fit", "validation_data", "validation_steps", "one validation pass"),
    "evaluate": ("evaluate", "x", "steps", "the evaluation"),
    "predict": ("predict", "x", "steps", "the prediction"),
}


def _missing_steps(role: str, data: Any) -> ValueError:
    """The error for a generator given without its step count (it may never end)."""
    call, arg, steps_arg, run = _STEP_ARGUMENTS.get(role, _STEP_ARGUMENTS["fit"])
    return invalid_value(
        f"{call}(): `{arg}` is a generator, which has no length and may never end, so "
        f"`{steps_arg}` must say how many batches make {run}.",
        received={arg: type(data).__name__, steps_arg: None},
        hint=f"{call}(..., {steps_arg}=len(samples) // batch_size), as in Keras.",
    )
