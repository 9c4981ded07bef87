"""Feature extraction throughput: cnnkit.transfer.extract_features vs a plain PyTorch loop.

Both sides extract EfficientNet-Lite0's pooled 1280-d features (real ImageNet
weights when the ``lite0`` extra is installed, else random ones) from the same
photos at 224×224, JPEG decode and resize included, in one process:

- cnnkit: ``image_dataset_from_directory`` (Pillow decode in worker
  processes, overlapping the network) + ``extract_features``
  (``inference_mode``, channels_last weights, and with the default
  ``precision="auto"`` bf16 autocast on a CPU with native bf16);
- plain: the same network object called in a loop written here: sequential
  Pillow decode and resize, default memory format, ``torch.no_grad``.

Then the inference time per batch of 16 of ResNet-50 and VGG16 (random
weights: the time does not depend on the values), in float32 as built and
through the body ``extract_features`` runs (bf16 autocast with BatchNorm folded
where the CPU has native bf16).

    CNNKIT_DATA=/path/to/data .venv/bin/python benchmarks/feature_extraction.py [--limit N]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image


def photos(limit: int | None) -> list[Path]:
    for folder in os.environ.get("CNNKIT_DATA", "").split(os.pathsep):
        root = (Path(folder) / "cats-vs-dogs").resolve()  # the links below need absolute targets
        if folder and root.is_dir():
            files = sorted(root.rglob("*.jpg"))
            return files if limit is None else files[:: max(1, len(files) // limit)][:limit]
    raise SystemExit("Set CNNKIT_DATA to a directory that holds cats-vs-dogs/.")


def plain_loop(model: torch.nn.Module, files: list[Path], batch: int) -> np.ndarray:
    """The hand-written baseline: sequential decode, default memory format, no_grad."""
    out = []
    model.eval()
    with torch.no_grad():
        for start in range(0, len(files), batch):
            arrays = []
            for path in files[start : start + batch]:
                with Image.open(path) as image:
                    rgb = image.convert("RGB").resize((224, 224), Image.Resampling.BILINEAR)
                arrays.append(np.asarray(rgb, dtype=np.float32))
            x = torch.from_numpy(np.stack(arrays)) / 127.5 - 1.0
            out.append(model.forward_features(x).mean(dim=(1, 2)))
    return torch.cat(out).numpy()


def cnnkit_path(model: torch.nn.Module, folder: Path, batch: int) -> np.ndarray:
    from cnnkit.transfer import extract_features
    from cnnkit.utils import image_dataset_from_directory

    data = image_dataset_from_directory(
        folder, labels=None, image_size=(224, 224), batch_size=batch, shuffle=False
    )
    features, _ = extract_features(model, data, verbose=False)
    return features


def link_folder(files: list[Path], where: str) -> Path:
    """A folder of symlinks to ``files`` (sorted names keep the plain loop's order)."""
    root = Path(where) / "photos"
    root.mkdir()
    for i, path in enumerate(files):
        (root / f"{i:05d}.jpg").symlink_to(path)
    return root


def _best_times(fn: Any, repeats: int) -> list[float]:
    fn()  # warm-up: oneDNN primitive creation
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def zoo_timing(repeats: int) -> None:
    """Batch-16 forward passes: the model as built (float32) and extract_features' body."""
    from cnnkit.applications import VGG16, ResNet50
    from cnnkit.transfer._extract import _inference_body, resolve_precision

    x = torch.rand(16, 224, 224, 3)
    bf16 = resolve_precision("auto", torch.device("cpu")) == "bf16"
    for build in (ResNet50, VGG16):
        model = build(weights=None).eval().to(memory_format=torch.channels_last)
        with torch.inference_mode():
            plain = _best_times(lambda m=model: m(x), repeats)
            body = _inference_body(model, torch.device("cpu")) if bf16 else model
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                fast = _best_times(lambda m=body: m(x), repeats)
        print(
            f"{build.__name__:<9} batch 16 inference: float32 best {min(plain) * 1e3:,.0f} ms "
            f"(median {np.median(plain) * 1e3:,.0f}); extract_features' path "
            f"({'bf16 autocast, any BN folded' if bf16 else 'float32'}) best "
            f"{min(fast) * 1e3:,.0f} ms (median {np.median(fast) * 1e3:,.0f}); "
            f"random weights, {repeats} runs"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="use N photos (default all)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2, help="alternating rounds")
    parser.add_argument("--zoo-repeats", type=int, default=3)
    args = parser.parse_args()

    from cnnkit.applications import EfficientNetLite0

    try:
        model = EfficientNetLite0(weights="imagenet", include_top=False)
        weights = "ImageNet"
    except Exception:  # the lite0 extra is missing: the timing does not need real weights
        model = EfficientNetLite0(weights=None, include_top=False)
        weights = "random"
    files = photos(args.limit)
    print(f"load: {os.getloadavg()[0]:.1f} (1-min average) on {os.cpu_count()} CPUs")
    print(f"{len(files)} photos, EfficientNet-Lite0 ({weights} weights), batch {args.batch_size}")
    rates: dict[str, list[float]] = {"plain": [], "cnnkit": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = link_folder(files, tmp)
        for _ in range(args.repeats):
            for name in ("plain", "cnnkit"):
                start = time.perf_counter()
                if name == "plain":
                    ref = plain_loop(model, files, args.batch_size)
                else:
                    got = cnnkit_path(model, folder, args.batch_size)
                rates[name].append(len(files) / (time.perf_counter() - start))
                print(f"  {name:<6} {rates[name][-1]:6.1f} images/s", flush=True)
    relative = np.linalg.norm(got - ref, axis=1) / np.linalg.norm(ref, axis=1)
    print(
        f"max |cnnkit - plain| feature difference: {np.abs(got - ref).max():.2e}; per-image "
        f"relative error median {np.median(relative):.4f}, max {relative.max():.4f}"
    )
    best = {k: max(v) for k, v in rates.items()}
    print(
        f"best: plain {best['plain']:.1f} images/s, cnnkit {best['cnnkit']:.1f} images/s, "
        f"ratio {best['cnnkit'] / best['plain']:.2f}x"
    )
    print(f"load after: {os.getloadavg()[0]:.1f}")
    if args.zoo_repeats:
        zoo_timing(args.zoo_repeats)


if __name__ == "__main__":
    main()
