"""Benchmark: cnnkit's image loaders and batch augmentation against hand-written equivalents.

Run: ``CNNKIT_DATA=../shared/data python benchmarks/data_loading.py [--epochs 2] [--size 160]``

1. ``image_dataset_from_directory`` over cats-vs-dogs/train (1,400 JPEGs) against
   a hand-written PyTorch pipeline doing the same work: a ``Dataset`` that opens,
   converts and resizes each image with Pillow, a ``DataLoader`` with the same
   number of worker processes, batch size and shuffling, and the float cast.
   Time per epoch after a warm-up epoch (workers started). Goal: ratio <= 1.05.
2. ``ImageDataGenerator(rotation, shifts, zoom, flip).flow`` on a batch of 32
   images against Keras' own method, one SciPy ``affine_transform`` per image
   and channel (what ``keras.preprocessing.image`` runs), with torch's default
   thread count and with one thread (SciPy is single-threaded; on a busy
   machine torch's thread pool suffers most). Ratio < 1 is faster.

Ratio = cnnkit time / reference time. Both run in this one process.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from scipy import ndimage
from torch.utils.data import DataLoader, Dataset

from cnnkit.data import list_image_files
from cnnkit.preprocessing.image import ImageDataGenerator
from cnnkit.utils import data_dirs, image_dataset_from_directory


class HandWritten(Dataset):
    """The plain PyTorch way: one image per ``__getitem__``, default collate."""

    def __init__(self, root: Path, size: int):
        self.classes = sorted(p.name for p in root.iterdir() if p.is_dir())
        self.items = [
            (f, k) for k, c in enumerate(self.classes) for f in list_image_files(root / c)
        ]
        self.size = size

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        path, label = self.items[i]
        with Image.open(path) as img:
            img = img.convert("RGB").resize((self.size, self.size), Image.Resampling.BILINEAR)
            return torch.from_numpy(np.array(img)), label


def epoch_time(loader, epochs: int) -> float:
    for _ in loader:  # warm-up: start the workers
        pass
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        n = 0
        for x, _y in loader:
            x = x.float() if x.dtype == torch.uint8 else x
            n += x.shape[0]
        times.append(time.perf_counter() - start)
    return min(times)


def keras_scipy_augment(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Keras' per-image path: rotation·shift·zoom matrix, SciPy warp per channel, flip."""
    out = np.empty_like(x)
    h, w = x.shape[1:3]
    for i, img in enumerate(x):
        t = np.deg2rad(rng.uniform(-20, 20))
        tx, ty = rng.uniform(-0.1, 0.1) * h, rng.uniform(-0.1, 0.1) * w
        zx, zy = rng.uniform(0.9, 1.1, 2)
        m = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
        m = m @ np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]]) @ np.diag([zx, zy, 1])
        o = np.array([[1, 0, h / 2 - 0.5], [0, 1, w / 2 - 0.5], [0, 0, 1]])
        m = o @ m @ np.linalg.inv(o)
        for c in range(x.shape[3]):
            out[i, :, :, c] = ndimage.affine_transform(
                img[:, :, c], m[:2, :2], m[:2, 2], order=1, mode="nearest"
            )
        if rng.random() < 0.5:
            out[i] = out[i, :, ::-1]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--size", type=int, default=160)
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    args = parser.parse_args()
    roots = [d / "cats-vs-dogs" / "train" for d in data_dirs()]
    root = next((r for r in roots if r.is_dir()), None)
    if root is None:
        raise SystemExit("cats-vs-dogs not found: set CNNKIT_DATA to the shared data folder")
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, {args.workers} workers, {root}")

    ours = image_dataset_from_directory(
        root,
        image_size=(args.size, args.size),
        batch_size=32,
        seed=0,
        num_workers=args.workers,
        verbose=False,
    )
    ref = DataLoader(
        HandWritten(root, args.size),
        batch_size=32,
        shuffle=True,
        num_workers=args.workers,
        persistent_workers=args.workers > 0,
    )
    t_ours, t_ref = epoch_time(ours, args.epochs), epoch_time(ref, args.epochs)
    n = len(ours.file_paths)
    print(
        f"directory epoch ({n} JPEGs -> {args.size}px): cnnkit {t_ours:.2f}s "
        f"({n / t_ours:.0f} img/s), hand-written DataLoader {t_ref:.2f}s, "
        f"ratio {t_ours / t_ref:.2f}"
    )

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (32, args.size, args.size, 3)).astype(np.float32)
    gen = ImageDataGenerator(
        rotation_range=20,
        width_shift_range=0.1,
        height_shift_range=0.1,
        zoom_range=0.1,
        horizontal_flip=True,
    )
    default_threads = torch.get_num_threads()
    for threads in sorted({default_threads, 1}, reverse=True):
        torch.set_num_threads(threads)
        it = gen.flow(x, batch_size=32, shuffle=False, seed=0)
        ours, ref = [], []
        for _ in range(7):
            start = time.perf_counter()
            it[0]
            ours.append(time.perf_counter() - start)
            it.on_epoch_end()
            start = time.perf_counter()
            keras_scipy_augment(x, rng)
            ref.append(time.perf_counter() - start)
        t_ours, t_ref = float(np.median(ours)), float(np.median(ref))
        print(
            f"augment 32×{args.size}×{args.size}×3, torch threads={threads}: cnnkit batch "
            f"grid_sample {t_ours * 1e3:.0f} ms, Keras-style per-image SciPy {t_ref * 1e3:.0f} ms "
            f"(medians of 7), ratio {t_ours / t_ref:.2f}"
        )
    torch.set_num_threads(default_threads)


if __name__ == "__main__":
    main()
