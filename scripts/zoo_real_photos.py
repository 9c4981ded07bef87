"""Acceptance 2 of issue #5: real EfficientNet-Lite0 weights on real cat and dog photos.

Classifies every photo of ``cats-vs-dogs/validation`` (found in $CNNKIT_DATA)
with the ImageNet weights and counts how many dogs get a dog class (151–268)
and how many cats a cat class (281–285) as their top-1 prediction. Prints a
few ``decode_predictions`` lines.

Usage: CNNKIT_DATA=../shared/data .venv/bin/python scripts/zoo_real_photos.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

from cnnkit.applications import EfficientNetLite0, decode_predictions
from cnnkit.applications._imagenet import load_eval_image
from cnnkit.applications.efficientnet_lite import preprocess_input
from cnnkit.utils import data_dirs

DOG_CLASSES = range(151, 269)
CAT_CLASSES = range(281, 286)


def classify(model: EfficientNetLite0, files: list[Path], batch_size: int = 50) -> np.ndarray:
    """Softmax scores ``(len(files), 1000)`` for the photos, in order."""
    out = []
    with torch.inference_mode():
        for i in range(0, len(files), batch_size):
            batch = np.stack([load_eval_image(f) for f in files[i : i + batch_size]])
            out.append(model(preprocess_input(batch)).numpy())
    return np.concatenate(out)


def main() -> int:
    roots = [d / "cats-vs-dogs" / "validation" for d in data_dirs()]
    root = next((r for r in roots if r.is_dir()), None)
    if root is None:
        print("cats-vs-dogs/validation not found: set CNNKIT_DATA to the shared data folder")
        return 1
    model = EfficientNetLite0(weights="imagenet").eval()
    for kind, wanted in (("dogs", DOG_CLASSES), ("cats", CAT_CLASSES)):
        files = sorted((root / kind).glob("*.jpg"))
        start = time.perf_counter()
        probs = classify(model, files)
        seconds = time.perf_counter() - start
        top1 = probs.argmax(axis=1)
        hits = np.isin(top1, list(wanted)).mean()
        print(
            f"{kind}: {hits:.1%} of {len(files)} photos get a top-1 class in "
            f"{wanted.start}-{wanted.stop - 1} ({len(files) / seconds:.0f} images/s)"
        )
        for f, preds in zip(files[:3], decode_predictions(probs[:3], top=3), strict=True):
            print(f"  {f.name}: " + ", ".join(f"{name} {p:.2f}" for _, name, p in preds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
