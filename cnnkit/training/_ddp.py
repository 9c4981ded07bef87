"""The hooks that make ``Trainer.fit`` data-parallel inside a ``torch.distributed`` group.

Keras MirroredStrategy semantics:

- ``batch_size`` is the GLOBAL batch. Every rank draws the same permutation
  (rank 0's data-order generator state is broadcast at the start of ``fit``)
  and takes its contiguous slice of every global batch (``tensor_split``). A
  rank that gets no sample of a short last batch trains on a zero-weight
  stand-in, so it still joins the gradient all-reduce.
- The model is wrapped in ``DistributedDataParallel`` for the training forward
  only (DDP broadcasts rank 0's weights when it is built). DDP averages the
  gradients over the ranks; each rank scales its loss *sum* by
  ``world_size / samples in the global batch``, so the average is exactly the
  mean over the global batch even when the slices differ in size.
- Metric states are running sums, so the epoch logs are one ``all_reduce``
  (SUM) of all of them: every rank gets identical, sample-weighted logs.
  Validation arrays are split into contiguous parts and reduced the same way.
- Decision callbacks run everywhere on those identical logs; writers
  (ModelCheckpoint, CSVLogger, TensorBoard, or any callback with
  ``rank_zero_only = True``) and the progress display run on rank 0 only. A
  stop request from any rank is agreed on by all ranks: after every batch when
  a callback has batch hooks, else at the epoch end.
- BatchNorm running statistics are rank 0's (DDP broadcasts buffers at every
  training forward). ``evaluate``/``predict``/``train_on_batch`` are not
  sharded: every rank computes the whole result itself.

Only array inputs are sharded; datasets, Sequences and generators raise, and
so does ``BackupAndRestore`` (resuming N processes from one file is not
supported).
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.callbacks._base import Callback
from cnnkit.training._compile import rewrap_forward
from cnnkit.training._data import ArrayData
from cnnkit.training._distributed import is_distributed, rank, world_size

__all__ = ["agree_stop", "distribute_fit", "reduce_metrics", "writes_files"]


def writes_files(cb: Callback) -> bool:
    """Whether ``cb`` runs on rank 0 only: built-in writers, or ``cb.rank_zero_only``."""
    from cnnkit.callbacks import CSVLogger, ModelCheckpoint, TensorBoard

    writer = isinstance(cb, (ModelCheckpoint, CSVLogger, TensorBoard))
    return bool(getattr(cb, "rank_zero_only", writer))


def _check_inputs(data: Any, val_data: Any, callbacks: list[Callback]) -> None:
    from cnnkit.callbacks import BackupAndRestore

    for role, d in (("x", data), ("validation_data", val_data)):
        if d is not None and not isinstance(d, ArrayData):
            raise invalid_type(
                f"fit(): distributed training (world_size={world_size()}) shards array inputs "
                f"only; `{role}` is a dataset, Sequence or generator.",
                received={role: type(getattr(d, "seq", getattr(d, "data", d))).__name__},
                hint="Pass NumPy arrays or tensors (e.g. load the images into memory first).",
            )
    for cb in callbacks:
        if isinstance(cb, BackupAndRestore):
            raise invalid_value(
                "fit(): BackupAndRestore is not supported in distributed training: a backup "
                "holds one process's random streams and position.",
                received={"callbacks": type(cb).__name__, "world_size": world_size()},
                hint="Use ModelCheckpoint (written by rank 0) to keep the weights.",
            )
    n, size = data.num_samples, data.batch_size
    if size < world_size() or n < world_size():
        raise invalid_value(
            "fit(): distributed training needs a global `batch_size` and a sample count of at "
            "least world_size, so every rank has samples to train on.",
            received={"batch_size": size, "samples": n, "world_size": world_size()},
        )
    if val_data is not None and val_data.num_samples < world_size():
        raise invalid_value(
            "fit(): the validation data has fewer samples than processes.",
            received={"validation samples": val_data.num_samples, "world_size": world_size()},
        )


def _validation_part(val: ArrayData) -> ArrayData:
    """This rank's contiguous part of the validation arrays (after ``validation_steps``)."""
    n = val.num_samples if val.steps is None else min(val.num_samples, val.steps * val.batch_size)
    w, r = world_size(), rank()
    lo, hi = n * r // w, n * (r + 1) // w
    part = ArrayData(
        val.x[lo:hi],
        val.y[lo:hi],
        None if val.w is None else val.w[lo:hi],
        -(-val.batch_size // w),
    )
    part.sharded = True
    return part


def _share_data_order(generator: torch.Generator, device: torch.device) -> None:
    """Give every rank rank 0's data-order state, so all draw the same permutations."""
    state = generator.get_state().to(device)
    dist.broadcast(state, src=0)
    generator.set_state(state.cpu())


def _wrap(trainer: Any) -> nn.Module:
    from torch.nn.parallel import DistributedDataParallel

    # A conv with one input channel gets its weight gradient with channels_last strides
    # (9, 1, 3, 1) for a (4, 1, 3, 3) weight stored (9, 9, 3, 1): the same memory order,
    # as the size-1 axis's stride is meaningless, but DDP compares strides literally and
    # warns "may impair performance" once per rank. Silence exactly that message.
    warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
    device = trainer.device
    ids = None  # CPU (and MPS) modules take no device ids
    if device.type == "cuda":
        ids = [device.index if device.index is not None else torch.cuda.current_device()]
    ddp = DistributedDataParallel(trainer.model, device_ids=ids)
    return rewrap_forward(trainer._forward, ddp)


def distribute_fit(
    trainer: Any, data: Any, val_data: Any, callbacks: list[Callback] | None, verbose: int
) -> tuple[Any, Any, list[Callback] | None, int]:
    """Prepare one ``fit`` for the current process group; a no-op outside one.

    Returns ``(data, val_data, callbacks, verbose)``: the training data sharded
    per global batch, this rank's validation part, the callbacks this rank runs
    and the verbosity (0 off rank 0). Sets ``trainer._ddp`` to the DDP wrapper.
    """
    trainer._ddp = None
    if not is_distributed():
        return data, val_data, callbacks, verbose
    cbs = list(callbacks or [])
    _check_inputs(data, val_data, cbs)
    if trainer._optimizer is None:
        trainer._ensure_built(data.x[:1].float())
    _share_data_order(data.generator or trainer.data_order, trainer.device)
    data.shard = (rank(), world_size())
    trainer._ddp = _wrap(trainer)
    if val_data is not None:
        val_data = _validation_part(val_data)
    if rank() != 0:
        cbs = [cb for cb in cbs if not writes_files(cb)]
        verbose = 0
    return data, val_data, cbs, verbose


def reduce_metrics(trainer: Any) -> None:
    """Sum the loss tracker's and every metric's running sums over all ranks, in place."""
    trackers = [trainer.loss_tracker, *trainer.metrics]
    missing = [t.name for t in trackers if t._state is None]
    if missing:
        raise invalid_value(
            f"Rank {rank()} has no values for {missing} to combine: it saw no batch.",
            received={"rank": rank(), "world_size": world_size()},
        )
    flat = torch.stack([s.reshape(()) for t in trackers for s in t._state])
    dist.all_reduce(flat)
    # New state tensors rather than in-place copies: validation sums are inference tensors.
    totals = iter(flat.unbind())
    for t in trackers:
        t._state = [next(totals).clone() for _ in t._state]


def agree_stop(flag: bool, device: torch.device) -> bool:
    """True on every rank when any rank asked to stop (so none waits on a finished peer)."""
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)
