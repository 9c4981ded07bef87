"""``jit_compile``: cnnkit with and without it against plain PyTorch eager and ``torch.compile``.

The keras.io example "Image classification from scratch" (a small Xception: Conv 128/2,
three residual blocks of SeparableConv 256/512/728 with BatchNorm and max-pooling, a
SeparableConv 1024, global average pooling, dropout, one logit) on the cats-vs-dogs photos
decoded once to 96×96 (1,120 photos: 18 steps of batch 64, the last one ragged at 32, as the
example's 80 % split gives), Adam 3e-4, binary cross-entropy from logits; then one
``predict`` of a single photo, as the example does. All four runs in ONE process:

- ``torch eager``: the same network as plain ``nn.Module``s, trained by the usual loop.
- ``torch.compile``: that network through ``torch.compile`` (default mode); its first epoch
  pays the compile, the ragged last batch and the one-photo predict each pay a recompile.
- ``cnnkit jit_compile=False`` / ``cnnkit jit_compile=True``: ``model.fit`` then
  ``model.predict`` on the cnnkit functional model.

Wall seconds per run: first epoch (includes any compile), a second epoch (steady state),
and the one-photo predict. Ratios are against ``torch eager``.

Usage::

    CNNKIT_DATA=../shared/data .venv/bin/python benchmarks/compile.py
    CNNKIT_DATA=../shared/data .venv/bin/python benchmarks/compile.py --size 64 --photos 352
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

BATCH, LR = 64, 3e-4
BLOCKS = (256, 512, 728)


def load_photos(photos: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``photos`` cats-vs-dogs training photos as uint8 ``(n, size, size, 3)``, 0/1 labels."""
    from cnnkit.preprocessing.image import img_to_array, load_img

    root = Path(os.environ.get("CNNKIT_DATA", "../shared/data")) / "cats-vs-dogs" / "train"
    files = sorted((root / "cats").glob("*.jpg"))[: photos // 2]
    files += sorted((root / "dogs").glob("*.jpg"))[: photos // 2]
    x = np.stack([img_to_array(load_img(f, target_size=(size, size))) for f in files])
    y = np.array([0] * (photos // 2) + [1] * (photos // 2), dtype=np.float32)
    order = np.random.default_rng(0).permutation(len(x))
    return x.astype(np.uint8)[order], y[order]


def cnnkit_model(size: int):
    """The keras.io example's ``make_model((size, size, 3), 2)`` in cnnkit's functional API."""
    from cnnkit import layers
    from cnnkit.models import Model

    inputs = layers.Input((size, size, 3))
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = layers.Conv2D(128, 3, strides=2, padding="same")(x)
    x = layers.Activation("relu")(layers.BatchNormalization()(x))
    previous = x
    for size in BLOCKS:
        for _ in range(2):
            x = layers.Activation("relu")(x)
            x = layers.BatchNormalization()(layers.SeparableConv2D(size, 3, padding="same")(x))
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        residual = layers.Conv2D(size, 1, strides=2, padding="same")(previous)
        x = layers.add([x, residual])
        previous = x
    x = layers.BatchNormalization()(layers.SeparableConv2D(1024, 3, padding="same")(x))
    x = layers.GlobalAveragePooling2D()(layers.Activation("relu")(x))
    outputs = layers.Dense(1)(layers.Dropout(0.25)(x))
    return Model(inputs, outputs)


class SepConv(nn.Sequential):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(
            nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False), nn.Conv2d(cin, cout, 1)
        )


class TorchNet(nn.Module):
    """The same network in plain torch (NCHW input, channels_last memory)."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 128, 3, 2, 1), nn.BatchNorm2d(128), nn.ReLU())
        self.blocks, self.shortcuts = nn.ModuleList(), nn.ModuleList()
        cin = 128
        for size in BLOCKS:
            self.blocks.append(
                nn.Sequential(
                    nn.ReLU(), SepConv(cin, size), nn.BatchNorm2d(size),
                    nn.ReLU(), SepConv(size, size), nn.BatchNorm2d(size),
                    nn.MaxPool2d(3, 2, 1),
                )
            )  # fmt: skip
            self.shortcuts.append(nn.Conv2d(cin, size, 1, 2))
            cin = size
        self.head = nn.Sequential(
            SepConv(cin, 1024), nn.BatchNorm2d(1024), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.25), nn.Linear(1024, 1),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x / 255.0)
        for block, shortcut in zip(self.blocks, self.shortcuts, strict=True):
            x = block(x) + shortcut(x)
        return self.head(x)


def torch_run(x: torch.Tensor, y: torch.Tensor, compiled: bool) -> tuple[float, float, float]:
    torch.manual_seed(0)
    net = TorchNet().to(memory_format=torch.channels_last)
    forward = torch.compile(net) if compiled else net
    opt = torch.optim.Adam(net.parameters(), lr=LR, eps=1e-7)
    nchw = x.permute(0, 3, 1, 2)  # free: NHWC memory is channels_last NCHW
    times = []
    for epoch in range(2):
        start = time.perf_counter()
        net.train()
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(epoch))
        for i in range(0, len(x), BATCH):
            idx = order[i : i + BATCH]
            xb = nchw[idx].float().contiguous(memory_format=torch.channels_last)
            loss = F.binary_cross_entropy_with_logits(forward(xb)[:, 0], y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    net.eval()
    with torch.inference_mode():
        forward(nchw[:1].float().contiguous(memory_format=torch.channels_last))
    return times[0], times[1], time.perf_counter() - start


def cnnkit_run(x: np.ndarray, y: np.ndarray, jit_compile: bool) -> tuple[float, float, float]:
    from cnnkit.losses import BinaryCrossentropy
    from cnnkit.utils import set_random_seed

    set_random_seed(0)
    model = cnnkit_model(x.shape[1])
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        model.compile(
            optimizer="adam", loss=BinaryCrossentropy(from_logits=True), jit_compile=jit_compile
        )
    for w in seen:
        print(f"    compile() said: {w.message}")
    model.optimizer.param_groups[0]["lr"] = LR
    times = []
    for _ in range(2):
        start = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    model.predict(x[:1], verbose=0)
    return times[0], times[1], time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-torch-compile", action="store_true")
    parser.add_argument("--size", type=int, default=96, help="photo side in pixels")
    parser.add_argument("--photos", type=int, default=1120, help="photos per epoch")
    args = parser.parse_args()
    capability = torch.backends.cpu.get_cpu_capability()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU capability "
          f"{capability}, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    x_np, y_np = load_photos(args.photos, args.size)
    print(f"{len(x_np)} photos of {args.size}x{args.size}, batch {BATCH}")
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
    runs = {
        "torch eager": lambda: torch_run(x, y, compiled=False),
        "cnnkit jit_compile=False": lambda: cnnkit_run(x_np, y_np, False),
        "cnnkit jit_compile=True": lambda: cnnkit_run(x_np, y_np, True),
    }
    if not args.skip_torch_compile:
        runs["torch.compile"] = lambda: torch_run(x, y, compiled=True)
    results = {}
    for name, run in runs.items():
        results[name] = run()
        first, second, predict = results[name]
        print(f"  {name:26s} epoch 1 {first:7.1f} s  epoch 2 {second:7.1f} s  "
              f"predict(1 photo) {predict:6.2f} s", flush=True)  # fmt: skip
    base = results["torch eager"]
    print(
        f"ratios against torch eager (epoch 1 / epoch 2 / predict), load {os.getloadavg()[0]:.1f}:"
    )
    for name, (first, second, predict) in results.items():
        print(f"  {name:26s} {first / base[0]:6.2f}x  {second / base[1]:6.2f}x  "
              f"{predict / base[2]:7.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
