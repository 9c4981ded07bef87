"""Random forest on flattened pixels: scikit-learn's ``RandomForestClassifier`` on all cores."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["RandomForest"]


class RandomForest:
    """``sklearn.ensemble.RandomForestClassifier`` over ``(samples, features)`` pixels.

    Args:
        n_estimators: Trees (default 100).
        seed: ``random_state`` of the forest (default 0).
        n_jobs: Worker threads; default -1, every core.

    ``size`` is the total number of tree nodes and ``nbytes`` the bytes of the
    arrays the fitted trees keep (children, features, thresholds, class counts).
    """

    def __init__(self, n_estimators: int = 100, *, seed: int = 0, n_jobs: int = -1) -> None:
        from sklearn.ensemble import RandomForestClassifier

        self.forest = RandomForestClassifier(
            n_estimators=n_estimators, n_jobs=n_jobs, random_state=seed
        )

    def fit(self, x: Any, y: Any) -> RandomForest:
        """Fit on ``x`` ``(n, ...)`` and labels ``y`` ``(n,)``."""
        self.forest.fit(_flat(x), np.asarray(y).reshape(-1))
        return self

    def predict(self, x: Any) -> np.ndarray:
        """Predicted labels ``(m,)``."""
        return self.forest.predict(_flat(x))

    @property
    def size(self) -> int:
        """Tree nodes over all trees."""
        return int(sum(t.tree_.node_count for t in self.forest.estimators_))

    @property
    def nbytes(self) -> int:
        """Bytes of the fitted trees' node arrays."""
        total = 0
        for est in self.forest.estimators_:
            tree = est.tree_
            arrays = (tree.children_left, tree.children_right, tree.feature, tree.threshold)
            total += sum(a.nbytes for a in arrays) + tree.value.nbytes
        return total


def _flat(x: Any) -> np.ndarray:
    arr = np.asarray(x)
    return arr.reshape(len(arr), -1)
