"""k-nearest neighbours on torch: chunked distances, ``topk``, an exact re-rank, a vote.

Each chunk of query rows gets its distances to every training row in one
block (L2: one ``addmm`` for ``|t|^2 - 2 q.t``, the query norm being the same
for a whole row; L1: see below), then ``topk`` keeps the
``k + 8`` nearest candidates. Those few are re-measured exactly in float64
and ordered by (distance, training index), so float32 rounding in the block
never decides the order and equally distant training rows rank by index.

From 256 features up, L2 first prunes with an exact lower bound built from 160
principal axes (``_knn_prune``: a product with inner size 161 instead of 784
on MNIST, and a few exactly measured candidates per query); predictions and
distances are the same as without it, only faster.

Memory: the block is ``rows x n_train`` float32 values and at most two such
blocks live at once, so ``rows = memory_limit // (8 * n_train)`` (at least
one) keeps the working memory within ``memory_limit`` (default 256 MiB) on
top of the stored training set (``n_train x features`` float32) and a
float64 re-rank buffer of ``rows x (k + 8) x features``. Full MNIST
(10,000 x 60,000): 559 rows per chunk, 18 chunks; the training set is 188 MB.

L1 has no matrix-product form, and ``torch.cdist(p=1)`` on CPU runs about
10x slower than the L2 product (measured on this project's AVX2 machine). On
CPU the L1 block is therefore one ``torch.compile``d (inductor) reduction
over tiles of 256 training rows (800 KB for MNIST, so a tile stays in cache
while every query of the chunk passes over it), about 3.5x faster than
``cdist``. Compiling costs ~25 s once per shape (then cached on disk) and happens in
``fit``; where
it fails (no C++ compiler) the classifier warns once and uses ``cdist``.
``l1_kernel="cdist"`` skips compiling (small problems, tests).

Vote: majority of the ``k`` labels; a tie between classes goes to the
smallest class label, which is scikit-learn's rule for ``weights="uniform"``,
so predictions match ``KNeighborsClassifier(algorithm="brute")``.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np
import torch

from cnnkit._errors import invalid_value, unknown_name
from cnnkit.baselines._knn_prune import ProjectionBound, exact_distances

__all__ = ["L1_KERNELS", "METRICS", "KNNClassifier"]

#: Metric name -> Minkowski ``p``.
METRICS: dict[str, int] = {"l1": 1, "l2": 2}

#: How L1 distance blocks are computed (see the module notes).
L1_KERNELS = ("auto", "compile", "cdist")

#: Training rows per L1 tile: 256 x 784 float32 = 800 KB, inside a core's L2 cache.
_TILE = 256

#: Extra candidates kept by ``topk`` for the exact float64 re-rank.
_RERANK_MARGIN = 8

#: Principal axes of the L2 projection bound under ``l2_components="auto"``, used from
#: ``_AUTO_MIN_FEATURES`` features up (below that the full product is already cheap).
_AUTO_COMPONENTS = 160
_AUTO_MIN_FEATURES = 256

#: Candidates per query re-measured exactly before the L2 bound test (``m`` in ``_knn_prune``).
_BOUND_CANDIDATES = 32


def _flat(x: Any, name: str) -> torch.Tensor:
    """``(samples, ...)`` array or tensor -> ``(samples, features)`` float32 on CPU."""
    t = x if isinstance(x, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(x))
    if t.ndim < 2:
        raise invalid_value(
            f"KNNClassifier: `{name}` must have a samples axis and at least one feature axis.",
            expected="an array of shape (samples, ...) such as (n, 28, 28, 1)",
            received={f"{name}.shape": tuple(t.shape)},
        )
    return t.reshape(len(t), -1).float()


def _l1_tiles(q: torch.Tensor, tiles: torch.Tensor) -> torch.Tensor:
    """L1 distances ``(tiles, rows, tile)`` of ``q`` ``(rows, d)`` to ``tiles`` ``(T, tile, d)``.

    Tile-major output makes inductor's loop nest visit one training tile for
    every query before moving on; the difference tensor is never materialised.
    """
    return (q[None, :, None, :] - tiles[:, None, :, :]).abs().sum(-1)


@functools.cache
def _compiled_l1_tiles() -> Any:
    """``_l1_tiles`` through torch.compile, built once per process on first use."""
    return torch.compile(_l1_tiles, dynamic=False)


class KNNClassifier:
    """k-nearest-neighbour classifier with L1 or L2 distance, brute force on torch.

    Args:
        n_neighbors: ``k``, the number of neighbours that vote (default 3).
        metric: ``"l2"`` (Euclidean, default) or ``"l1"`` (Manhattan).
        device: Where distances are computed (``"cpu"`` default, ``"cuda"``).
        memory_limit: Bytes for the distance blocks (default 256 MiB); see the module notes.
        l1_kernel: ``"auto"`` (compiled tiles on CPU, ``cdist`` on GPU), ``"compile"``
            or ``"cdist"``; only used by ``metric="l1"``.
        l2_components: Principal axes of the exact L2 pruning bound (``_knn_prune``):
            ``"auto"`` (160 from 256 features up, else none), an int below the feature
            count, or ``None`` for the full distance product. Predictions are the same
            either way; only the time changes.

    Example:
        >>> knn = KNNClassifier(3, "l2").fit(x_train, y_train)   # x: (n, 28, 28, 1)
        >>> labels = knn.predict(x_test)                          # (m,) int64
    """

    def __init__(
        self,
        n_neighbors: int = 3,
        metric: str = "l2",
        *,
        device: Any = "cpu",
        memory_limit: int = 256 * 2**20,
        l1_kernel: str = "auto",
        l2_components: int | str | None = "auto",
    ) -> None:
        if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, int) or n_neighbors < 1:
            raise invalid_value(
                "KNNClassifier: `n_neighbors` must be a positive integer.",
                received={"n_neighbors": n_neighbors},
            )
        if metric not in METRICS:
            raise unknown_name("kNN metric", metric, METRICS, argument="metric")
        if isinstance(memory_limit, bool) or not isinstance(memory_limit, int) or memory_limit < 1:
            raise invalid_value(
                "KNNClassifier: `memory_limit` must be a positive number of bytes.",
                received={"memory_limit": memory_limit},
            )
        if l1_kernel not in L1_KERNELS:
            raise unknown_name("L1 kernel", l1_kernel, L1_KERNELS, argument="l1_kernel")
        if l2_components not in ("auto", None) and (
            isinstance(l2_components, bool)
            or not isinstance(l2_components, int)
            or l2_components < 1
        ):
            raise invalid_value(
                "KNNClassifier: `l2_components` must be 'auto', None or a positive integer.",
                received={"l2_components": l2_components},
            )
        self.l2_components = l2_components
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.device = torch.device(device)
        self.memory_limit = memory_limit
        compile_here = l1_kernel == "compile" or (l1_kernel == "auto" and self.device.type == "cpu")
        self._compile_l1 = metric == "l1" and compile_here
        self._train: torch.Tensor | None = None

    # ------------------------------------------------------------------ fit
    def fit(self, x: Any, y: Any) -> KNNClassifier:
        """Store the training set: ``x`` ``(n, ...)`` numbers, ``y`` ``(n,)`` integer labels."""
        train = _flat(x, "x")
        labels = torch.as_tensor(np.asarray(y)).reshape(-1).long()
        if len(labels) != len(train):
            raise invalid_value(
                "KNNClassifier.fit: `x` and `y` must hold the same number of samples.",
                received={"len(x)": len(train), "len(y)": len(labels)},
            )
        if len(train) < self.n_neighbors:
            raise invalid_value(
                "KNNClassifier.fit: fewer training samples than `n_neighbors`.",
                received={"samples": len(train), "n_neighbors": self.n_neighbors},
            )
        self.classes_, codes = torch.unique(labels, sorted=True, return_inverse=True)
        self._train = train.to(self.device)
        self._codes = codes.to(self.device)
        self._sq_norms = (self._train * self._train).sum(1) if self.metric == "l2" else None
        components = self._components(train.shape[1])
        self._bound = ProjectionBound(self._train, components) if components else None
        self._tiles = None
        if self._compile_l1:  # zero rows pad the last tile; their columns are cut off
            pad = -len(train) % _TILE
            padded = torch.cat([self._train, self._train.new_zeros(pad, train.shape[1])])
            self._tiles = padded.reshape(-1, _TILE, train.shape[1])
            # Compile now, so the one-off cost counts as fitting, not as prediction time.
            self._l1_compiled(self._train[:1])
        return self

    def _components(self, features: int) -> int | None:
        """Axes of the L2 bound for ``features`` inputs; None where it does not apply."""
        if self.metric != "l2" or self.l2_components is None:
            return None
        if self.l2_components == "auto":
            return _AUTO_COMPONENTS if features >= _AUTO_MIN_FEATURES else None
        if self.l2_components >= features:
            raise invalid_value(
                "KNNClassifier.fit: `l2_components` must be below the feature count.",
                received={"l2_components": self.l2_components, "features": features},
            )
        return self.l2_components

    @property
    def chunk_rows(self) -> int:
        """Query rows per distance block (see the module notes on memory)."""
        return max(1, self.memory_limit // (8 * len(self._fitted())))

    @property
    def size(self) -> int:
        """Numbers stored (``n_train x features``): a kNN model is its training set."""
        return self._fitted().numel()

    @property
    def nbytes(self) -> int:
        """Bytes of the stored training set (the model's whole size)."""
        train = self._fitted()
        return train.numel() * train.element_size()

    def _fitted(self) -> torch.Tensor:
        if self._train is None:
            raise invalid_value(
                "KNNClassifier: call fit(x, y) before kneighbors/predict.",
                received={"fitted": False},
            )
        return self._train

    # ------------------------------------------------------------------ search
    def _block(self, q: torch.Tensor) -> torch.Tensor:
        """Distances (up to a per-row constant for L2) of ``q`` rows to every training row."""
        train = self._fitted()
        if self.metric == "l2":
            # |q - t|^2 = |q|^2 + |t|^2 - 2 q.t; |q|^2 is constant per row, so ranking skips it.
            return torch.addmm(self._sq_norms.unsqueeze(0), q, train.T, alpha=-2.0)
        if self._tiles is not None:
            block = self._l1_compiled(q)
            if block is not None:
                return block
        return torch.cdist(q, train, p=1.0)

    def _l1_compiled(self, q: torch.Tensor) -> torch.Tensor | None:
        """The compiled tile kernel on ``q`` padded to ``chunk_rows`` rows (one shape, one
        compile); None, after one warning, where compiling fails."""
        rows, n = len(q), len(self._train)
        padded = torch.cat([q, q.new_zeros(self.chunk_rows - rows, q.shape[1])])
        try:
            out = _compiled_l1_tiles()(padded, self._tiles)
        except Exception as err:  # inductor needs a working C++ toolchain
            warnings.warn(
                f"KNNClassifier: torch.compile of the L1 kernel failed ({type(err).__name__}); "
                "using torch.cdist(p=1), about 3.5x slower on CPU.",
                RuntimeWarning,
                stacklevel=4,
            )
            self._tiles = None
            return None
        return out.permute(1, 0, 2).reshape(len(padded), -1)[:rows, :n]

    @torch.inference_mode()
    def kneighbors(self, x: Any) -> tuple[np.ndarray, np.ndarray]:
        """Distances and training indices of each row's ``k`` nearest neighbours.

        Args:
            x: Queries ``(m, ...)`` with the training set's feature count.

        Returns:
            ``(distances, indices)``, each ``(m, k)``, nearest first; equal
            distances are ordered by training index.
        """
        dist, idx = self._search(x)
        return dist.cpu().numpy(), idx.cpu().numpy()

    def _search(self, x: Any) -> tuple[torch.Tensor, torch.Tensor]:
        train = self._fitted()
        queries = _flat(x, "x")
        if queries.shape[1] != train.shape[1]:
            raise invalid_value(
                "KNNClassifier: queries and training set differ in feature count.",
                received={"features": queries.shape[1], "trained_on": train.shape[1]},
            )
        k = self.n_neighbors
        keep = min(len(train), k + _RERANK_MARGIN)
        dists, indices = [], []
        for q in torch.split(queries, self.chunk_rows):
            q = q.to(self.device, non_blocking=True)
            if self._bound is not None:
                dist, idx = self._bound.neighbours(train, q, k, _BOUND_CANDIDATES)
                dists.append(dist)
                indices.append(idx)
                continue
            candidates = self._block(q).topk(keep, dim=1, largest=False, sorted=False).indices
            # Order by training index first, then stably by exact distance: ties go by index.
            candidates = candidates.sort(dim=1).values
            exact = exact_distances(train, q, candidates, self.metric)
            order = exact.sort(dim=1, stable=True).indices[:, :k]
            dists.append(exact.gather(1, order))
            indices.append(candidates.gather(1, order))
        return torch.cat(dists), torch.cat(indices)

    @torch.inference_mode()
    def predict(self, x: Any) -> np.ndarray:
        """Majority label of the ``k`` nearest neighbours, ``(m,)``; ties -> smallest label."""
        _, idx = self._search(x)
        votes = torch.zeros(len(idx), len(self.classes_), device=self.device)
        votes.scatter_add_(1, self._codes[idx], torch.ones(idx.shape, device=self.device))
        # argmax returns the first maximum: the smallest of the tied (sorted) classes.
        return self.classes_[votes.argmax(1).cpu()].numpy()

    def score(self, x: Any, y: Any) -> float:
        """Accuracy of ``predict(x)`` against ``y``."""
        return float((self.predict(x) == np.asarray(y).reshape(-1)).mean())
