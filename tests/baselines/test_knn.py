"""The torch kNN against scikit-learn's brute-force KNeighborsClassifier, and its errors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from cnnkit.baselines import KNNClassifier, RandomForest


def _blobs(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, size=n)
    centres = rng.normal(0, 3, size=(4, 6, 6, 1))
    x = centres[y] + rng.normal(0, 2.0, size=(n, 6, 6, 1))
    return x.astype(np.float32), y


@pytest.mark.parametrize(("metric", "sk_metric"), [("l2", "euclidean"), ("l1", "manhattan")])
@pytest.mark.parametrize("k", [1, 3, 4])
def test_predictions_match_scikit_learn(metric: str, sk_metric: str, k: int) -> None:
    x, y = _blobs(0, 600)
    q, _ = _blobs(1, 200)
    # A tiny memory limit forces many chunks, so the chunk seams are exercised too.
    ours = KNNClassifier(k, metric, memory_limit=64 * 600 * 8, l1_kernel="cdist").fit(x, y)
    ref = KNeighborsClassifier(k, algorithm="brute", metric=sk_metric)
    ref.fit(x.reshape(len(x), -1), y)
    np.testing.assert_array_equal(ours.predict(q), ref.predict(q.reshape(len(q), -1)))


def test_ties_go_to_the_smallest_label() -> None:
    x = np.array([[0.0], [2.0], [10.0]], dtype=np.float32)
    y = np.array([1, 0, 2])
    # From 1.0 both first neighbours are at distance 1: one vote each for labels 1 and 0.
    assert KNNClassifier(2, "l2", l1_kernel="cdist").fit(x, y).predict(np.array([[1.0]]))[0] == 0


def test_forest_beats_chance_by_far() -> None:
    x, y = _blobs(0, 600)
    q, yq = _blobs(0, 600)
    forest = RandomForest(20, seed=0, n_jobs=1).fit(x[:400], y[:400])
    assert (forest.predict(q[400:]) == yq[400:]).mean() > 0.7


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_neighbors": 0}, "n_neighbors"),
        ({"metric": "cosine"}, "metric"),
        ({"memory_limit": 0}, "memory_limit"),
        ({"l1_kernel": "fast"}, "l1_kernel"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        KNNClassifier(**kwargs)
