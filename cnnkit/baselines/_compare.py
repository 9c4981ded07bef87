"""The comparison runner: every baseline on one dataset, one row each.

A row holds test accuracy, fit time, predict time per 1,000 test images,
the model's size and the peak memory of its fit and predict (see
``cnnkit._memory``). Baselines run one after another in this process, in
the order asked for.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from cnnkit._errors import invalid_value, unknown_name
from cnnkit._memory import PeakMemory
from cnnkit.baselines._data import ComparisonData, load_comparison_data
from cnnkit.baselines._forest import RandomForest
from cnnkit.baselines._knn import KNNClassifier
from cnnkit.baselines._networks import NETWORKS, train_network

__all__ = ["BASELINES", "Comparison", "Row", "compare", "run_baseline"]

#: Baseline name -> one-line description; all of them, in the default order.
BASELINES: dict[str, str] = {
    "knn-l1": "k-nearest neighbours, L1 (Manhattan) distance, torch",
    "knn-l2": "k-nearest neighbours, L2 (Euclidean) distance, torch",
    "forest": "random forest, 100 trees, scikit-learn, all cores",
    **{name: spec.description for name, spec in NETWORKS.items()},
}


@dataclass
class Row:
    """One baseline's result. Times in seconds; sizes in bytes; memory in MiB."""

    model: str
    description: str
    accuracy: float
    fit_seconds: float
    predict_seconds_per_1000: float
    size: int
    size_unit: str  # "parameters", "stored values" (kNN) or "tree nodes"
    model_bytes: int
    peak_memory_mib: float | None


@dataclass
class Comparison:
    """All rows plus what they were measured on (``meta``)."""

    rows: list[Row]
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"meta": self.meta, "rows": [asdict(r) for r in self.rows]}


@dataclass
class _Fitted:
    predict: Callable[[np.ndarray], np.ndarray]
    size: int
    size_unit: str
    model_bytes: int


def _knn(metric: str) -> Callable[..., _Fitted]:
    def fit(data: ComparisonData, *, k: int, device: Any, **_: Any) -> _Fitted:
        knn = KNNClassifier(k, metric, device=device).fit(data.x_train, data.y_train)
        return _Fitted(knn.predict, knn.size, "stored values", knn.nbytes)

    return fit


def _forest(data: ComparisonData, *, seed: int, **_: Any) -> _Fitted:
    forest = RandomForest(100, seed=seed).fit(data.x_train, data.y_train)
    return _Fitted(forest.predict, forest.size, "tree nodes", forest.nbytes)


def _network(name: str) -> Callable[..., _Fitted]:
    def fit(data: ComparisonData, *, seed: int, device: Any, verbose: int, **_: Any) -> _Fitted:
        model = train_network(NETWORKS[name], data, seed=seed, device=device, verbose=verbose)

        def predict(x: np.ndarray) -> np.ndarray:
            return np.asarray(model.predict(x, batch_size=1000, verbose=0)).argmax(-1)

        params = model.count_params()
        nbytes = sum(t.numel() * t.element_size() for t in model.state_dict().values())
        return _Fitted(predict, params, "parameters", nbytes)

    return fit


_RUNNERS: dict[str, Callable[..., _Fitted]] = {
    "knn-l1": _knn("l1"),
    "knn-l2": _knn("l2"),
    "forest": _forest,
    **{name: _network(name) for name in NETWORKS},
}


def run_baseline(
    name: str,
    data: ComparisonData,
    *,
    k: int = 3,
    seed: int = 0,
    device: Any = "cpu",
    verbose: int = 0,
) -> Row:
    """Fit and evaluate one baseline (see :data:`BASELINES`) on ``data``."""
    if name not in _RUNNERS:
        raise unknown_name("baseline", name, BASELINES, argument="models")
    mem_device = str(device)
    with PeakMemory(mem_device) as fit_mem:
        start = time.perf_counter()
        fitted = _RUNNERS[name](data, k=k, seed=seed, device=device, verbose=verbose)
        fit_seconds = time.perf_counter() - start
    with PeakMemory(mem_device) as predict_mem:
        start = time.perf_counter()
        predicted = fitted.predict(data.x_test)
        predict_seconds = time.perf_counter() - start
    peaks = [m.peak_mib for m in (fit_mem, predict_mem) if m.peak_mib is not None]
    description = BASELINES[name] + (f", k={k}" if name.startswith("knn") else "")
    return Row(
        model=name,
        description=description,
        accuracy=float((np.asarray(predicted) == data.y_test).mean()),
        fit_seconds=fit_seconds,
        predict_seconds_per_1000=predict_seconds * 1000 / len(data.y_test),
        size=int(fitted.size),
        size_unit=fitted.size_unit,
        model_bytes=int(fitted.model_bytes),
        peak_memory_mib=max(peaks) if peaks else None,
    )


def _model_list(models: str | Sequence[str] | None) -> list[str]:
    if models is None:
        return list(BASELINES)
    names = [m.strip() for m in models.split(",")] if isinstance(models, str) else list(models)
    names = [n for n in names if n]
    if not names:
        raise invalid_value("compare: `models` is empty.", received={"models": models})
    for name in names:
        if name not in BASELINES:
            raise unknown_name("baseline", name, BASELINES, argument="models")
    return names


def compare(
    dataset: str = "mnist",
    models: str | Sequence[str] | None = None,
    *,
    normalize: bool = True,
    train_size: int | None = None,
    test_size: int | None = None,
    k: int = 3,
    seed: int = 0,
    device: Any = "cpu",
    verbose: int = 0,
    on_row: Callable[[Row], None] | None = None,
) -> Comparison:
    """Run the baselines on a dataset and return their rows.

    Args:
        dataset: ``"mnist"``, ``"fashion_mnist"``, ``"cifar10"`` or ``"cifar10_subset"``.
        models: Comma-separated names or a list (see :data:`BASELINES`); None: all.
        normalize: Standardise pixels per channel (default); False feeds raw 0..255.
        train_size: Use the first N training images (None: all).
        test_size: Use the first N test images (None: all).
        k: Neighbours of the kNN rows (default 3).
        seed: Seed of the forest and the networks (default 0).
        device: ``"cpu"`` (default) or ``"cuda"`` for kNN and the networks.
        verbose: ``fit``'s progress display for the networks (default 0: silent).
        on_row: Called with each row as soon as it is measured.

    Returns:
        A :class:`Comparison`; ``write_report`` turns it into files.
    """
    names = _model_list(models)
    data = load_comparison_data(
        dataset, normalize=normalize, train_size=train_size, test_size=test_size
    )
    rows = []
    for name in names:
        rows.append(run_baseline(name, data, k=k, seed=seed, device=device, verbose=verbose))
        if on_row is not None:
            on_row(rows[-1])
    meta = {
        "dataset": dataset,
        "data": data.description,
        "train_images": len(data.y_train),
        "test_images": len(data.y_test),
        "normalize": normalize,
        "channel_mean": data.channel_mean,
        "channel_std": data.channel_std,
        "k": k,
        "seed": seed,
        "device": str(device),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }
    return Comparison(rows, meta)
