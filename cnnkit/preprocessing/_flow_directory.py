"""``ImageDataGenerator.flow_from_directory``: a Keras ``DirectoryIterator``.

Batch ``i`` is random-access (``it[i]``), as the engine and Keras expect.
Decoding stays out of the main process: a :class:`BatchDecoder` pool splits
each batch across its workers and, while batches are read in order, decodes
the next one while the current one is augmented and trained on.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cnnkit._errors import invalid_value, unknown_name
from cnnkit.data._decode import CHANNELS, DecodeSpec, SkipLog
from cnnkit.data._directory import default_workers
from cnnkit.data._from_directory import check_image_size
from cnnkit.data._scan import check_directory, list_image_files
from cnnkit.preprocessing._prefetch import BatchDecoder
from cnnkit.preprocessing._sequence import BatchSequence, BatchTransform

__all__ = ["DirectoryIterator"]

_CLASS_MODES = ("categorical", "binary", "sparse", "input", None)
# flow_from_directory takes Pillow's filter names
_INTERPOLATIONS = {
    "nearest": "nearest",
    "bilinear": "bilinear",
    "bicubic": "bicubic",
    "lanczos": "lanczos3",
    "box": "area",
}


def _list_classes(
    directory: Path, classes: Any, subset: str | None, split: float, follow_links: bool
):
    """Keras' listing: per class, sorted files; the first ``int(split * n)`` are validation."""
    if classes is None:
        classes = sorted(e.name for e in os.scandir(directory) if e.is_dir())
    files: list[str] = []
    labels: list[np.ndarray] = []
    for k, name in enumerate(classes):
        found = list_image_files(directory / name, follow_links)
        cut = int(split * len(found)) if subset else 0
        found = found[:cut] if subset == "validation" else found[cut:]
        files += found
        labels.append(np.full(len(found), k, dtype=np.int32))
    return list(classes), files, np.concatenate(labels) if labels else np.zeros(0, np.int32)


class DirectoryIterator(BatchSequence):
    """Augmented batches of images read from ``directory/<class>/*``.

    Args (Keras' ``flow_from_directory``):
        directory: The folder, one sub-folder per class.
        image_data_generator: The generator whose transforms are applied.
        target_size: ``(height, width)``. Default (256, 256).
        color_mode: ``"rgb"`` (default), ``"grayscale"`` or ``"rgba"``.
        classes: Sub-folder names to use, in label order. Default: all, sorted.
        class_mode: ``"categorical"`` (one-hot, default), ``"binary"``,
            ``"sparse"`` (int labels), ``"input"`` (the images) or None.
        batch_size, shuffle, seed: As for ``flow``.
        subset: ``"training"`` or ``"validation"`` with the generator's
            ``validation_split`` (per class, validation first, as Keras).
        interpolation: ``"nearest"`` (default), ``"bilinear"``, ``"bicubic"``,
            ``"lanczos"`` or ``"box"``.
        follow_links: Descend into symbolic links to folders. Default False.
        keep_aspect_ratio: Centre-crop to the target aspect ratio before resizing.
        num_workers: Decoding processes (cnnkit extension); default ``min(4, CPUs)``.

    Attributes: ``filenames`` (relative), ``filepaths``, ``classes`` (label per
    file), ``class_indices``, ``num_classes``, ``samples``, ``image_shape``.
    Undecodable files are left out of their batch with one warning.
    """

    def __init__(
        self,
        directory: Any,
        image_data_generator: BatchTransform,
        target_size: tuple[int, int] = (256, 256),
        color_mode: str = "rgb",
        classes: list[str] | None = None,
        class_mode: str | None = "categorical",
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        save_to_dir: Any = None,
        save_prefix: str = "",
        save_format: str = "png",
        follow_links: bool = False,
        subset: str | None = None,
        interpolation: str = "nearest",
        keep_aspect_ratio: bool = False,
        dtype: str | None = None,
        *,
        num_workers: int | None = None,
    ) -> None:
        del save_prefix, save_format, dtype  # only used with save_to_dir; float32 output
        if save_to_dir is not None:
            raise invalid_value(
                "flow_from_directory: `save_to_dir` is not supported by cnnkit.",
                received={"save_to_dir": save_to_dir},
            )
        if class_mode not in _CLASS_MODES:
            raise unknown_name(
                "class_mode", class_mode, [str(m) for m in _CLASS_MODES], argument="class_mode"
            )
        if color_mode not in CHANNELS:
            raise unknown_name("color_mode", color_mode, CHANNELS, argument="color_mode")
        if interpolation not in _INTERPOLATIONS:
            raise unknown_name(
                "interpolation", interpolation, _INTERPOLATIONS, argument="interpolation"
            )
        if subset not in (None, "training", "validation"):
            raise unknown_name("subset", subset, ["training", "validation"], argument="subset")
        split = image_data_generator.validation_split
        if subset is not None and not split:
            raise invalid_value(
                "flow_from_directory: `subset` needs the generator's `validation_split`.",
                received={"subset": subset, "validation_split": split},
            )
        height, width = check_image_size(target_size)
        self.directory = check_directory(directory)
        names, files, labels = _list_classes(self.directory, classes, subset, split, follow_links)
        if not files:
            raise invalid_value(
                f"flow_from_directory: no images found in {self.directory}.",
                received={"classes": names, "subset": subset},
            )
        if class_mode == "binary" and len(names) != 2:
            raise invalid_value(
                'class_mode="binary" needs exactly 2 classes.', received={"classes": names}
            )
        print(f"Found {len(files)} images belonging to {len(names)} classes.")  # as Keras
        super().__init__(len(files), batch_size, shuffle, seed)
        self.image_data_generator = image_data_generator
        self.class_mode = class_mode
        self.class_indices = {name: k for k, name in enumerate(names)}
        self.num_classes = len(names)
        self.filepaths = files
        self.filenames = [os.path.relpath(f, self.directory) for f in files]
        self.classes = labels
        self.samples = len(files)
        self.spec = DecodeSpec(
            height, width, color_mode, _INTERPOLATIONS[interpolation], bool(keep_aspect_ratio)
        )
        self.image_shape = (height, width, self.spec.channels)
        workers = default_workers() if num_workers is None else int(num_workers)
        self._decoder = BatchDecoder(files, self.spec, workers)
        self._last = -1
        self._skips = SkipLog()

    def __getitem__(self, idx: int) -> Any:
        self._sequential = idx in (0, self._last + 1)
        self._last = idx
        return super().__getitem__(idx)

    def _upcoming(self) -> list[np.ndarray]:
        """The next batch of this epoch's order, when batches are being read in order."""
        if not self._sequential or self.index_array is None:
            return []
        start = self._last + 1
        nxt = self.index_array[start * self.batch_size : (start + 1) * self.batch_size]
        return [nxt] if len(nxt) else []

    def _get_batch(self, indices: np.ndarray, rng: np.random.Generator) -> Any:
        images, ok, bad = self._decoder.get(indices, self._upcoming())
        labels = self.classes[indices]
        if bad:
            self._skips.add(bad)
            images, labels = images[ok], labels[ok]
        if self._sequential and self._last == len(self) - 1:
            self._skips.warn_once(stacklevel=3)  # read in order to the end: all files seen
        x = self.image_data_generator.transform_batch(torch.from_numpy(images), rng)
        if self.class_mode is None:
            return x
        if self.class_mode == "input":
            return x, x.copy()
        if self.class_mode == "categorical":
            y = np.zeros((len(labels), self.num_classes), dtype=np.float32)
            y[np.arange(len(labels)), labels] = 1.0
        elif self.class_mode == "binary":
            y = labels.astype(np.float32)
        else:
            y = labels
        return x, y

    @property
    def skipped(self) -> dict[str, str]:
        """``{path: reason}`` of the files that failed to decode so far."""
        return self._skips.skipped

    def on_epoch_end(self) -> None:
        self._skips.warn_once(stacklevel=2)
        super().on_epoch_end()

    def close(self) -> None:
        """Stop the decoding processes (also done when the iterator is deleted)."""
        decoder = getattr(self, "_decoder", None)
        if decoder is not None:
            decoder.close()

    def __del__(self) -> None:
        self.close()
