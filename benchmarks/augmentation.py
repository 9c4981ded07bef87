"""``ImageDataGenerator.flow`` throughput: cnnkit against Keras' legacy class (or a PIL loop).

The courses' configuration (rotation 40, width/height shift 0.2, shear 0.2, zoom 0.2,
horizontal flip, fill "nearest", rescale 1/255) on real cats-vs-dogs photos decoded once
to 150×150×3 uint8, batch 32, all in ONE process, the sides timed in alternating rounds:

- ``cnnkit``: ``cnnkit.preprocessing.image.ImageDataGenerator(...).flow(x, y)``, batches
  drawn by index (one ``grid_sample`` warp per batch).
- ``keras``: ``keras.preprocessing.image.ImageDataGenerator`` with the same arguments, when
  Keras imports (Keras 3 needs a backend: ``KERAS_BACKEND=torch`` works with this venv).
- ``pil loop``: otherwise, the same random affine per image with Pillow's
  ``Image.transform(AFFINE, BILINEAR)`` plus flip and rescale in NumPy: the per-image
  baseline any hand-written pipeline starts from.

Prints images per second of each side (median over rounds) and the ratio cnnkit / anchor.

Usage::

    CNNKIT_DATA=../shared/data .venv/bin/python benchmarks/augmentation.py
    KERAS_BACKEND=torch PYTHONPATH=/path/to/keras CNNKIT_DATA=../shared/data \\
        .venv/bin/python benchmarks/augmentation.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

SIZE, BATCH = 150, 32
CONFIG = {
    "rotation_range": 40,
    "width_shift_range": 0.2,
    "height_shift_range": 0.2,
    "shear_range": 0.2,
    "zoom_range": 0.2,
    "horizontal_flip": True,
    "fill_mode": "nearest",
    "rescale": 1.0 / 255,
}


def load_photos(count: int) -> np.ndarray:
    from cnnkit.preprocessing.image import img_to_array, load_img

    root = Path(os.environ.get("CNNKIT_DATA", "../shared/data")) / "cats-vs-dogs" / "train"
    files = sorted(root.glob("*/*.jpg"))[:: max(1, 1400 // count)][:count]
    return np.stack([img_to_array(load_img(f, target_size=(SIZE, SIZE))) for f in files]).astype(
        np.uint8
    )


def keras_generator() -> Callable[[np.ndarray, np.ndarray], object] | None:
    try:
        import keras
    except Exception as error:  # Keras absent, or present without a usable backend
        print(f"keras: not usable here ({type(error).__name__}: {error}); PIL loop instead")
        return None
    try:  # Keras 2 and early Keras 3 export the legacy class; later 3.x keep it in src
        from keras.preprocessing.image import ImageDataGenerator
    except ImportError:
        from keras.src.legacy.preprocessing.image import ImageDataGenerator
    print(f"keras {keras.__version__} ({keras.backend.backend()} backend)")
    return lambda x, y: ImageDataGenerator(**CONFIG).flow(x, y, batch_size=BATCH, seed=0)


class PilLoop:
    """The same random affine, one image at a time with Pillow (fill: constant 0)."""

    def __init__(self, x: np.ndarray, seed: int = 0) -> None:
        self.x, self.rng = x, np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.x) // BATCH

    def __getitem__(self, i: int) -> np.ndarray:
        from PIL import Image

        out = np.empty((BATCH, SIZE, SIZE, 3), np.float32)
        c = SIZE / 2
        for k, img in enumerate(self.x[i * BATCH : (i + 1) * BATCH]):
            theta = np.deg2rad(self.rng.uniform(-40, 40))
            shear = np.deg2rad(self.rng.uniform(-0.2, 0.2))
            zx, zy = self.rng.uniform(0.8, 1.2, 2)
            tx, ty = self.rng.uniform(-0.2, 0.2, 2) * SIZE
            a = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
            a = a @ np.array([[1, -np.sin(shear)], [0, np.cos(shear)]]) @ np.diag([zy, zx])
            offset = np.array([c, c]) - a @ np.array([c, c]) + np.array([ty, tx])
            coeffs = (a[0, 0], a[0, 1], offset[0], a[1, 0], a[1, 1], offset[1])
            warped = Image.fromarray(img).transform((SIZE, SIZE), Image.AFFINE, coeffs,
                                                    Image.BILINEAR)  # fmt: skip
            arr = np.asarray(warped, np.float32)
            out[k] = (arr[:, ::-1] if self.rng.random() < 0.5 else arr) * CONFIG["rescale"]
        return out


def throughput(iterator: object, x: np.ndarray, batches: int, start: int) -> float:
    begin = time.perf_counter()
    for i in range(start, start + batches):
        iterator[i % (len(x) // BATCH)]  # full batches only
    return batches * BATCH / (time.perf_counter() - begin)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=640)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batches", type=int, default=10, help="batches per side per round")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from cnnkit.preprocessing.image import ImageDataGenerator

    x = load_photos(args.photos)
    y = np.zeros(len(x))
    ours = ImageDataGenerator(**CONFIG).flow(x, y, batch_size=BATCH, seed=0)
    make_keras = keras_generator()
    name, anchor = ("keras", make_keras(x, y)) if make_keras else ("pil loop", PilLoop(x))
    load = os.getloadavg()[0]
    print(f"{len(x)} photos {SIZE}x{SIZE}x3 uint8, batch {BATCH}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, load {load:.1f}")  # fmt: skip
    ours[0], anchor[0]  # warm-up
    results: dict[str, list[float]] = {"cnnkit": [], name: []}
    for r in range(args.rounds):
        results["cnnkit"].append(throughput(ours, x, args.batches, r * args.batches))
        results[name].append(throughput(anchor, x, args.batches, r * args.batches))
        print(f"  round {r}: cnnkit {results['cnnkit'][-1]:8.0f} img/s   "
              f"{name} {results[name][-1]:7.0f} img/s", flush=True)  # fmt: skip
    mine, theirs = statistics.median(results["cnnkit"]), statistics.median(results[name])
    print(f"median: cnnkit {mine:.0f} img/s, {name} {theirs:.0f} img/s, ratio "
          f"{mine / theirs:.1f}x (load {os.getloadavg()[0]:.1f})")  # fmt: skip


if __name__ == "__main__":
    main()
