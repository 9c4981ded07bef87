"""Scratch research for the default MNIST recipe, in plain PyTorch (no cnnkit).

Each candidate is an architecture plus a schedule. The script trains it for one or more seeds
and prints test accuracy, wall time (data loading included, process start excluded) and CPU
time, so that runs on a shared, noisy machine can still be compared.

Usage::

    .venv/bin/python benchmarks/_mnist_research.py --arch s16 --epochs 1 --batch 256 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import gzip
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

MEAN, STD = 0.1307, 0.3081


def _data_dir() -> Path:
    for entry in os.environ.get("CNNKIT_DATA", "").split(os.pathsep):
        if entry and (Path(entry) / "mnist").is_dir():
            return Path(entry) / "mnist"
    raise SystemExit("set CNNKIT_DATA to the folder holding mnist/")


def _idx(path: Path) -> np.ndarray:
    raw = gzip.decompress(path.read_bytes())
    ndim = raw[3]
    dims = np.frombuffer(raw, ">u4", count=ndim, offset=4)
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist() -> tuple[torch.Tensor, ...]:
    """(x_train, y_train, x_test, y_test): uint8 (N, 28, 28) images and int64 labels."""
    d = _data_dir()
    parts = [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
    xs = [torch.from_numpy(_idx(d / p).copy()) for p in parts]
    return xs[0], xs[1].long(), xs[2], xs[3].long()


def _block(cin: int, cout: int, k: int, stride: int = 1, pad: int = 0) -> list[nn.Module]:
    return [
        nn.Conv2d(cin, cout, k, stride, pad, bias=False),
        nn.BatchNorm2d(cout, eps=1e-3, momentum=0.1),
        nn.ReLU(inplace=True),
    ]


def build(arch: str) -> nn.Module:
    """Candidate architectures; NCHW input (N, 1, 28, 28)."""
    if arch == "s16":  # 28 -conv5-> 24 -pool-> 12 -conv3-> 10 -pool-> 5
        layers = [*_block(1, 16, 5), nn.MaxPool2d(2), *_block(16, 32, 3), nn.MaxPool2d(2)]
        layers += [nn.Flatten(), nn.Linear(32 * 5 * 5, 10)]
    elif arch == "s24":
        layers = [*_block(1, 24, 5), nn.MaxPool2d(2), *_block(24, 48, 3), nn.MaxPool2d(2)]
        layers += [nn.Flatten(), nn.Linear(48 * 5 * 5, 10)]
    elif arch == "c32":  # the classic Keras mnist_cnn-ish with BN
        layers = [*_block(1, 32, 3), nn.MaxPool2d(2), *_block(32, 64, 3), nn.MaxPool2d(2)]
        layers += [nn.Flatten(), nn.Linear(64 * 5 * 5, 10)]
    elif arch == "st16":  # stride-2 first conv: 28 -> 12, then 3x3 -> 10 -> pool 5
        layers = [*_block(1, 16, 5, 2, 0), *_block(16, 32, 3), nn.MaxPool2d(2)]
        layers += [nn.Flatten(), nn.Linear(32 * 5 * 5, 10)]
    elif arch == "st32":
        layers = [*_block(1, 32, 5, 2, 0), *_block(32, 64, 3), nn.MaxPool2d(2)]
        layers += [nn.Flatten(), nn.Linear(64 * 5 * 5, 10)]
    elif arch == "p3h":
        layers = [*_block(1, 12, 3, 1, 1), nn.MaxPool2d(2), *_block(12, 24, 3, 1, 1)]
        layers += [nn.MaxPool2d(2), *_block(24, 48, 3), nn.MaxPool2d(2), nn.Flatten()]
        layers += [nn.Linear(48 * 2 * 2, 10)]
    elif arch == "p3":  # three blocks, pool each
        layers = [*_block(1, 16, 3, 1, 1), nn.MaxPool2d(2), *_block(16, 32, 3, 1, 1)]
        layers += [nn.MaxPool2d(2), *_block(32, 64, 3), nn.MaxPool2d(2), nn.Flatten()]
        layers += [nn.Linear(64 * 2 * 2, 10)]
    else:
        raise SystemExit(f"unknown arch {arch}")
    return nn.Sequential(*layers)


def macs(model: nn.Module) -> int:
    """Multiply-adds per image of conv and linear layers, by forward hooks."""
    total = 0

    def hook(mod: nn.Module, inp: tuple, out: torch.Tensor) -> None:
        nonlocal total
        if isinstance(mod, nn.Conv2d):
            k = mod.weight[0].numel()
            total += out[0].numel() * k
        elif isinstance(mod, nn.Linear):
            total += mod.weight.numel()

    hs = [m.register_forward_hook(hook) for m in model.modules()]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, 28, 28))
    for h in hs:
        h.remove()
    return total


def run(args: argparse.Namespace, seed: int) -> tuple[float, float, float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    x_train, y_train, x_test, y_test = load_mnist()
    x_train, y_train = x_train[: args.ntrain], y_train[: args.ntrain]
    t_load = time.perf_counter() - t0
    torch.manual_seed(seed)
    model = build(args.arch).to(memory_format=torch.channels_last)
    n = x_train.shape[0]
    steps = (n // args.batch) * args.epochs  # drop the last partial batch
    if args.opt == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    elif args.opt == "adamw":
        opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.wd)
    else:
        opt = torch.optim.SGD(
            model.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=args.wd
        )
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=args.lr, total_steps=steps, pct_start=args.warm,
        anneal_strategy="linear" if args.linear else "cos",
        div_factor=args.div, final_div_factor=args.fdiv, cycle_momentum=False,
    )  # fmt: skip
    scale = 1.0 / (255.0 * STD)
    shift = MEAN / STD
    model.train()
    for _ in range(args.epochs):
        perm = torch.randperm(n)
        for i in range(n // args.batch):
            idx = perm[i * args.batch : (i + 1) * args.batch]
            xb = x_train[idx].unsqueeze(1).float().mul_(scale).sub_(shift)
            yb = y_train[idx]
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                logits = model(xb)
            loss = F.cross_entropy(logits.float(), yb, label_smoothing=args.ls)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    t_train = time.perf_counter() - t0 - t_load
    model.eval()
    correct = 0
    with torch.inference_mode():
        for i in range(0, x_test.shape[0], 1000):
            xb = x_test[i : i + 1000].unsqueeze(1).float().mul_(scale).sub_(shift)
            correct += int((model(xb).argmax(1) == y_test[i : i + 1000]).sum())
    acc = correct / x_test.shape[0]
    return acc, time.perf_counter() - t0, time.process_time() - c0, t_train


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="s16")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--opt", default="adam")
    p.add_argument("--wd", type=float, default=0.0)
    p.add_argument("--warm", type=float, default=0.25)
    p.add_argument("--div", type=float, default=10.0)
    p.add_argument("--fdiv", type=float, default=100.0)
    p.add_argument("--linear", action="store_true")
    p.add_argument("--ls", type=float, default=0.0)
    p.add_argument("--bf16", action="store_true")
    p.add_argument(
        "--ntrain", type=int, default=60000, help="Keras validation_split keeps the head"
    )
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    print(f"arch={args.arch} MACs/img={macs(build(args.arch)):,} {vars(args)}")
    accs = []
    for seed in args.seeds:
        acc, wall, cpu, train = run(args, seed)
        accs.append(acc)
        load = os.getloadavg()[0]
        print(
            f"seed {seed}: acc {acc:.4f} wall {wall:.2f}s train {train:.2f}s "
            f"cpu {cpu:.2f}s load {load:.2f}"
        )
    print(f"median acc {float(np.median(accs)):.4f}")


if __name__ == "__main__":
    main()
