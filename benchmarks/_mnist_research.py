"""Scratch research for the default MNIST recipe, in plain PyTorch (no cnnkit).

Each candidate is an architecture plus a schedule. The script trains it for one or more seeds
and prints test accuracy, wall time (data loading included, process start excluded) and CPU
time, so that runs on a shared, noisy machine can still be compared.

Usage::

    .venv/bin/python benchmarks/_mnist_research.py --arch s16 --epochs 1 --no-bf16 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import gzip
import os
import time
from dataclasses import dataclass, fields
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


def _bn_relu(c: int) -> list[nn.Module]:
    return [nn.BatchNorm2d(c, eps=1e-3, momentum=0.1), nn.ReLU(inplace=True)]


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
    elif arch == "p3b":  # pool before BN-ReLU: the elementwise layers run on 1/4 the values
        layers = [nn.Conv2d(1, 16, 3, 1, 1, bias=False), nn.MaxPool2d(2), *_bn_relu(16)]
        layers += [nn.Conv2d(16, 32, 3, 1, 1, bias=False), nn.MaxPool2d(2), *_bn_relu(32)]
        layers += [nn.Conv2d(32, 64, 3, bias=False), nn.MaxPool2d(2), *_bn_relu(64)]
        layers += [nn.Flatten(), nn.Linear(64 * 2 * 2, 10)]
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


@dataclass(frozen=True)
class Config:
    """One candidate; the defaults are the chosen recipe (``cnnkit.applications._recipes``)."""

    arch: str = "p3"
    epochs: int = 2
    batch: int = 256
    lr: float = 0.01  # one-cycle peak
    opt: str = "adam"
    wd: float = 0.0
    warm: float = 0.25  # fraction of steps warming up
    div: float = 10.0  # initial rate = peak / div
    fdiv: float = 100.0  # final rate = initial / fdiv
    linear: bool = False
    ls: float = 0.0  # label smoothing
    bf16: bool = True
    ntrain: int = 60000  # Keras' validation_split keeps the head of the data


def run(cfg: Config, seed: int) -> tuple[float, float, float, float]:
    """Train and test one seed: (test accuracy, wall s, CPU s, training wall s).

    The hand-written loop: uint8 data batched by index gather and standardised per
    batch, channels_last, bf16 autocast, one-cycle rate per batch, the last partial
    batch kept (as ``fit`` does), test accuracy in batches of 1000 under inference_mode.
    """
    t0, c0 = time.perf_counter(), time.process_time()
    x_train, y_train, x_test, y_test = load_mnist()
    x_train, y_train = x_train[: cfg.ntrain], y_train[: cfg.ntrain]
    t_load = time.perf_counter() - t0
    torch.manual_seed(seed)
    model = build(cfg.arch).to(memory_format=torch.channels_last)
    n = x_train.shape[0]
    per_epoch = -(-n // cfg.batch)
    if cfg.opt == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    elif cfg.opt == "adamw":
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.wd)
    else:
        opt = torch.optim.SGD(
            model.parameters(), lr=cfg.lr, momentum=0.9, nesterov=True, weight_decay=cfg.wd
        )
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=cfg.lr, total_steps=per_epoch * cfg.epochs, pct_start=cfg.warm,
        anneal_strategy="linear" if cfg.linear else "cos",
        div_factor=cfg.div, final_div_factor=cfg.fdiv, cycle_momentum=False,
    )  # fmt: skip
    scale = 1.0 / (255.0 * STD)
    shift = MEAN / STD
    model.train()
    for _ in range(cfg.epochs):
        perm = torch.randperm(n)
        for i in range(per_epoch):
            idx = perm[i * cfg.batch : (i + 1) * cfg.batch]
            xb = x_train[idx].unsqueeze(1).float().mul_(scale).sub_(shift)
            yb = y_train[idx]
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
                logits = model(xb)
            loss = F.cross_entropy(logits.float(), yb, label_smoothing=cfg.ls)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    t_train = time.perf_counter() - t0 - t_load
    model.eval()
    correct = torch.zeros((), dtype=torch.long)
    with torch.inference_mode():
        for i in range(0, x_test.shape[0], 1000):
            xb = x_test[i : i + 1000].unsqueeze(1).float().mul_(scale).sub_(shift)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
                correct += (model(xb).argmax(1) == y_test[i : i + 1000]).sum()
    acc = int(correct) / x_test.shape[0]
    return acc, time.perf_counter() - t0, time.process_time() - c0, t_train


_TYPES = {"int": int, "float": float, "str": str}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    for f in fields(Config):
        if f.type == "bool":
            p.add_argument(f"--{f.name}", action=argparse.BooleanOptionalAction, default=f.default)
        else:
            p.add_argument(f"--{f.name}", type=_TYPES[f.type], default=f.default)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    cfg = Config(**{f.name: getattr(args, f.name) for f in fields(Config)})
    print(f"MACs/img={macs(build(cfg.arch)):,} {cfg}")
    accs = []
    for seed in args.seeds:
        acc, wall, cpu, train = run(cfg, seed)
        accs.append(acc)
        load = os.getloadavg()[0]
        print(
            f"seed {seed}: acc {acc:.4f} wall {wall:.2f}s train {train:.2f}s "
            f"cpu {cpu:.2f}s load {load:.2f}"
        )
    print(f"median acc {float(np.median(accs)):.4f}")


if __name__ == "__main__":
    main()
