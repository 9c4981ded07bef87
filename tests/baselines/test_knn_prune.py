"""The exact L2 pruning: its bound never exceeds the distance, and pruned answers are exact."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.neighbors import KNeighborsClassifier

from cnnkit.baselines import KNNClassifier
from cnnkit.baselines._knn_prune import ProjectionBound


def _blobs(seed: int, n: int, features: int = 36) -> tuple[np.ndarray, np.ndarray]:
    """Four blobs on a 4-dimensional plane in ``features`` dimensions, a little noise off it
    (like images: few directions carry most of the spread, so the bound can prune)."""
    rng = np.random.default_rng(seed)
    plane = np.random.default_rng(99).normal(size=(4, features))
    y = rng.integers(0, 4, size=n)
    latent = rng.normal(0, 3, size=(4, 4))[y] + rng.normal(0, 1.0, size=(n, 4))
    x = latent @ plane + rng.normal(0, 0.1, size=(n, features))
    return x.astype(np.float32), y


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    components=st.integers(1, 11),
    scale=st.sampled_from([1e-3, 1.0, 255.0]),
)
def test_the_bound_never_exceeds_the_squared_distance(
    seed: int, components: int, scale: float
) -> None:
    generator = torch.Generator().manual_seed(seed)
    train = torch.rand(50, 12, generator=generator) * scale
    queries = torch.rand(7, 12, generator=generator) * scale
    bounds, slack = ProjectionBound(train, components).lower_bounds(queries)
    exact = torch.cdist(queries.double(), train.double()).square()
    assert (bounds.double() - slack[:, None] <= exact).all()


@pytest.mark.parametrize(("components", "settled"), [(1, (0.0, 0.5)), (6, (0.9, 1.0))])
@pytest.mark.parametrize("k", [1, 3, 5])
def test_pruned_predictions_match_scikit_learn(
    components: int, settled: tuple[float, float], k: int
) -> None:
    # One axis leaves most rows to the exact fallback; six settle nearly all by the bound.
    x, y = _blobs(0, 800)
    q, _ = _blobs(1, 300)
    ours = KNNClassifier(k, "l2", l2_components=components, memory_limit=64 * 800 * 8).fit(x, y)
    bounds, slack = ours._bound.lower_bounds(torch.from_numpy(q))
    kth_sq = torch.cdist(torch.from_numpy(q).double(), torch.from_numpy(x).double())
    kth_sq = kth_sq.kthvalue(k, 1).values.square()
    selected = bounds.topk(33, 1, largest=False).values.max(1).values.double()
    fraction = float((selected - slack > kth_sq).double().mean())
    assert settled[0] <= fraction <= settled[1]
    ref = KNeighborsClassifier(k, algorithm="brute").fit(x, y)
    np.testing.assert_array_equal(ours.predict(q), ref.predict(q))


def test_pruned_neighbours_equal_the_full_search() -> None:
    x, y = _blobs(2, 1000, features=300)
    q, _ = _blobs(3, 200, features=300)
    pruned = KNNClassifier(4, "l2").fit(x, y)  # "auto": 300 features take the bound
    assert pruned._bound is not None
    full = KNNClassifier(4, "l2", l2_components=None).fit(x, y)
    (d_pruned, i_pruned), (d_full, i_full) = pruned.kneighbors(q), full.kneighbors(q)
    np.testing.assert_array_equal(i_pruned, i_full)
    np.testing.assert_allclose(d_pruned, d_full, rtol=1e-12)


def test_duplicate_training_rows_rank_by_index() -> None:
    x = np.repeat(np.eye(6, dtype=np.float32) * 3, 5, axis=0)  # every row five times
    y = np.arange(len(x)) % 3
    knn = KNNClassifier(3, "l2", l2_components=2).fit(x, y)
    _, idx = knn.kneighbors(x[[0, 10]])
    np.testing.assert_array_equal(idx, [[0, 1, 2], [10, 11, 12]])


@pytest.mark.parametrize("components", [0, -2, 2.5, True, "many"])
def test_bad_component_counts_are_named(components: object) -> None:
    with pytest.raises(ValueError, match="l2_components"):
        KNNClassifier(3, "l2", l2_components=components)


def test_components_must_be_below_the_feature_count() -> None:
    x, y = _blobs(0, 50, features=8)
    with pytest.raises(ValueError, match="below the feature count"):
        KNNClassifier(3, "l2", l2_components=8).fit(x, y)
