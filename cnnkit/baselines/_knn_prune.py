"""Exact L2 neighbours with a projection lower bound, so most distances never need 784 numbers.

For an orthonormal basis ``P`` (``d`` columns) and ``r(x) = |x - P P^T x|``
(the length of what the basis misses), every pair of points satisfies

    |x - y|^2  =  |P^T (x - y)|^2 + |(I - P P^T)(x - y)|^2
              >=  |P^T x - P^T y|^2 + (r(x) - r(y))^2,

the second term by the reverse triangle inequality. With ``a(x) = [P^T x, r(x)]``
(``d + 1`` numbers) the bound is ``|x|^2 + |y|^2 - 2 a(x).a(y)``: one matrix
product with inner size ``d + 1`` instead of the feature count. ``P`` holds the
top principal axes of a seeded sample of the training set, which makes the
bound tight, but the bound holds for any orthonormal ``P``: nothing depends on
how good the sample is except the speed.

Per query row: the ``m + 1`` smallest bounds name candidates; their float32
distances (summed squares, off by at most ``(D + 3)`` units of float32 rounding)
pick ``k + 8`` whose exact float64 distances give ``d_k``, the ``k``-th smallest;
the candidates not re-measured must be farther than ``d_k`` even after that
rounding. Every training row left out has a bound at least the largest selected
bound ``b``. Where ``b - slack > d_k^2`` no left-out row can come nearer than ``d_k`` (nor tie it),
so the ``k`` nearest are among the candidates: the answer is exact. ``slack``
covers float32 rounding in the bound product (see ``_SLACK``). Rows where the
test fails (rare on images) are re-searched over every training row whose
bound is within ``d_k^2 + slack``, also exact.
"""

from __future__ import annotations

import torch

__all__ = ["ProjectionBound", "exact_distances"]

#: Rows sampled to estimate the principal axes (the bound is valid for any basis).
_SAMPLE = 4096

#: Relative float32 error allowed for ``|q|^2 + |t|^2 - 2 a(q).a(t)``: rounding of a sum of
#: magnitudes up to ``|q|^2 + |t|^2`` is ~1e-6 of it; 2e-5 leaves a twentyfold margin.
_SLACK = 2e-5

#: Candidates kept from the float32 candidate distances for the float64 re-rank.
_RERANK = 8

#: ``torch.cdist`` without the matrix-product shortcut: differences squared, no cancellation.
_DIRECT = "donot_use_mm_for_euclid_dist"


def exact_distances(
    train: torch.Tensor, q: torch.Tensor, candidates: torch.Tensor, metric: str
) -> torch.Tensor:
    """Float64 distances ``(rows, c)`` of ``q`` ``(rows, D)`` to ``train[candidates]``."""
    diff = train[candidates].double() - q.double().unsqueeze(1)
    if metric == "l2":
        return (diff * diff).sum(-1).sqrt()
    return diff.abs().sum(-1)


class ProjectionBound:
    """The ``d + 1``-number lower bound of squared L2 distance to a fixed training set.

    Args:
        train: ``(n, D)`` float32 training rows.
        components: ``d``, the number of principal axes kept (``< D``).
        seed: Seed of the row sample the axes are estimated from.
    """

    def __init__(self, train: torch.Tensor, components: int, *, seed: int = 0) -> None:
        generator = torch.Generator().manual_seed(seed)
        rows = torch.randperm(len(train), generator=generator)[:_SAMPLE].to(train.device)
        sample = train[rows].double()
        sample -= sample.mean(0)
        _, vectors = torch.linalg.eigh(sample.T @ sample)
        self.basis = vectors[:, -components:].contiguous()  # (D, d), orthonormal columns
        self.train_features, self.train_sq = self.augment(train)
        self.train_sq_max = float(self.train_sq.max())

    def augment(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(a(x), |x|^2)``: ``(rows, d + 1)`` and ``(rows,)`` float32, computed in float64."""
        x64 = x.double()
        projected = x64 @ self.basis
        sq = (x64 * x64).sum(1)
        residual = (sq - (projected * projected).sum(1)).clamp_min(0).sqrt()
        return torch.cat([projected, residual[:, None]], 1).float(), sq.float()

    def lower_bounds(self, q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Bounds ``(rows, n)`` float32 on ``|q - t|^2`` and each row's slack ``(rows,)``."""
        features, sq = self.augment(q)
        block = torch.addmm(self.train_sq.unsqueeze(0), features, self.train_features.T, alpha=-2)
        block += sq.unsqueeze(1)
        return block, _SLACK * (sq.double() + self.train_sq_max)

    def neighbours(
        self, train: torch.Tensor, q: torch.Tensor, k: int, candidates: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Exact ``k`` nearest ``(distances, indices)``, each ``(rows, k)``.

        Ordered by (distance, training index). ``candidates`` is ``m``, the
        rows re-measured exactly per query before the bound test.
        """
        bounds, slack = self.lower_bounds(q)
        keep = min(len(train), max(candidates, k) + 1)
        top = bounds.topk(keep, dim=1, largest=False, sorted=False)
        chosen = top.indices.sort(dim=1).values  # index order, so a stable sort breaks ties by it
        # float32 distances of the candidates (no cancellation: a sum of squares), then float64
        # for the few nearest; _F32_SLACK bounds how far float32 can undercut the exact value.
        gathered = train.index_select(0, chosen.flatten()).view(*chosen.shape, -1)
        approx = torch.cdist(q.unsqueeze(1), gathered, compute_mode=_DIRECT)[:, 0].square()
        rerank = min(keep, k + _RERANK)
        near32 = approx.topk(rerank, dim=1, largest=False, sorted=False)
        shortlist = chosen.gather(1, near32.indices.sort(dim=1).values)
        exact = exact_distances(train, q, shortlist, "l2")
        kth_sq = exact.kthvalue(k, dim=1).values.square()
        f32_slack = (q.shape[1] + 3) * 2.0**-24 * 1.01
        settled = top.values.max(1).values.double() - slack > kth_sq
        if keep == len(train):
            settled[:] = True  # every training row is a candidate
        if rerank < keep:
            settled &= near32.values.max(1).values.double() * (1 - f32_slack) > kth_sq
        order = exact.sort(dim=1, stable=True).indices[:, :k]
        dist, idx = exact.gather(1, order), shortlist.gather(1, order)
        for row in (~settled).nonzero().flatten().tolist():
            near = (bounds[row].double() <= kth_sq[row] + slack[row]).nonzero().flatten()
            row_exact = exact_distances(train, q[row : row + 1], near[None], "l2")[0]
            row_order = row_exact.sort(stable=True).indices[:k]
            dist[row], idx[row] = row_exact[row_order], near[row_order]
        return dist, idx
