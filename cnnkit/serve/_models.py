"""The models a studio serves: loaded once at start-up, looked up by id afterwards.

Only the files named at start-up are ever opened. A request names a model by
its id (``"lenet5-mnist"``), which is a key of :class:`ModelRegistry`; a path
in a request is never turned into a file name, so ``../../etc/passwd`` is
just an unknown id (404). Files are read with the safe loader
:func:`cnnkit.models.load_model` (JSON config + safetensors, never pickle).
"""

from __future__ import annotations

import csv
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnkit._errors import invalid_value
from cnnkit.serve._batching import Batcher

__all__ = ["MODEL_FILE", "ModelRegistry", "NotServed", "ServedModel", "load_served_model"]

#: The model file inside a run folder written by ``cnnkit train``.
MODEL_FILE = "model.cnnkit"


class NotServed(LookupError):
    """A request named a model or layer the studio does not have (the app answers 404)."""


@dataclass
class ServedModel:
    """One loaded model and what the pages show about it.

    Attributes:
        id: URL-safe name, unique in the registry (from the run folder or file name).
        path: The model file that was loaded.
        model: The model, in eval mode.
        class_names: One name per output class.
        input_shape: ``(height, width, channels)``.
        outputs_probabilities: Whether the model ends in a softmax (else one is applied).
        history: The run's ``history.csv`` as ``{column: values}``; empty if absent.
        metrics: The run's ``metrics.json``; empty if absent.
        lock: Serialises forward passes: probes add hooks to the shared model.
        batcher: ``await batcher(image)`` is ``predict(image[None])[0]``, batched with
            concurrent requests (see :class:`cnnkit.serve._batching.Batcher`).
    """

    id: str
    path: Path
    model: nn.Module
    class_names: list[str]
    input_shape: tuple[int, int, int]
    outputs_probabilities: bool
    history: dict[str, list[float]] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    batcher: Batcher = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.batcher = Batcher(self._forward, self.lock)

    def info(self) -> dict[str, Any]:
        """What ``/api/models`` lists about this model."""
        return {
            "id": self.id,
            "name": getattr(self.model, "name", self.id),
            "file": self.path.name,
            "input_shape": list(self.input_shape),
            "classes": self.class_names,
            "params": int(sum(p.numel() for p in self.model.parameters())),
            "outputs": "probabilities" if self.outputs_probabilities else "logits+softmax",
            "has_history": bool(self.history),
            "test_accuracy": self.metrics.get("test_accuracy"),
        }

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities ``(N, classes)`` float32 for uint8 images ``(N, H, W, C)``."""
        with self.lock:
            return self._forward(images)

    def _forward(self, images: np.ndarray) -> np.ndarray:
        """:meth:`predict` for a caller that holds ``lock``."""
        x = torch.from_numpy(images).float()
        with torch.inference_mode():
            out = self.model(x)
            if not self.outputs_probabilities:
                out = torch.softmax(out.float(), dim=-1)
        return out.float().numpy()


def _model_file(spec: str | Path) -> Path:
    path = Path(spec)
    if path.is_dir():
        path = path / MODEL_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"No model at {str(spec)!r}: expected a .cnnkit file or a run folder holding "
            f"{MODEL_FILE} (written by `cnnkit train`)."
        )
    return path


def _class_names(path: Path, classes: int) -> list[str]:
    file = path.parent / "classes.json"  # written by `cnnkit train` beside the model
    if file.is_file():
        names = json.loads(file.read_text())
        if isinstance(names, list) and len(names) == classes:
            return [str(n) for n in names]
    if classes == 1000:
        try:
            from cnnkit.applications._imagenet import load_class_index

            return [name for _, name in load_class_index()]
        except (ImportError, OSError, ValueError):
            pass
    return [f"class {i}" for i in range(classes)]


def _read_history(folder: Path) -> dict[str, list[float]]:
    file = folder / "history.csv"
    if not file.is_file():
        return {}
    with file.open(newline="") as f:
        rows = list(csv.DictReader(f))
    columns: dict[str, list[float]] = {}
    for row in rows:
        for key, value in row.items():
            try:
                columns.setdefault(key, []).append(float(value))
            except (TypeError, ValueError):
                columns.setdefault(key, []).append(float("nan"))
    return columns


def _read_metrics(folder: Path) -> dict[str, Any]:
    file = folder / "metrics.json"
    try:
        return json.loads(file.read_text()) if file.is_file() else {}
    except json.JSONDecodeError:
        return {}


def _slug(path: Path) -> str:
    stem = path.parent.name if path.name == MODEL_FILE else path.stem
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.") or "model"


def load_served_model(spec: str | Path, model_id: str | None = None) -> ServedModel:
    """Load a ``.cnnkit`` file or a ``cnnkit train`` run folder for serving.

    Args:
        spec: The model file, or a run folder holding ``model.cnnkit`` (and
            ``classes.json``, ``history.csv``, ``metrics.json`` when present).
        model_id: Id in URLs; default the run folder's (or file's) name.

    Raises:
        FileNotFoundError: no such file or folder.
        ValueError: not a cnnkit model, or not an image classifier with a fixed input size.
    """
    from cnnkit.models import load_model

    path = _model_file(spec)
    model = load_model(path, compile=False)
    shape = getattr(model, "input_shape", None)
    if not isinstance(shape, tuple) or len(shape) != 4 or None in shape[1:]:
        raise invalid_value(
            f"Cannot serve '{path}': the studio needs an image model with a fixed input size.",
            expected="input_shape (None, height, width, channels)",
            received={"input_shape": shape},
        )
    model.eval()
    height, width, channels = (int(v) for v in shape[1:])
    with torch.inference_mode():
        probe = model(torch.rand(2, height, width, channels) * 255).float()
    if probe.ndim != 2:
        raise invalid_value(
            f"Cannot serve '{path}': the studio shows classifiers with one score per class.",
            expected="an output of shape (batch, classes)",
            received={"output_shape": tuple(probe.shape)},
        )
    sums_to_one = bool(torch.allclose(probe.sum(-1), torch.ones(2), atol=1e-3))
    return ServedModel(
        id=model_id or _slug(path),
        path=path,
        model=model,
        class_names=_class_names(path, probe.shape[1]),
        input_shape=(height, width, channels),
        outputs_probabilities=sums_to_one and bool((probe >= 0).all()),
        history=_read_history(path.parent),
        metrics=_read_metrics(path.parent),
    )


class ModelRegistry:
    """The served models by id, in the order they were named."""

    def __init__(self, models: Iterable[ServedModel]):
        self._models: dict[str, ServedModel] = {}
        for served in models:
            base, n = served.id, 2
            while served.id in self._models:  # two runs with the same folder name
                served.id, n = f"{base}-{n}", n + 1
            self._models[served.id] = served
        if not self._models:
            raise invalid_value("The studio needs at least one model.", received={"models": []})

    @classmethod
    def from_paths(cls, specs: Iterable[str | Path]) -> ModelRegistry:
        """Load every file or run folder in ``specs`` (see :func:`load_served_model`)."""
        return cls(load_served_model(spec) for spec in specs)

    @property
    def default(self) -> ServedModel:
        return next(iter(self._models.values()))

    def get(self, model_id: str | None) -> ServedModel | None:
        """The model with this id (the first one for None); None when there is no such id."""
        return self.default if model_id is None else self._models.get(model_id)

    def __iter__(self):
        return iter(self._models.values())

    def __len__(self) -> int:
        return len(self._models)
