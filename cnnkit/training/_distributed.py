"""Multi-process launch for data-parallel training with ``torch.distributed``.

``launch(fn, nproc=2)`` starts ``nproc`` fresh processes (spawn context, so
nothing of the parent's state is forked), joins them into one process group
over a TCP rendezvous on 127.0.0.1 and runs ``fn(*args)`` in each. Inside
``fn``, ``model.fit`` sees the initialised group and trains data-parallel
(see :mod:`cnnkit.training._ddp`). Rank 0's return value comes back to the
caller through a spawn-context queue; an exception in any rank is raised in
the caller with that rank's traceback, and the other ranks are terminated, so
no process is left hanging on a collective that will never complete.
"""

from __future__ import annotations

import datetime
import os
import queue
import socket
import time
import traceback
from collections.abc import Callable
from typing import Any

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.training._engine import usable_cpus

__all__ = [
    "DistributedError",
    "is_distributed",
    "is_main_process",
    "launch",
    "rank",
    "world_size",
]

_BACKENDS = ("gloo", "nccl")
# A process that died without reporting may still have its message in the pipe.
_GRACE_SECONDS = 5.0
_COLLECTIVE_DEFAULT_S = 1800.0  # torch's own default process-group timeout


class DistributedError(RuntimeError):
    """A rank of :func:`launch` raised, crashed or timed out; the text holds its traceback."""


def is_distributed() -> bool:
    """Whether this process is one rank of an initialised group of more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's rank in the group (0 when not distributed)."""
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def world_size() -> int:
    """Processes in the group (1 when not distributed)."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def is_main_process() -> bool:
    """True on rank 0 (and in a plain single process): the one that writes files and prints."""
    return rank() == 0


def _free_port() -> int:
    # Bind to port 0 so the OS picks a free one; the tiny race until rank 0 binds it
    # again is the usual price of a launcher without a fixed port.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _check_arguments(fn: Any, nproc: Any, args: Any, backend: Any, timeout_s: Any) -> str:
    """Validate :func:`launch`'s arguments; returns the backend to use."""
    if not callable(fn):
        raise invalid_type(
            "launch(): `fn` must be a callable (a module-level function, so spawned "
            "processes can import it).",
            received={"fn": fn},
        )
    if isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1:
        raise invalid_value("launch(): `nproc` must be an integer >= 1.", received={"nproc": nproc})
    if not isinstance(args, (tuple, list)):
        raise invalid_type(
            "launch(): `args` must be a tuple of arguments for `fn`.",
            received={"args": type(args).__name__},
        )
    if timeout_s is not None and (
        isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or timeout_s <= 0
    ):
        raise invalid_value(
            "launch(): `timeout_s` must be None or a positive number of seconds.",
            received={"timeout_s": timeout_s},
        )
    if backend is None:
        return "nccl" if torch.cuda.is_available() else "gloo"
    if backend not in _BACKENDS:
        from cnnkit._errors import unknown_name

        raise unknown_name("backend", backend, _BACKENDS, argument="backend")
    if backend == "nccl" and not torch.cuda.is_available():
        raise invalid_value(
            "launch(): backend='nccl' needs CUDA GPUs and none is available.",
            received={"backend": backend},
            hint="Use backend='gloo' (CPU) or leave backend=None to choose automatically.",
        )
    return backend


def _worker(
    rank_: int,
    nproc: int,
    port: int,
    backend: str,
    timeout_s: float,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    results: Any,
) -> None:
    """One rank: join the group, run ``fn``, report ``(rank, ok, payload)``, leave the group."""
    os.environ.update(
        {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": str(rank_),
         "LOCAL_RANK": str(rank_), "WORLD_SIZE": str(nproc)}
    )  # fmt: skip
    try:
        if backend == "nccl":
            torch.cuda.set_device(rank_ % torch.cuda.device_count())
        else:
            # The ranks share the CPUs: N ranks of all-core thread pools oversubscribe them
            # and every parallel region waits on descheduled threads (10x slower here).
            torch.set_num_threads(max(1, usable_cpus() // nproc))
        dist.init_process_group(
            backend,
            init_method=f"tcp://127.0.0.1:{port}",
            rank=rank_,
            world_size=nproc,
            timeout=datetime.timedelta(seconds=timeout_s),
        )
        value = fn(*args)
        # Leave together: a rank tearing the group down while a peer still talks to it
        # can abort that peer's transport threads. (After a failure there is no barrier:
        # the caller stops every rank.)
        dist.barrier()
        results.put((rank_, True, value if rank_ == 0 else None))
    except BaseException:  # every failure must reach the caller as text
        results.put((rank_, False, traceback.format_exc()))
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def _stop(procs: list[Any]) -> None:
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(5)
        if p.is_alive():
            p.kill()
            p.join()


def _collect(procs: list[Any], results: Any, timeout_s: float | None) -> Any:
    """Wait for every rank's report; raise on the first failure, crash or the deadline."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    reported: dict[int, Any] = {}
    dead_since: dict[int, float] = {}
    while len(reported) < len(procs):
        try:
            rank_, ok, payload = results.get(timeout=0.2)
        except queue.Empty:
            now = time.monotonic()
            if deadline is not None and now > deadline:
                raise DistributedError(
                    f"launch(): ranks {sorted(set(range(len(procs))) - set(reported))} did not "
                    f"finish within timeout_s={timeout_s:g} seconds; all ranks were stopped."
                ) from None
            for r, p in enumerate(procs):
                if r in reported or p.exitcode is None:
                    continue
                if now - dead_since.setdefault(r, now) > _GRACE_SECONDS:
                    raise DistributedError(
                        f"launch(): rank {r} exited with code {p.exitcode} without reporting "
                        "a result (killed, or crashed in native code)."
                    ) from None
            continue
        if not ok:
            raise DistributedError(f"launch(): rank {rank_} raised an exception:\n{payload}")
        reported[rank_] = payload
    return reported[0]


def launch(
    fn: Callable[..., Any],
    nproc: int = 2,
    args: tuple[Any, ...] = (),
    backend: str | None = None,
    timeout_s: float | None = None,
) -> Any:
    """Run ``fn(*args)`` on ``nproc`` processes joined in one ``torch.distributed`` group.

    Inside ``fn``, ``model.fit`` trains data-parallel: ``batch_size`` is the global
    batch, each rank trains on its slice, gradients are averaged by
    ``DistributedDataParallel`` and every rank sees the same epoch logs.

    Args:
        fn: A module-level function (spawned processes import it by name).
        nproc: Number of processes (ranks), >= 1.
        args: Positional arguments for ``fn``; they are pickled to every process.
        backend: ``"gloo"`` (CPU), ``"nccl"`` (CUDA) or None: nccl when CUDA is available.
        timeout_s: Seconds the whole job may take (None: no limit). Any single
            collective (a gradient all-reduce waiting for a stuck peer) gives up after
            ``timeout_s`` too, or after torch's default of 30 minutes when None.

    Returns:
        Rank 0's return value.

    Raises:
        DistributedError: A rank raised (its traceback is in the message), crashed or
            the job ran past ``timeout_s``; every rank has been stopped by then.
    """
    backend = _check_arguments(fn, nproc, args, backend, timeout_s)
    collective_s = _COLLECTIVE_DEFAULT_S if timeout_s is None else float(timeout_s)
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    port = _free_port()
    procs = [
        ctx.Process(
            target=_worker,
            args=(r, nproc, port, backend, collective_s, fn, tuple(args), results),
            # Not daemonic: a rank may start its own workers (directory data loaders).
            daemon=False,
        )
        for r in range(nproc)
    ]
    for p in procs:
        p.start()
    try:
        value = _collect(procs, results, None if timeout_s is None else float(timeout_s))
        for p in procs:
            p.join(_GRACE_SECONDS)
        return value
    finally:
        _stop(procs)
        results.close()
