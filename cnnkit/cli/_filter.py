"""``cnnkit filter``: apply a named or custom kernel to an image file and save the result."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from cnnkit._errors import invalid_value
from cnnkit._io import atomic_write
from cnnkit.ops import (
    KERNELS,
    PADDING_NAMES,
    SCALES,
    apply_kernel,
    kernel_description,
    parse_kernel,
    sample_image,
    suggested_scale,
)

__all__ = ["add_arguments", "run", "write_image"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``cnnkit filter``."""
    parser.add_argument(
        "image",
        nargs="?",
        help="image file to filter (PNG, JPEG, ...); default: cnnkit's built-in test card",
    )
    parser.add_argument(
        "-k",
        "--kernel",
        default="sobel_x",
        help='a kernel name (see --list) or a matrix such as "1 0 -1; 2 0 -2; 1 0 -1" '
        "(default: sobel_x)",
    )
    parser.add_argument(
        "-o",
        "--output",
        help="output image path; format from the suffix (default: <image name>_<kernel>.png here)",
    )
    parser.add_argument(
        "--scale",
        choices=SCALES,
        help="how results become 0-255: clip, rescale (min..max -> 0..255) or abs (magnitude); "
        "default: abs for kernels that sum to 0 (edge detectors), clip otherwise",
    )
    parser.add_argument("--gray", action="store_true", help="convert to grayscale first")
    parser.add_argument(
        "--padding", default="same", choices=PADDING_NAMES, help="default: same (keeps the size)"
    )
    parser.add_argument("--list", action="store_true", help="list the named kernels and exit")


def run(args: argparse.Namespace) -> int:
    """Filter the image, write the result, print one line saying what was done."""
    if args.list:
        width = max(len(name) for name in KERNELS)
        for name in KERNELS:
            print(f"{name:<{width}}  {kernel_description(name)}")
        return 0
    # A name stays a name (apply_kernel looks it up); anything else is parsed as a matrix.
    kernel = args.kernel if args.kernel in KERNELS else parse_kernel(args.kernel, "--kernel")
    scale = args.scale or suggested_scale(kernel)
    image = sample_image() if args.image is None else _read_image(Path(args.image))
    result = apply_kernel(image, kernel, scale=scale, grayscale=args.gray, padding=args.padding)
    stem = "test_card" if args.image is None else Path(args.image).stem
    label = args.kernel if isinstance(kernel, str) else "custom"
    output = Path(args.output or f"{stem}_{label}.png")
    write_image(result, output)
    h, w = result.shape[:2]
    chosen = "" if args.scale else " (chosen from the kernel's sum; pass --scale to change)"
    print(f"wrote {output} ({w}×{h} px, kernel {label}, scale {scale}{chosen})")
    return 0


def _read_image(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise FileNotFoundError(f"cnnkit filter: no such image file: {path}")
    try:
        with Image.open(path) as image:
            keep = image.mode in ("L", "RGB", "RGBA")
            return np.asarray(image if keep else image.convert("RGB")).copy()
    except UnidentifiedImageError:
        raise invalid_value(
            "cnnkit filter: IMAGE is not an image file Pillow can read.",
            expected="a PNG, JPEG, BMP, GIF or TIFF file",
            received={"image": str(path)},
        ) from None


def write_image(array: np.ndarray, path: Path) -> None:
    """Atomic write (:func:`cnnkit._io.atomic_write`): temporary file, fsync, rename.

    The format follows the file's suffix (``.png``, ``.jpg``, ...); PNG when unknown.
    """
    from PIL import Image

    image_format = Image.registered_extensions().get(path.suffix.lower(), "PNG")
    atomic_write(
        path, lambda tmp: Image.fromarray(array).save(tmp, format=image_format, optimize=True)
    )
