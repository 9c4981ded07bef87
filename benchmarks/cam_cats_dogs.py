"""Real photos: where a cats-vs-dogs EfficientNet-Lite0 looks, 8 photos x 3 methods.

EfficientNet-Lite0 with its ImageNet weights (the ``lite0`` extra) gets a new
head trained on a frozen body (``cnnkit.transfer.fine_tune`` stage 1 only) on
every second training photo of ``$CNNKIT_DATA/cats-vs-dogs`` (700) and is scored
on all 300 validation photos. Then 8 validation photos (the first 4 cats and
the first 4 dogs, sorted by file name) are explained with Grad-CAM, LayerCAM
and Eigen-CAM at the last spatial layer, and written as one grid.

    CNNKIT_DATA=../shared/data .venv/bin/python benchmarks/cam_cats_dogs.py \
        [-o docs/images/cam_cats_dogs.png] [--head-epochs 10]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

METHODS = ("gradcam", "layercam", "eigencam")


def every_second(source: Path, target: Path) -> None:
    """Symlink every second photo of each class folder (the transfer test's split)."""
    for folder in sorted(p for p in source.iterdir() if p.is_dir()):
        (target / folder.name).mkdir(parents=True)
        for path in sorted(folder.glob("*.jpg"))[::2]:
            (target / folder.name / path.name).symlink_to(path.resolve())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default="docs/images/cam_cats_dogs.png")
    parser.add_argument("--head-epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from cnnkit.applications import EfficientNetLite0
    from cnnkit.explain import cam_result, plot_cam_grid
    from cnnkit.preprocessing.image import img_to_array, load_img
    from cnnkit.transfer import fine_tune
    from cnnkit.utils import image_dataset_from_directory, set_random_seed

    root = Path(os.environ.get("CNNKIT_DATA", "")) / "cats-vs-dogs"
    if not root.is_dir():
        raise SystemExit(f"no cats-vs-dogs photos under CNNKIT_DATA ({root})")
    size = {"image_size": (224, 224), "shuffle": False}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        every_second(root / "train", Path(tmp) / "train")
        train = image_dataset_from_directory(Path(tmp) / "train", **size)
        val = image_dataset_from_directory(root / "validation", **size)
        set_random_seed(args.seed)
        result = fine_tune(
            EfficientNetLite0(weights="imagenet"),
            train,
            val,
            head_epochs=args.head_epochs,
            epochs=0,
            augment=None,
            verbose=0,
        )
    accuracy = float(np.mean(result.val_predictions.argmax(axis=1) == result.val_labels))
    print(
        f"head on a frozen Lite0, {len(train.file_paths)} photos: validation accuracy "
        f"{accuracy:.4f} on {len(val.file_paths)} ({time.perf_counter() - start:.0f} s, "
        f"load {os.getloadavg()[0]:.1f})"
    )

    paths = [
        p
        for name in val.class_names
        for p in sorted((root / "validation" / name).glob("*.jpg"))[:4]
    ]
    photos = np.stack([img_to_array(load_img(p, target_size=(224, 224))) for p in paths])
    maps, first = {}, None
    for method in METHODS:
        start = time.perf_counter()
        first = cam_result(result.model, photos, method=method, batch_size=8)
        maps[method] = first.maps
        print(f"{method}: layer {first.layer}, {time.perf_counter() - start:.1f} s")
    names = [
        f"{Path(p).parent.name[:-1]}: {val.class_names[k][:-1]}"
        for p, k in zip(paths, first.predicted, strict=True)
    ]
    print("true: predicted ->", names)
    plot_cam_grid(
        photos.astype(np.uint8),
        maps,
        class_names=names,
        probabilities=first.probabilities,
        path=args.output,
        dpi=60,
        tile=2.0,
    )
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
