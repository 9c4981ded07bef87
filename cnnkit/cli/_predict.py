"""``cnnkit predict MODEL IMAGE... --top-k 5``: classify image files with a saved model.

Each image is decoded with pillow, converted to the model's channels (grey or
RGB) and resized to its input size; the model itself rescales pixels. Class
names come from ``classes.json`` beside the model (written by ``cnnkit
train``), or ImageNet's for a 1000-class model.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from cnnkit._errors import invalid_value

__all__ = ["add_arguments", "load_images", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``cnnkit predict``."""
    parser.add_argument("model", help="a saved model file (model.cnnkit)")
    parser.add_argument("images", nargs="+", help="image files (png, jpg, ...)")
    parser.add_argument("--top-k", type=int, default=5, help="classes to show per image")


def load_images(paths: list[str], height: int, width: int, channels: int) -> np.ndarray:
    """Decode, convert and resize image files into one uint8 batch ``(n, h, w, c)``."""
    from PIL import Image, UnidentifiedImageError

    mode = {1: "L", 3: "RGB", 4: "RGBA"}.get(channels)
    if mode is None:
        raise invalid_value(
            "The model's input must have 1, 3 or 4 channels.", received={"channels": channels}
        )
    batch = np.empty((len(paths), height, width, channels), np.uint8)
    for i, path in enumerate(paths):
        try:
            with Image.open(path) as img:
                img = img.convert(mode).resize((width, height), Image.Resampling.BILINEAR)
                batch[i] = np.asarray(img).reshape(height, width, channels)
        except (FileNotFoundError, UnidentifiedImageError, OSError) as err:
            raise invalid_value(
                f"Cannot read image {path!r}: {err}.", received={"image": path}
            ) from err
    return batch


def _class_names(model_path: Path, classes: int) -> list[str]:
    from cnnkit.cli._train_data import read_class_names

    names = read_class_names(model_path, classes)
    if classes == 1000 and names[0] == "class 0":
        try:
            from cnnkit.applications._imagenet import load_class_index

            return [name for _, name in load_class_index()]
        except (ImportError, OSError, ValueError):
            return names
    return names


def run(args: argparse.Namespace) -> int:
    """Print the top-k classes with probabilities for every image."""
    from cnnkit.models import load_model

    if args.top_k < 1:
        raise invalid_value("--top-k must be >= 1.", received={"top_k": args.top_k})
    model_path = Path(args.model)
    model = load_model(model_path, compile=False)
    shape = model.input_shape
    if shape is None or len(shape) != 4 or None in shape[1:]:
        raise invalid_value(
            "predict needs a model with a fixed image input shape.", received={"input_shape": shape}
        )
    _, height, width, channels = shape
    probs = model.predict(load_images(args.images, height, width, channels), verbose=0)
    names = _class_names(model_path, probs.shape[-1])
    k = min(args.top_k, probs.shape[-1])
    for path, p in zip(args.images, probs, strict=True):
        top = np.argsort(-p)[:k]
        print(path)
        for rank, c in enumerate(top, 1):
            print(f"  {rank}. {names[c]:<20} {p[c]:.4f}")
    return 0
