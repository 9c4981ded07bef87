"""LeNet-5 (3×3 ReLU variant, 60,074 parameters) on MNIST: cnnkit ``fit`` vs hand-written PyTorch.

One epoch (938 steps) at batch 64 with Adam 1e-3 (epsilon 1e-7, Keras' default, on both
sides), the same initial weights, the same data order and the same float32 pixels in
[0, 1], all in ONE process with the runs interleaved. Variants:

- ``cnnkit``: ``model.fit`` on ``cnnkit.applications.LeNet5(variant="relu")``, softmax
  head and ``"sparse_categorical_crossentropy"`` (the engine trains from the logits).
- ``torch``: the same network as a plain ``nn.Sequential`` in NCHW (weights copied, Flatten
  order converted) trained by the usual loop: index-gather batch, ``zero_grad``,
  ``cross_entropy``, ``backward``, ``step``.
- ``engine`` / ``loop-same-model``: the cnnkit model with a linear head trained by ``fit``
  and by the hand-written loop: isolates the engine's own overhead (the weights must agree).

``--keras`` also times Keras 3 (torch and TensorFlow backends) from a separate
benchmark-only venv, each against the hand-written loop in that process; ``--rss``
measures peak RSS of ``fit`` on uint8 MNIST in a fresh process.

Usage::

    CNNKIT_DATA=../shared/data .venv/bin/python benchmarks/lenet_mnist.py --repeats 3
    CNNKIT_DATA=../shared/data .venv/bin/python benchmarks/lenet_mnist.py --keras --rss
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

BATCH, LR, EPS = 64, 1e-3, 1e-7


def load() -> tuple[torch.Tensor, torch.Tensor]:
    from cnnkit.datasets import mnist

    (x, y), _ = mnist.load_data()
    return torch.from_numpy(x[..., None].astype(np.float32) / 255.0), torch.from_numpy(
        y.astype(np.int64)
    )


def torch_lenet(src: nn.Module | None = None) -> nn.Sequential:
    """LeNet-5 relu in plain torch (NCHW); copies the weights of cnnkit's model when given."""
    net = nn.Sequential(
        nn.Conv2d(1, 6, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
    )
    if src is not None:
        params = [p.detach() for p in src.parameters()]
        with torch.no_grad():
            for dst, p in zip(
                [m for m in net if list(m.parameters())],
                zip(params[::2], params[1::2], strict=True),
                strict=True,
            ):
                w, b = p
                if dst is net[7]:  # cnnkit flattens (h, w, c); torch flattens (c, h, w)
                    w = w.reshape(120, 5, 5, 16).permute(0, 3, 1, 2).reshape(120, 400)
                dst.weight.copy_(w)
                dst.bias.copy_(b)
    return net


def hand_loop(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, order: torch.Tensor, steps: int
) -> tuple[float, float]:
    """The reference: what a careful PyTorch user writes. Returns (wall, cpu) seconds."""
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, eps=EPS)
    gen = torch.Generator()
    gen.set_state(order)
    model.train()
    start, cpu = time.perf_counter(), time.process_time()
    perm = torch.randperm(len(x), generator=gen)
    for i in range(steps):
        idx = perm[i * BATCH : (i + 1) * BATCH]
        xb, yb = x.index_select(0, idx), y.index_select(0, idx)
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start, time.process_time() - cpu


def cnnkit_fit(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, order: torch.Tensor, steps: int, loss
) -> tuple[float, float]:
    from cnnkit.training.optimizers import Adam

    model.compile(optimizer=Adam(LR, epsilon=EPS), loss=loss, metrics=["accuracy"])
    model._trainer.data_order.set_state(order)
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(x, y, batch_size=BATCH, epochs=1, steps_per_epoch=steps, verbose=0)
    return time.perf_counter() - start, time.process_time() - cpu


def run_local(repeats: int, steps: int) -> None:
    from cnnkit.applications import LeNet5
    from cnnkit.training.losses import SparseCategoricalCrossentropy
    from cnnkit.utils import set_random_seed

    x, y = load()
    x_nchw = x.permute(0, 3, 1, 2).contiguous()  # a PyTorch user keeps NCHW data
    set_random_seed(0)
    softmax_net = LeNet5(variant="relu", input_shape=(28, 28, 1))
    linear_net = LeNet5(variant="relu", input_shape=(28, 28, 1), classifier_activation=None)
    linear_net.load_state_dict(softmax_net.state_dict())
    order = torch.Generator().manual_seed(0).get_state()
    logits_loss = SparseCategoricalCrossentropy(from_logits=True)
    runs = {
        "cnnkit": lambda: cnnkit_fit(
            copy.deepcopy(softmax_net), x, y, order, steps, "sparse_categorical_crossentropy"
        ),
        "torch": lambda: hand_loop(torch_lenet(softmax_net), x_nchw, y, order, steps),
        "engine": lambda: cnnkit_fit(copy.deepcopy(linear_net), x, y, order, steps, logits_loss),
        "loop-same-model": lambda: hand_loop(copy.deepcopy(linear_net), x, y, order, steps),
    }
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in runs}
    names = list(runs)
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:  # rotate the order
            times[name].append(runs[name]())
            wall, cpu = times[name][-1]
            print(f"  repeat {r + 1} {name:<16} wall {wall:7.2f} s  cpu {cpu:7.2f} s", flush=True)
    summarize(
        times,
        steps,
        [("cnnkit", "torch", "full stack"), ("engine", "loop-same-model", "engine only")],
    )
    _check_same_weights(linear_net, x, y, order, min(steps, 50), logits_loss)


def summarize(
    times: dict[str, list[tuple[float, float]]], steps: int, ratios: list[tuple[str, str, str]]
) -> None:
    """Median wall and CPU seconds per variant, and the ratios (CPU time is steadier on a
    shared machine: it does not count the time other processes hold the cores)."""
    med = {k: [statistics.median(t[i] for t in v) for i in (0, 1)] for k, v in times.items()}
    print(
        f"\n{steps} steps x batch {BATCH}, {torch.get_num_threads()} thread(s), median of "
        f"{len(next(iter(times.values())))}"
    )
    for k, (wall, cpu) in med.items():
        print(
            f"  {k:<16} wall {wall:7.2f} s ({1e3 * wall / steps:5.2f} ms/step)  "
            f"cpu {cpu:7.2f} s ({1e3 * cpu / steps:5.2f} ms/step)"
        )
    for a, b, label in ratios:
        print(
            f"  ratio {a} / {b} ({label}): wall {med[a][0] / med[b][0]:.3f}  "
            f"cpu {med[a][1] / med[b][1]:.3f}"
        )


def _check_same_weights(net, x, y, order, steps, loss) -> None:
    """fit and the hand loop on the same model must produce the same weights."""
    a, b = copy.deepcopy(net), copy.deepcopy(net)
    cnnkit_fit(a, x, y, order, steps, loss)
    hand_loop(b, x, y, order, steps)
    diff = max(
        (p - q).abs().max().item() for p, q in zip(a.parameters(), b.parameters(), strict=True)
    )
    same = all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    print(f"  same weights after {steps} steps: bit-identical={same}, max |diff|={diff:.2e}")


def keras_worker(backend: str, repeats: int, steps: int) -> None:
    """Runs inside the Keras venv: Keras fit vs the hand-written loop, interleaved."""
    import keras

    x, y = load()
    n = steps * BATCH
    xk, yk = x[:n].numpy(), y[:n].numpy()
    x_nchw = x.permute(0, 3, 1, 2).contiguous()
    order = torch.Generator().manual_seed(0).get_state()
    times: dict[str, list[tuple[float, float]]] = {f"keras-{backend}": [], "torch": []}
    for r in range(repeats):
        keras.utils.set_random_seed(r)
        model = keras.Sequential(
            [
                keras.Input((28, 28, 1)),
                keras.layers.Conv2D(6, 3, activation="relu"),
                keras.layers.MaxPooling2D(),
                keras.layers.Conv2D(16, 3, activation="relu"),
                keras.layers.MaxPooling2D(),
                keras.layers.Flatten(),
                keras.layers.Dense(120, activation="relu"),
                keras.layers.Dense(84, activation="relu"),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
        model.compile(
            keras.optimizers.Adam(LR), "sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        start, cpu = time.perf_counter(), time.process_time()
        model.fit(xk, yk, batch_size=BATCH, epochs=1, shuffle=True, verbose=0)
        times[f"keras-{backend}"].append((time.perf_counter() - start, time.process_time() - cpu))
        times["torch"].append(hand_loop(torch_lenet(), x_nchw, y, order, steps))
    summarize(times, steps, [(f"keras-{backend}", "torch", "Keras 3, first epoch incl. tracing")])


def rss_worker(steps: int) -> None:
    """Peak RSS of training LeNet-5 on uint8 MNIST as `cnnkit train` does (Rescaling inside)."""
    from cnnkit.cli._train_models import build_model
    from cnnkit.datasets import mnist

    (x, y), _ = mnist.load_data()
    model = build_model("lenet5", (28, 28, 1), 10)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(
        x[..., None],
        y,
        batch_size=BATCH,
        epochs=1,
        steps_per_epoch=steps,
        verbose=0,
        validation_split=0.1,
    )
    # VmHWM, not ru_maxrss: ru_maxrss survives execve, so it would report the parent's peak.
    status = Path("/proc/self/status").read_text().splitlines()
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024
    print(f"  peak RSS (fit, {steps} steps, uint8 MNIST): {peak:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--steps", type=int, default=938, help="steps timed per run (938 = 1 epoch)"
    )
    parser.add_argument(
        "--keras", action="store_true", help="also time Keras 3 (torch, tensorflow)"
    )
    parser.add_argument("--keras-python", default="/tmp/kerasvenv/bin/python")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    parser.add_argument("--rss", action="store_true", help="measure peak RSS in a fresh process")
    parser.add_argument("--worker", choices=["torch", "tensorflow", "rss"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.worker == "rss":
        return rss_worker(args.steps)
    if args.worker:
        return keras_worker(args.worker, args.repeats, args.steps)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load {os.getloadavg()}")
    run_local(args.repeats, args.steps)
    here = Path(__file__).resolve()
    env = os.environ | {"PYTHONPATH": str(here.parents[1])}
    if args.keras:
        if not Path(args.keras_python).exists():
            print(
                f"  Keras skipped: no {args.keras_python} (pip install keras tensorflow-cpu there)"
            )
        for backend in ("torch", "tensorflow") if Path(args.keras_python).exists() else ():
            cmd = [
                args.keras_python,
                str(here),
                "--worker",
                backend,
                "--repeats",
                str(args.repeats),
                "--steps",
                str(args.steps),
            ]
            out = subprocess.run(
                cmd, env=env | {"KERAS_BACKEND": backend}, capture_output=True, text=True
            )
            print(out.stdout.strip() or f"  keras[{backend}] failed: {out.stderr.strip()[-500:]}")
    if args.rss:
        cmd = [
            sys.executable,
            str(here),
            "--worker",
            "rss",
            "--steps",
            str(args.steps),
            "--threads",
            str(torch.get_num_threads()),
        ]
        print(subprocess.run(cmd, env=env, capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
