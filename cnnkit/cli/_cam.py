"""``cnnkit cam MODEL IMAGE... --method gradcam -o cam.png``: class activation maps as a PNG.

MODEL is a saved model file (``model.cnnkit``) or a zoo name (``resnet18``,
with ``--weights imagenet`` for the pretrained weights; a zoo model gets its
family's ImageNet preprocessing, a saved model does its own). Images of any
size are decoded, converted to the model's channels and resized to its input
size (224 x 224 where the model takes any size), then explained as one batch.
One image and one method give a three-panel figure (image, heatmap, overlay
with class and probability); otherwise a grid of images x methods.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from cnnkit._errors import invalid_value

__all__ = ["add_arguments", "run"]

_ANY_SIZE = 224


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``cnnkit cam``."""
    parser.add_argument("model", help="a saved model file (model.cnnkit) or a zoo model name")
    parser.add_argument("images", nargs="+", help="image files (png, jpg, ...) of any size")
    parser.add_argument(
        "--method",
        default="gradcam",
        help="one method or a comma-separated list, e.g. gradcam,scorecam,eigencam "
        "(default gradcam)",
    )
    parser.add_argument("--target", type=int, help="class index to explain (default: predicted)")
    parser.add_argument("--layer", help="layer name or module path (default: last spatial layer)")
    parser.add_argument("--weights", default=None, help="zoo models: 'imagenet' or a file path")
    parser.add_argument("-o", "--output", default="cam.png", help="PNG to write (default cam.png)")


def _load(name: str, weights: str | None) -> tuple[Any, Any, Path | None]:
    """``(model, preprocess or None, model path or None)`` from a file or a zoo name."""
    path = Path(name)
    if path.exists():
        if weights is not None:
            raise invalid_value(
                "--weights applies to zoo model names, not to a saved model file.",
                received={"weights": weights},
            )
        from cnnkit.models import load_model

        return load_model(path, compile=False), None, path
    from cnnkit.applications import get_model

    model = get_model(name, weights=weights)
    preprocess = getattr(sys.modules.get(type(model).__module__), "preprocess_input", None)
    return model, preprocess, None


def _methods(text: str) -> list[str]:
    from cnnkit._errors import unknown_name
    from cnnkit.explain import CAM_METHODS

    names = [m.strip() for m in text.split(",") if m.strip()]
    for name in names or [text]:
        if name not in CAM_METHODS:
            raise unknown_name("CAM method", name, CAM_METHODS, argument="--method")
    return names


def run(args: argparse.Namespace) -> int:
    """Explain every image with every method and write one PNG."""
    from cnnkit.cli._predict import load_images
    from cnnkit.explain import cam_result, plot_cam, plot_cam_grid

    methods = _methods(args.method)
    model, preprocess, model_path = _load(args.model, args.weights)
    shape = model.input_shape
    if shape is None or len(shape) != 4:
        raise invalid_value(
            "cam needs a model with an image input (H, W, C).", received={"input_shape": shape}
        )
    _, height, width, channels = shape
    raw = load_images(args.images, height or _ANY_SIZE, width or _ANY_SIZE, channels)
    x = raw if preprocess is None else preprocess(raw.astype(np.float32))
    results = [cam_result(model, x, args.target, m, args.layer) for m in methods]
    first = results[0]
    names = _class_names(model_path, first.classes)
    labels = [names[t] for t in first.targets]
    print(f"layer: {first.layer}")
    for path, label, p in zip(args.images, labels, first.probabilities, strict=True):
        print(f"{path}: {label} (p={p:.4f})")
    if len(raw) == 1 and len(methods) == 1:
        plot_cam(
            raw[0],
            first.maps[0],
            class_name=labels[0],
            probability=float(first.probabilities[0]),
            method=methods[0],
            path=args.output,
        )
    else:
        maps = {m: r.maps for m, r in zip(methods, results, strict=True)}
        plot_cam_grid(
            raw, maps, class_names=labels, probabilities=first.probabilities, path=args.output
        )
    print(f"wrote {args.output}")
    return 0


def _class_names(model_path: Path | None, classes: int) -> list[str]:
    """``classes.json`` beside a saved model (as ``cnnkit predict``); ImageNet's for the zoo."""
    if model_path is not None:
        from cnnkit.cli._predict import _class_names as saved_names

        return saved_names(model_path, classes)
    if classes == 1000:
        from cnnkit.applications._imagenet import load_class_index

        try:
            return [name for _, name in load_class_index()]
        except (OSError, ValueError):
            pass
    return [f"class {i}" for i in range(classes)]
