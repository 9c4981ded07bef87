"""The course's CPU-vs-GPU experiment: MNIST, batch 128, the seed-style CNN, epochs timed.

The network is Keras' ``mnist_cnn`` example, the one the courses time on CPU
and GPU: Conv(32, 3x3, ReLU) - Conv(64, 3x3, ReLU) - MaxPool 2 - Dropout 0.25 -
Flatten - Dense(128, ReLU) - Dropout 0.5 - Dense(10, softmax), 1,199,882
parameters, Adam 1e-3 (Keras' default optimizer settings), ``x / 255`` inputs.
Each device trains it with ``fit`` for ``--epochs`` epochs (seeded); a callback
reads the clock at each epoch's start and end. The same network and loop in
plain PyTorch (torch's default initialisation, its own shuffling) is timed on
the same device in the same process, so the printed ratio cnnkit / PyTorch is
the engine's overhead. A device that is not present is skipped with one line.
The PNG plots seconds per epoch by device and implementation.

Usage::

    CNNKIT_DATA=../shared/data nice -n 10 .venv/bin/python benchmarks/cpu_gpu_epochs.py \\
        --epochs 2 --png docs/images/cpu_gpu_epochs.png
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def keras_mnist_cnn():
    from cnnkit.layers import Conv2D, Dense, Dropout, Flatten, Input, MaxPooling2D
    from cnnkit.models import Sequential

    return Sequential(
        [
            Input((28, 28, 1)),
            Conv2D(32, 3, activation="relu"),
            Conv2D(64, 3, activation="relu"),
            MaxPooling2D(2),
            Dropout(0.25),
            Flatten(),
            Dense(128, activation="relu"),
            Dropout(0.5),
            Dense(10, activation="softmax"),
        ]
    )


def torch_mnist_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Dropout(0.25), nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, 10),
    )  # fmt: skip


def time_cnnkit(x, y, xt, yt, device: str, epochs: int, batch: int) -> tuple[list[float], float]:
    from cnnkit.callbacks import Callback
    from cnnkit.utils import set_random_seed

    class EpochClock(Callback):
        def __init__(self) -> None:
            super().__init__()
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._start)

    set_random_seed(0)
    model = keras_mnist_cnn()
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"], device=device)
    clock = EpochClock()
    model.fit(x, y, batch_size=batch, epochs=epochs, callbacks=[clock], verbose=0)
    accuracy = model.evaluate(xt, yt, batch_size=1000, verbose=0, return_dict=True)["accuracy"]
    return clock.seconds, float(accuracy)


def time_torch(x, y, xt, yt, device: str, epochs: int, batch: int) -> tuple[list[float], float]:
    torch.manual_seed(0)
    dev = torch.device(device)
    model = torch_mnist_cnn().to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xs = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous().to(dev)
    ys = torch.from_numpy(y).long().to(dev)
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        model.train()
        for idx in torch.randperm(len(xs), device=dev).split(batch):
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(xs[idx]), ys[idx]).backward()
            opt.step()
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        seconds.append(time.perf_counter() - start)
    model.eval()
    with torch.inference_mode():
        xq = torch.from_numpy(xt).permute(0, 3, 1, 2).contiguous().to(dev)
        pred = torch.cat([model(c).argmax(1) for c in xq.split(1000)]).cpu().numpy()
    return seconds, float((pred == yt).mean())


def plot(results: dict, path: Path) -> None:
    from cnnkit.viz._plotting import finish_figure, new_figure

    fig = new_figure((7.0, 4.2), path)
    ax = fig.add_subplot()
    for label, res in results.items():
        epochs = np.arange(1, len(res["epoch_seconds"]) + 1)
        ax.plot(epochs, res["epoch_seconds"], marker="o", label=f"{label} ({res['accuracy']:.2%})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("seconds per epoch")
    ax.set_xticks(np.arange(1, max(len(r["epoch_seconds"]) for r in results.values()) + 1))
    ax.set_ylim(bottom=0)
    ax.set_title("Keras mnist_cnn, MNIST, batch 128 (test accuracy in brackets)", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    finish_figure(fig, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--train-size", type=int, default=None, help="first N images (all)")
    parser.add_argument("--devices", default="cpu,cuda")
    parser.add_argument("--png", default="docs/images/cpu_gpu_epochs.png")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    from cnnkit.datasets import mnist

    (x, y), (xt, yt) = mnist.load_data()
    x, y = (x[: args.train_size, ..., None] / 255.0).astype(np.float32), y[: args.train_size]
    xt = (xt[..., None] / 255.0).astype(np.float32)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{len(x):,} training images, load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    results: dict[str, dict] = {}
    for device in args.devices.split(","):
        if device == "cuda" and not torch.cuda.is_available():
            print("cuda: skipped: no CUDA device (torch.cuda.is_available() is False)")
            continue
        for name, fn in (("cnnkit", time_cnnkit), ("PyTorch", time_torch)):
            seconds, acc = fn(x, y, xt, yt, device, args.epochs, args.batch_size)
            results[f"{name} {device}"] = {"epoch_seconds": seconds, "accuracy": acc}
            times = ", ".join(f"{s:.1f} s" for s in seconds)
            print(f"{name} {device}: epochs {times}; test accuracy {acc:.4f}; "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
        ours, ref = results[f"cnnkit {device}"], results[f"PyTorch {device}"]
        ratio = np.mean(ours["epoch_seconds"]) / np.mean(ref["epoch_seconds"])
        print(f"{device}: cnnkit / PyTorch mean epoch time {ratio:.2f}x")
    plot(results, Path(args.png))
    print(f"wrote {args.png}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
