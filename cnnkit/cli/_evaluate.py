"""``cnnkit evaluate MODEL --dataset mnist``: loss and accuracy of a saved model on a test set."""

from __future__ import annotations

import argparse
import json

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``cnnkit evaluate``."""
    parser.add_argument("model", help="a saved model file (model.cnnkit)")
    parser.add_argument(
        "--dataset",
        default="mnist",
        help="mnist, fashion_mnist, cifar10, or a folder (its held-out part is used)",
    )
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument(
        "--image-size",
        type=int,
        default=None,
        help="resize folder images to this side (default: the model's input)",
    )
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")


def run(args: argparse.Namespace) -> int:
    """Evaluate on the dataset's test split and print ``test accuracy: ...``."""
    from cnnkit.cli._train_data import load_dataset
    from cnnkit.models import load_model

    model = load_model(args.model)
    side = args.image_size or (model.input_shape[1] if model.input_shape else 64)
    data = load_dataset(args.dataset, image_size=(side, side), batch_size=args.batch_size)
    if not getattr(model, "compiled", False):
        model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    logs = model.evaluate(*data.test, batch_size=args.batch_size, verbose=0, return_dict=True)
    if args.json:
        print(json.dumps(logs, indent=2))
        return 0
    for key, value in logs.items():
        print(f"test {key}: {value:.4f}")
    return 0
