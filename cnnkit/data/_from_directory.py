"""``image_dataset_from_directory``: Keras' arguments and checks, cnnkit's loader."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from cnnkit._errors import invalid_type, invalid_value, unknown_name
from cnnkit.data._arrays import check_batch_size
from cnnkit.data._decode import CHANNELS, DecodeSpec, resample_filter
from cnnkit.data._directory import DirectoryDataset, default_workers
from cnnkit.data._scan import index_directory, split_subset

__all__ = ["check_image_size", "image_dataset_from_directory"]

_LABEL_MODES = ("int", "categorical", "binary")
_SUBSETS = ("training", "validation", "both")


def check_image_size(image_size: Any) -> tuple[int, int]:
    """``(height, width)`` as two positive ints, or the template error."""
    ok = (
        isinstance(image_size, (tuple, list))
        and len(image_size) == 2
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in image_size)
        and all(v >= 1 for v in image_size)
    )
    if not ok:
        raise invalid_value(
            "`image_size` must be (height, width) in pixels.",
            expected="a tuple of two positive integers, e.g. (256, 256)",
            received={"image_size": image_size},
        )
    return int(image_size[0]), int(image_size[1])


def _check_split(validation_split: Any, subset: Any, shuffle: bool, seed: Any) -> None:
    if subset is not None and subset not in _SUBSETS:
        raise unknown_name("subset", subset, _SUBSETS, argument="subset")
    if validation_split is not None and not (
        isinstance(validation_split, (int, float)) and 0 < validation_split < 1
    ):
        raise invalid_value(
            "`validation_split` must be a fraction strictly between 0 and 1.",
            received={"validation_split": validation_split},
        )
    if bool(validation_split) != (subset is not None):
        raise invalid_value(
            "`subset` and `validation_split` go together: set both or neither.",
            received={"validation_split": validation_split, "subset": subset},
        )
    if validation_split and shuffle and seed is None:
        raise invalid_value(
            "With `validation_split` and shuffle=True, a `seed` is required so that the "
            "training and validation subsets do not overlap.",
            received={"seed": seed},
            hint="Pass the same seed (e.g. seed=123) to both calls.",
        )


def _check_labels(labels: Any, label_mode: Any, class_names: Any) -> Any:
    """Validate ``labels`` and return it as ``"inferred"``, None or an int64 array."""
    inferred = isinstance(labels, str) and labels == "inferred"
    if not (inferred or labels is None or isinstance(labels, (list, tuple, np.ndarray))):
        raise invalid_value(
            '`labels` must be "inferred", None, or a list of integer labels, one per image '
            "file in sorted order.",
            received={"labels": labels},
        )
    if label_mode is not None and label_mode not in _LABEL_MODES:
        raise unknown_name("label_mode", label_mode, _LABEL_MODES, argument="label_mode")
    if class_names is not None and not inferred:
        raise invalid_value(
            '`class_names` can only be given with labels="inferred".',
            received={"labels": "None" if labels is None else "<list of labels>"},
        )
    if inferred or labels is None:
        return labels
    array = np.asarray(labels)
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer) or (array < 0).any():
        raise invalid_value(
            "`labels` must be a flat list of non-negative integers.",
            received={"labels.dtype": str(array.dtype), "labels.shape": array.shape},
        )
    return array.astype(np.int64)


def _num_classes(labels: np.ndarray | None, class_names: list[str] | None, mode: str | None) -> int:
    if labels is None:
        return 0
    n = len(class_names) if class_names is not None else int(labels.max(initial=0)) + 1
    if mode == "binary" and (n != 2 if class_names is not None else n > 2):
        raise invalid_value(
            'label_mode="binary" needs exactly 2 classes.',
            received={"class_names": class_names} if class_names is not None else {"classes": n},
            hint='Use label_mode="int" or "categorical" for more classes.',
        )
    return n


def image_dataset_from_directory(
    directory: Any,
    labels: str | Sequence[int] | None = "inferred",
    label_mode: str | None = "int",
    class_names: Sequence[str] | None = None,
    color_mode: str = "rgb",
    batch_size: int | None = 32,
    image_size: tuple[int, int] = (256, 256),
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    interpolation: str = "bilinear",
    follow_links: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    data_format: str | None = None,
    verbose: bool = True,
    *,
    num_workers: int | None = None,
) -> DirectoryDataset | tuple[DirectoryDataset, DirectoryDataset]:
    """A dataset of labelled image batches from a folder, ready for ``model.fit``.

    As ``keras.utils.image_dataset_from_directory``: with ``labels="inferred"``
    the folder holds one sub-folder per class (``main/cats/*.jpg``,
    ``main/dogs/*.jpg``), classes sorted alphanumerically. Files are ``.bmp``,
    ``.gif``, ``.jpeg``, ``.jpg`` and ``.png`` (any case), searched recursively.

    Args:
        directory: The folder.
        labels: ``"inferred"`` (default), None (images only), or one integer
            label per image file in sorted walk order.
        label_mode: ``"int"`` (default; int64), ``"categorical"`` (one-hot
            float32), ``"binary"`` (float32 ``(batch, 1)``, 2 classes) or None.
        class_names: With ``"inferred"``, the sub-folders to use (all, or a
            subset as Keras 3 allows), in label order.
        color_mode: ``"rgb"`` (default), ``"grayscale"`` or ``"rgba"``; any
            file (grey, RGBA, palette, 16-bit) is converted to it.
        batch_size: Images per batch (default 32); None yields single images.
        image_size: ``(height, width)`` every image is resized to. Default (256, 256).
        shuffle: Shuffle the files (Keras' seeded order) and re-shuffle each epoch.
        seed: Seed for shuffling and the split; needed with ``validation_split``.
        validation_split: Fraction of files reserved for validation (the last
            ``int(validation_split * n)`` after shuffling, as in Keras).
        subset: ``"training"``, ``"validation"`` or ``"both"`` (returns a pair).
        interpolation: ``"bilinear"`` (default), ``"nearest"``, ``"bicubic"``,
            ``"area"`` or ``"lanczos3"``, applied by Pillow.
        follow_links: Descend into symbolic links to folders. Default False.
        crop_to_aspect_ratio: Centre-crop to the target aspect ratio instead of
            stretching. Default False.
        pad_to_aspect_ratio: Fit the image inside the target and pad with
            zeros instead of stretching. Default False.
        data_format: Only ``"channels_last"`` (the default) is supported.
        verbose: Print Keras' "Found N files belonging to C classes." lines.
        num_workers: Decoding processes (cnnkit extension). Default
            ``min(4, CPU count)``; 0 decodes in the main process.

    Returns:
        A :class:`DirectoryDataset` (``len()`` = batches per epoch, attributes
        ``class_names`` and ``file_paths``), or ``(training, validation)`` for
        ``subset="both"``.

    Raises:
        ValueError: No images, an unreadable or missing folder, or inconsistent
            arguments (each message names the argument).
    """
    labels = _check_labels(labels, label_mode, class_names)
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    if color_mode not in CHANNELS:
        raise unknown_name("color_mode", color_mode, CHANNELS, argument="color_mode")
    resample_filter(interpolation)
    height, width = check_image_size(image_size)
    if batch_size is not None:
        batch_size = check_batch_size(batch_size)
    for name, flag in (
        ("crop_to_aspect_ratio", crop_to_aspect_ratio),
        ("pad_to_aspect_ratio", pad_to_aspect_ratio),
    ):
        if not isinstance(flag, bool):
            raise invalid_type(f"`{name}` must be a bool.", received={name: flag})
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise invalid_value(
            "Only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` can be True.",
            received={"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True},
        )
    if data_format not in (None, "channels_last"):
        raise invalid_value(
            "Only data_format='channels_last' is supported (batches are NHWC).",
            received={"data_format": data_format},
        )
    _check_split(validation_split, subset, shuffle, seed)
    workers = default_workers() if num_workers is None else int(num_workers)

    files, label_array, names = index_directory(
        directory, labels, class_names, shuffle, seed, follow_links
    )
    if verbose:
        classes = f" belonging to {len(names)} classes" if names is not None else ""
        print(f"Found {len(files)} files{classes}.")
    num_classes = _num_classes(label_array, names, label_mode)
    spec = DecodeSpec(
        height, width, color_mode, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio
    )

    def make(which: str | None) -> DirectoryDataset:
        part_files, part_labels = split_subset(files, label_array, validation_split, which)
        if not part_files:
            raise invalid_value(
                f"The {which} subset of {directory} is empty.",
                received={"validation_split": validation_split, "image files": len(files)},
            )
        if verbose and which is not None:
            print(f"Using {len(part_files)} files for {which}.")
        return DirectoryDataset(
            part_files,
            part_labels,
            class_names=names,
            label_mode=label_mode,
            num_classes=num_classes,
            spec=spec,
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
            num_workers=workers,
        )

    if subset == "both":
        return make("training"), make("validation")
    return make(subset)
