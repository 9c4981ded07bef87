"""Datasets for ``cnnkit train``/``evaluate``: named in-memory sets or a folder of images.

A named dataset (``mnist``, ``fashion_mnist``, ``cifar10``) is loaded with
``cnnkit.datasets.<name>.load_data()`` as uint8 arrays with a channel axis;
a folder becomes ``image_dataset_from_directory`` datasets. The model itself
rescales pixels (its first layer is ``Rescaling``), so ``predict`` on raw
images needs no preprocessing.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnnkit._errors import invalid_value

__all__ = ["NAMED", "TrainingData", "load_dataset", "read_class_names", "write_class_names"]


def _class_names(name: str) -> list[str]:
    if name == "mnist":
        return [str(d) for d in range(10)]
    module = importlib.import_module(f"cnnkit.datasets.{name}")
    return list(module.CLASS_NAMES)


NAMED = ("mnist", "fashion_mnist", "cifar10")
CLASSES_FILE = "classes.json"


@dataclass
class TrainingData:
    """What a command needs: train/test data, the input shape and the class names.

    ``train``/``test`` are ``(x, y)`` array pairs, or datasets (``y`` None).
    """

    train: tuple[Any, Any]
    test: tuple[Any, Any]
    input_shape: tuple[int, int, int]
    class_names: list[str] = field(default_factory=list)

    @property
    def in_memory(self) -> bool:
        return isinstance(self.train[0], np.ndarray)

    def limit(self, n: int) -> None:
        """Keep only the first ``n`` training and test samples (in-memory data only)."""
        if n < 1 or not self.in_memory:
            raise invalid_value(
                "--limit needs a positive number and a named (in-memory) dataset.",
                received={"limit": n},
            )
        self.train = (self.train[0][:n], self.train[1][:n])
        self.test = (self.test[0][:n], self.test[1][:n])


def _named(name: str) -> TrainingData:
    module = importlib.import_module(f"cnnkit.datasets.{name}")
    (x, y), (xt, yt) = module.load_data()
    if x.ndim == 3:  # MNIST-style (n, 28, 28): add Keras' channel axis
        x, xt = x[..., None], xt[..., None]
    return TrainingData((x, y.reshape(-1)), (xt, yt.reshape(-1)), x.shape[1:], _class_names(name))


def _folder(path: Path, image_size: tuple[int, int], batch_size: int, seed: int) -> TrainingData:
    from cnnkit.utils import image_dataset_from_directory

    common = {"image_size": image_size, "batch_size": batch_size, "seed": seed}
    split = {p.name.lower(): p for p in path.iterdir() if p.is_dir()}
    held_out = split.get("validation") or split.get("val") or split.get("test")
    if "train" in split and held_out is not None:
        train = image_dataset_from_directory(split["train"], **common)
        test = image_dataset_from_directory(held_out, shuffle=False, **common)
    else:
        train, test = image_dataset_from_directory(
            path, validation_split=0.2, subset="both", **common
        )
    shape = (*image_size, 3)
    return TrainingData((train, None), (test, None), shape, list(train.class_names))


def load_dataset(
    name: str, *, image_size: tuple[int, int] = (64, 64), batch_size: int = 32, seed: int = 0
) -> TrainingData:
    """A named dataset or a folder of images (``train/`` + ``validation/``, or one folder)."""
    if name in NAMED:
        return _named(name)
    path = Path(name)
    if not path.is_dir():
        raise invalid_value(
            f"Unknown dataset {name!r}: not a dataset name and not a folder.",
            received={"dataset": name},
            choices=[*NAMED, "<folder of class sub-folders>"],
        )
    return _folder(path, image_size, batch_size, seed)


def write_class_names(out: Path, names: list[str]) -> None:
    """Store the class names beside the model so ``cnnkit predict`` can print them."""
    (out / CLASSES_FILE).write_text(json.dumps(names, indent=1) + "\n")


def read_class_names(model_path: Path, classes: int) -> list[str]:
    """Class names saved beside ``model_path``; ``"class 3"``-style names when there are none."""
    file = model_path.parent / CLASSES_FILE
    if file.is_file():
        names = json.loads(file.read_text())
        if isinstance(names, list) and len(names) == classes:
            return [str(n) for n in names]
    return [f"class {i}" for i in range(classes)]
