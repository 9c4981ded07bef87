"""Data-parallel LeNet-5 on MNIST: cnnkit on 1 and 2 processes vs a plain PyTorch DDP loop.

The same job everywhere: LeNet-5 (relu variant, 60,074 parameters), the first
6,000 MNIST training images, 1 epoch at GLOBAL batch 64 (94 steps), Adam 1e-3.

- ``cnnkit-1``: ``model.fit`` in one process (``distributed.launch(nproc=1)``), all
  the threads of the machine.
- ``cnnkit-2``: the same ``model.fit`` on 2 processes (``distributed.launch(nproc=2)``):
  each rank trains on 32 images of every global batch, DDP averages the gradients.
- ``plain-2``: what a PyTorch user writes: ``torch.multiprocessing.spawn``,
  ``init_process_group("gloo")``, ``DistributedDataParallel`` around an NCHW
  ``nn.Sequential`` LeNet, the same permutation on every rank and a slice of every batch.

Every variant times its own training (rank 0, from before the model is wrapped/fit to
the end of the epoch, after a barrier); start-up, imports (including the one-time lazy
imports of the first DDP wrapper) and data loading are not counted. 2-process runs use
``threads // 2`` threads per rank (at least 1). All variants start from the same weights
and draw the same permutation, so their epoch losses must agree. Prints images/s and the
ratio cnnkit-2 / plain-2 (images/s; above 1 means cnnkit is faster).

Usage::

    CNNKIT_DATA=../shared/data .venv/bin/python benchmarks/distributed.py --repeats 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lenet_mnist import torch_lenet  # the hand-written LeNet, shared

SAMPLES, BATCH, LR = 6000, 64, 1e-3


def load() -> tuple[np.ndarray, np.ndarray]:
    """The first 6,000 MNIST training images ``(n, 28, 28, 1)`` uint8 and labels."""
    from cnnkit.datasets import mnist

    (x, y), _ = mnist.load_data()
    return x[:SAMPLES, ..., None], y[:SAMPLES].astype(np.int64)


def cnnkit_lenet():
    """cnnkit's LeNet-5 (relu variant) with seed 0: the initial weights of every variant."""
    from cnnkit.applications import LeNet5
    from cnnkit.utils import set_random_seed

    set_random_seed(0)
    return LeNet5(variant="relu", input_shape=(28, 28, 1))


def cnnkit_job(threads: int) -> tuple[float, float]:
    """One rank of the cnnkit run: (seconds of fit, final epoch loss)."""
    from cnnkit.training import distributed
    from cnnkit.training.optimizers import Adam

    torch.set_num_threads(threads)
    x, y = load()
    x = x.astype(np.float32) / 255.0  # the same float pixels as the plain loop
    model = cnnkit_lenet()  # seeds torch with 0: fit's data order is the plain loop's
    model.compile(optimizer=Adam(LR), loss="sparse_categorical_crossentropy", metrics=["acc"])
    if distributed.is_distributed():
        dist.barrier()
    start = time.perf_counter()
    history = model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    return time.perf_counter() - start, history.history["loss"][-1]


def plain_worker(rank: int, world: int, port: int, threads: int, results) -> None:
    """One rank of the hand-written DDP loop; rank 0 puts (seconds, mean loss)."""
    torch.set_num_threads(threads)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world)  # fmt: skip
    x, y = load()
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).float().div_(255.0).contiguous()
    yt = torch.from_numpy(y)
    # The first DistributedDataParallel of a process pays ~0.9 s of one-time lazy imports,
    # which cnnkit's own imports already paid: warm them up, outside the timing.
    torch.nn.parallel.DistributedDataParallel(torch_lenet())
    net = torch_lenet(cnnkit_lenet())  # the same initial weights as the cnnkit runs
    dist.barrier()
    start = time.perf_counter()
    model = torch.nn.parallel.DistributedDataParallel(net)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, eps=1e-7)
    perm = torch.randperm(len(xt), generator=torch.Generator().manual_seed(0))
    total = torch.zeros(())
    for start_i in range(0, len(xt), BATCH):
        idx = perm[start_i : start_i + BATCH].tensor_split(world)[rank]
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xt.index_select(0, idx)), yt.index_select(0, idx))
        loss.backward()
        optimizer.step()
        total += loss.detach() * len(idx)
    dist.all_reduce(total)
    seconds = time.perf_counter() - start
    if rank == 0:
        results.put((seconds, float(total) / len(xt)))
    dist.barrier()  # leave together: tearing gloo down under a peer can abort it
    dist.destroy_process_group()


def run_plain(nproc: int, threads: int) -> tuple[float, float]:
    import torch.multiprocessing as mp

    from cnnkit.training._distributed import _free_port

    results = mp.get_context("spawn").SimpleQueue()
    mp.spawn(plain_worker, args=(nproc, _free_port(), threads, results), nprocs=nproc)
    return results.get()


def run_cnnkit(nproc: int, threads: int) -> tuple[float, float]:
    from cnnkit.training import distributed

    return distributed.launch(cnnkit_job, nproc=nproc, args=(threads,), backend="gloo")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args()
    per_rank = max(1, args.threads // 2)
    runs = {
        "cnnkit-1": lambda: run_cnnkit(1, args.threads),
        "cnnkit-2": lambda: run_cnnkit(2, per_rank),
        "plain-2": lambda: run_plain(2, per_rank),
    }
    names = list(runs)
    seconds: dict[str, list[float]] = {k: [] for k in names}
    for r in range(args.repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:  # rotate the order
            wall, loss = runs[name]()
            seconds[name].append(wall)
            print(f"  repeat {r + 1} {name:<9} {wall:6.2f} s  {SAMPLES / wall:7.0f} images/s  "
                  f"epoch loss {loss:.4f}", flush=True)  # fmt: skip
    rate = {k: SAMPLES / statistics.median(v) for k, v in seconds.items()}
    print(f"\n{SAMPLES} images, global batch {BATCH}, {args.threads} thread(s) for 1 process, "
          f"{per_rank} per rank for 2; median of {args.repeats}")  # fmt: skip
    for name, value in rate.items():
        print(f"  {name:<9} {value:7.0f} images/s")
    print(f"  ratio cnnkit-2 / plain-2 (images/s): {rate['cnnkit-2'] / rate['plain-2']:.3f}")
    print(f"  speed-up cnnkit-2 / cnnkit-1: {rate['cnnkit-2'] / rate['cnnkit-1']:.3f}")


if __name__ == "__main__":
    main()
