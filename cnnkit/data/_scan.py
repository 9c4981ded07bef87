"""List a folder of images as Keras does: classes, files, labels, shuffle and split.

Keras' rules, kept so the same call gives the same files and subsets: class
folders sorted alphanumerically (or ``class_names`` in its order), files in
sorted walk order, one ``RandomState(seed)`` permutation over all files before
the split, and the last ``int(validation_split * n)`` files as validation.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from cnnkit._errors import format_error, invalid_type, invalid_value

__all__ = [
    "IMAGE_FORMATS",
    "check_directory",
    "index_directory",
    "list_image_files",
    "split_subset",
]

IMAGE_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


def check_directory(directory: Any) -> Path:
    """``directory`` as a Path to an existing folder, or the template error."""
    if not isinstance(directory, (str, os.PathLike)):
        raise invalid_type("`directory` must be a path.", received={"directory": directory})
    path = Path(directory)
    if not path.exists():
        raise invalid_value("`directory` does not exist.", received={"directory": str(path)})
    if not path.is_dir():
        raise invalid_value(
            "`directory` must be a folder of images, not a file.",
            received={"directory": str(path)},
        )
    return path


def list_image_files(folder: Path | str, follow_links: bool = False) -> list[str]:
    """Image files under ``folder``, recursively, in Keras' order.

    Keras sorts the ``os.walk`` entries by folder path, then the files of each
    folder by name; an unreadable folder is a ``ValueError`` naming it.
    """

    def fail(err: OSError) -> None:
        raise invalid_value(
            f"Cannot read the folder {err.filename}: {err.strerror}.",
            hint="Check that it exists and that you have permission to list it.",
        ) from err

    walked = sorted(os.walk(folder, onerror=fail, followlinks=follow_links), key=lambda e: e[0])
    return [
        os.path.join(root, f)
        for root, _, files in walked
        for f in sorted(files)
        if f.lower().endswith(IMAGE_FORMATS)
    ]


def _class_folders(path: Path, class_names: Any) -> list[str]:
    try:
        subdirs = sorted(e.name for e in os.scandir(path) if e.is_dir())
    except OSError as err:
        raise invalid_value(
            f"Cannot read the folder {path}: {err.strerror}.",
            hint="Check that you have permission to list it.",
        ) from err
    if class_names is None:
        return subdirs
    if not isinstance(class_names, (list, tuple)) or not all(
        isinstance(c, str) for c in class_names
    ):
        raise invalid_type(
            "`class_names` must be a list of folder names.", received={"class_names": class_names}
        )
    if not set(class_names) <= set(subdirs) or len(set(class_names)) != len(class_names):
        raise invalid_value(
            "`class_names` must name sub-folders of `directory`, each at most once.",
            expected=f"names from {subdirs} (all or a subset, in label order)",
            received={"class_names": list(class_names)},
        )
    return list(class_names)


def index_directory(
    directory: Any,
    labels: Any,
    class_names: Any,
    shuffle: bool,
    seed: int | None,
    follow_links: bool = False,
) -> tuple[list[str], np.ndarray | None, list[str] | None]:
    """Find the images and their labels, in Keras' order.

    Args:
        directory: The folder.
        labels: ``"inferred"`` (one class per sub-folder), None (no labels), or a
            list of integer labels for the image files in sorted walk order.
        class_names: With ``"inferred"``: the sub-folders to use (all or a subset,
            as in Keras 3), in label order.
        shuffle: Permute the files with ``RandomState(seed)`` (Keras does this
            before splitting off the validation subset).
        seed: The permutation's seed; None draws one from NumPy's global generator.
        follow_links: Descend into symbolic links to folders.

    Returns:
        ``(file_paths, labels int64 or None, class_names or None)``.
    """
    path = check_directory(directory)
    inferred = isinstance(labels, str) and labels == "inferred"
    if inferred:
        names = _class_folders(path, class_names)
        per_class = [list_image_files(path / name, follow_links) for name in names]
        files = [f for group in per_class for f in group]
        label_array = np.repeat(np.arange(len(names)), [len(g) for g in per_class])
    else:
        names = None
        files = list_image_files(path, follow_links)
        label_array = None if labels is None else np.asarray(labels, dtype=np.int64)
        if label_array is not None and label_array.shape != (len(files),):
            raise invalid_value(
                "`labels` must give one integer label per image file in `directory`.",
                received={"len(labels)": len(labels), "image files found": len(files)},
                hint='Pass labels="inferred" to use the sub-folder names, or labels=None.',
            )
    if not files:
        where = "inside one sub-folder per class" if inferred else "in the folder tree"
        raise ValueError(
            format_error(
                f"No images found in directory {path}.",
                expected=f"files ending in {', '.join(IMAGE_FORMATS)} {where}",
            )
        )
    label_array = None if label_array is None else label_array.astype(np.int64)
    if shuffle:
        seed = np.random.randint(1_000_000) if seed is None else seed
        order = np.random.RandomState(seed).permutation(len(files))
        files = [files[i] for i in order]
        label_array = None if label_array is None else label_array[order]
    return files, label_array, names


def split_subset(
    files: list[str], labels: np.ndarray | None, validation_split: float | None, subset: str
) -> tuple[list[str], np.ndarray | None]:
    """Keras' split: the last ``int(validation_split * n)`` files are the validation subset."""
    if not validation_split:
        return files, labels
    n_val = int(validation_split * len(files))
    cut = len(files) - n_val
    keep = slice(cut, None) if subset == "validation" else slice(0, cut)
    return files[keep], None if labels is None else labels[keep]
