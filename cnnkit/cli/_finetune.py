"""``cnnkit finetune``: transfer a pretrained zoo model to a folder of images.

    cnnkit finetune --model efficientnet_lite0 --weights imagenet \\
        --data photos/ --epochs 3 --out runs/pets

``--data`` is either a folder with ``train/`` and ``validation/`` sub-folders
(each holding one sub-folder per class) or a single folder of class
sub-folders, split with ``--validation-split``. Writes ``model.cnnkit`` (takes
raw 0..255 RGB images), ``classes.json``, ``report.txt``, ``curves.png`` and
``confusion.png`` into ``--out``. All the work is :func:`cnnkit.transfer.fine_tune`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from cnnkit._errors import invalid_value

__all__ = ["add_arguments", "load_folders", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``cnnkit finetune``."""
    parser.add_argument("--model", default="efficientnet_lite0", help="zoo model name")
    parser.add_argument(
        "--weights",
        default="imagenet",
        help="'imagenet', a .pth/.safetensors file, or 'none' (random initialisation)",
    )
    parser.add_argument("--data", required=True, help="folder with train/ and validation/")
    parser.add_argument("--epochs", type=int, default=3, help="fine-tuning epochs (stage 2)")
    parser.add_argument("--head-epochs", type=int, default=10, help="head-only epochs (stage 1)")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate of stage 1")
    parser.add_argument(
        "--finetune-lr-factor",
        type=float,
        default=0.1,
        help="stage 2 starts at lr x this, then decays (see --schedule)",
    )
    parser.add_argument(
        "--schedule",
        choices=["cosine", "none"],
        default="cosine",
        help="stage 2 learning rate: cosine decay to 0 (default) or constant",
    )
    parser.add_argument(
        "--augment",
        choices=["flip", "none"],
        default="flip",
        help="train on mirrored copies too (default); 'none' for text, digits, signs",
    )
    parser.add_argument(
        "--precision",
        choices=["auto", "float32", "bf16"],
        default="auto",
        help="of the one caching pass (auto: bf16 where the CPU/GPU has it natively)",
    )
    parser.add_argument("--unfreeze-from", default=None, help="stage or layer name")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=None, help="default: the model's")
    parser.add_argument("--validation-split", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-cache", action="store_true", help="run the whole network per batch")
    parser.add_argument("--out", default=None, help="output folder (default runs/finetune-MODEL)")
    parser.add_argument("--verbose", type=int, choices=[0, 1, 2], default=2)


def load_folders(
    data: str, size: tuple[int, int], batch_size: int, split: float, seed: int
) -> tuple[Any, Any]:
    """``(train, validation)`` datasets from ``data`` (see the module docstring)."""
    from cnnkit.utils import image_dataset_from_directory

    root = Path(data)
    if not root.is_dir():
        raise invalid_value("finetune: `--data` is not a folder.", received={"data": data})
    common = {"image_size": size, "batch_size": batch_size}
    if (root / "train").is_dir() and (root / "validation").is_dir():
        train = image_dataset_from_directory(root / "train", shuffle=False, **common)
        val = image_dataset_from_directory(root / "validation", shuffle=False, **common)
        if train.class_names != val.class_names:
            raise invalid_value(
                "finetune: train/ and validation/ must hold the same class folders.",
                received={"train": train.class_names, "validation": val.class_names},
            )
        return train, val
    return image_dataset_from_directory(
        root, validation_split=split, subset="both", seed=seed, **common
    )


def run(args: argparse.Namespace) -> int:
    from cnnkit.applications import get_model
    from cnnkit.transfer import fine_tune
    from cnnkit.utils import set_random_seed
    from cnnkit.viz import confusion_matrix, plot_confusion_matrix, plot_history

    set_random_seed(args.seed)
    weights = None if args.weights.lower() == "none" else args.weights
    kwargs: dict[str, Any] = {"weights": weights, "include_top": False}
    if args.image_size is not None:
        kwargs["input_shape"] = (args.image_size, args.image_size, 3)
    base = get_model(args.model, **kwargs)
    size = base.sample_shape[:2]
    train, val = load_folders(args.data, size, args.batch_size, args.validation_split, args.seed)
    out = Path(args.out or f"runs/finetune-{args.model}")
    out.mkdir(parents=True, exist_ok=True)
    result = fine_tune(
        base,
        train,
        val,
        head_epochs=args.head_epochs,
        epochs=args.epochs,
        unfreeze_from=args.unfreeze_from,
        lr=args.lr,
        finetune_lr_factor=args.finetune_lr_factor,
        schedule=None if args.schedule == "none" else args.schedule,
        augment=None if args.augment == "none" else args.augment,
        precision=args.precision,
        batch_size=args.batch_size,
        cache=not args.no_cache,
        verbose=args.verbose,
    )
    result.model.save(out / "model.cnnkit")
    names = list(train.class_names)
    _write(out / "classes.json", json.dumps(names, indent=2) + "\n")
    plot_history(
        result.history,
        out / "curves.png",
        title=f"{args.model} on {Path(args.data).name}",
        stages={"fine-tune": args.head_epochs + 1} if args.epochs and args.head_epochs else None,
    )
    cm = confusion_matrix(result.val_labels, result.val_predictions, num_classes=len(names))
    plot_confusion_matrix(cm, out / "confusion.png", class_names=names, title="validation")
    accuracy = float(cm.trace() / max(1, cm.sum()))
    report = f"{result}\nvalidation accuracy of the saved model: {accuracy:.4f}\n"
    _write(out / "report.txt", report)
    print(report, end="")
    print(f"wrote {out}/model.cnnkit, classes.json, report.txt, curves.png, confusion.png")
    return 0


def _write(path: Path, text: str) -> None:
    from cnnkit._io import atomic_write

    atomic_write(path, lambda tmp: Path(tmp).write_text(text))
