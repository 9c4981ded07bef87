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

- ``course`` / ``course-torch``: the program as a CNN course writes it, against the same work
  by hand. cnnkit: float64 ``x / 255.0`` arrays straight into ``fit`` with
  ``validation_data=(x_test, y_test)``, ``EarlyStopping`` and ``TensorBoard`` callbacks,
  batch 64, one epoch, on a ``Sequential`` written layer by layer. Torch: the float64 arrays
  converted to float32 once, the same training loop, the same validation pass over the 10,000
  test images after the epoch (loss and accuracy, batch 64, ``inference_mode``), the same
  event files (``train/`` and ``validation/`` writers, one flush each per epoch) and the
  early-stopping bookkeeping. Both timings start with the float64 arrays and end when the
  event files are closed.

``--keras`` also times Keras 3 (torch and TensorFlow backends) from a separate
benchmark-only venv, each against the hand-written loop in that process; ``--rss``
measures peak RSS of ``fit`` on uint8 MNIST in a fresh process.

Usage::

    CNNKIT_DATA=../shared/data .venv/bin/python benchmarks/lenet_mnist.py --repeats 3
    CNNKIT_DATA=../shared/data .venv/bin/python benchmarks/lenet_mnist.py --cases course --repeats 5
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


def course_model() -> nn.Module:
    """The seed-style LeNet-5 of a course, layer by layer (the same network as ``torch_lenet``)."""
    from cnnkit.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D
    from cnnkit.models import Sequential

    return Sequential(
        [
            Input((28, 28, 1)),
            Conv2D(6, 3, activation="relu"),
            MaxPooling2D(),
            Conv2D(16, 3, activation="relu"),
            MaxPooling2D(),
            Flatten(),
            Dense(120, activation="relu"),
            Dense(84, activation="relu"),
            Dense(10, activation="softmax"),
        ]
    )


def course_cnnkit(model, data, order, steps, log_dir) -> tuple[float, float]:
    """The course program: float64 arrays, validation_data, EarlyStopping + TensorBoard."""
    from cnnkit.callbacks import EarlyStopping, TensorBoard
    from cnnkit.training.optimizers import Adam

    x_train, y_train, x_test, y_test = data
    model.compile(optimizer=Adam(LR, epsilon=EPS), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    model._trainer.data_order.set_state(order)
    callbacks = [EarlyStopping(monitor="val_loss", patience=3), TensorBoard(log_dir=log_dir)]
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(x_train, y_train, batch_size=BATCH, epochs=1, steps_per_epoch=steps, verbose=0,
              validation_data=(x_test, y_test), callbacks=callbacks)  # fmt: skip
    return time.perf_counter() - start, time.process_time() - cpu


def course_torch(model: nn.Module, data, order, steps, log_dir) -> tuple[float, float]:
    """The same work by hand: convert once, train, validate, write events, early-stop check."""
    from torch.utils.tensorboard import SummaryWriter

    x_train, y_train, x_test, y_test = data
    start, cpu = time.perf_counter(), time.process_time()
    # NHWC float64 -> NCHW float32 (one channel: the permuted view is already contiguous).
    x = torch.from_numpy(x_train).float().permute(0, 3, 1, 2)
    xv = torch.from_numpy(x_test).float().permute(0, 3, 1, 2)
    y, yv = torch.from_numpy(y_train), torch.from_numpy(y_test)
    writers = {s: SummaryWriter(log_dir=str(Path(log_dir) / s)) for s in ("train", "validation")}
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, eps=EPS)
    gen = torch.Generator()
    gen.set_state(order)
    best, wait = float("inf"), 0
    for epoch in range(1):
        model.train()
        perm = torch.randperm(len(x), generator=gen)
        total, correct, seen = torch.zeros(()), torch.zeros(()), 0
        for i in range(steps):
            idx = perm[i * BATCH : (i + 1) * BATCH]
            xb, yb = x.index_select(0, idx), y.index_select(0, idx)
            optimizer.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(idx)
            correct += (logits.detach().argmax(1) == yb).sum()
            seen += len(idx)
        logs = {"loss": float(total) / seen, "accuracy": float(correct) / seen}
        model.eval()
        vtotal, vcorrect = torch.zeros(()), torch.zeros(())
        with torch.inference_mode():
            for i in range(0, len(xv), BATCH):
                logits = model(xv[i : i + BATCH])
                vtotal += F.cross_entropy(logits, yv[i : i + BATCH], reduction="sum")
                vcorrect += (logits.argmax(1) == yv[i : i + BATCH]).sum()
        logs |= {"val_loss": float(vtotal) / len(xv), "val_accuracy": float(vcorrect) / len(xv)}
        logs["learning_rate"] = LR
        for name, value in logs.items():
            split, tag = ("validation", name[4:]) if name.startswith("val_") else ("train", name)
            writers[split].add_scalar(f"epoch_{tag}", value, epoch)
        for writer in writers.values():
            writer.flush()
        if logs["val_loss"] < best:
            best, wait = logs["val_loss"], 0
        else:
            wait += 1
    for writer in writers.values():
        writer.close()
    return time.perf_counter() - start, time.process_time() - cpu


def course_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST as a course prepares it: float64 ``x / 255.0`` with a channel axis."""
    from cnnkit.datasets import mnist

    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train = x_train.reshape(-1, 28, 28, 1) / 255.0
    x_test = x_test.reshape(-1, 28, 28, 1) / 255.0
    return x_train, y_train.astype(np.int64), x_test, y_test.astype(np.int64)


def run_local(repeats: int, steps: int, cases: str = "both") -> None:
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
    runs = {}
    ratios = []
    if cases in ("friendly", "both"):
        runs |= {
            "cnnkit": lambda: cnnkit_fit(
                copy.deepcopy(softmax_net), x, y, order, steps, "sparse_categorical_crossentropy"
            ),
            "torch": lambda: hand_loop(torch_lenet(softmax_net), x_nchw, y, order, steps),
            "engine": lambda: cnnkit_fit(
                copy.deepcopy(linear_net), x, y, order, steps, logits_loss
            ),
            "loop-same-model": lambda: hand_loop(copy.deepcopy(linear_net), x, y, order, steps),
        }
        ratios += [("cnnkit", "torch", "full stack"), ("engine", "loop-same-model", "engine only")]
    if cases in ("course", "both"):
        import tempfile

        from torch.utils.tensorboard import SummaryWriter  # imported once, outside the timing

        del SummaryWriter
        course = course_data()
        set_random_seed(0)
        course_net = course_model()
        logs = Path(tempfile.mkdtemp(prefix="lenet_course_"))
        runs |= {
            "course": lambda: course_cnnkit(
                copy.deepcopy(course_net), course, order, steps, tempfile.mkdtemp(dir=logs)
            ),
            "course-torch": lambda: course_torch(
                torch_lenet(course_net), course, order, steps, tempfile.mkdtemp(dir=logs)
            ),
        }
        ratios += [("course", "course-torch", "course program, float64 + validation + callbacks")]
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in runs}
    names = list(runs)
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:  # rotate the order
            times[name].append(runs[name]())
            wall, cpu = times[name][-1]
            print(f"  repeat {r + 1} {name:<16} wall {wall:7.2f} s  cpu {cpu:7.2f} s", flush=True)
    summarize(times, steps, ratios)
    if cases in ("friendly", "both"):
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
    parser.add_argument(
        "--cases",
        choices=["friendly", "course", "both"],
        default="both",
        help="friendly: float32 input, no callbacks; course: the course program (default both)",
    )
    parser.add_argument("--worker", choices=["torch", "tensorflow", "rss"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.worker == "rss":
        return rss_worker(args.steps)
    if args.worker:
        return keras_worker(args.worker, args.repeats, args.steps)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, load {os.getloadavg()}, "
        f"ATEN_CPU_CAPABILITY={os.environ.get('ATEN_CPU_CAPABILITY', '(default)')}, "
        f"cpu capability {torch.backends.cpu.get_cpu_capability()}"
    )
    run_local(args.repeats, args.steps, args.cases)
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
