"""Siamese one-shot recognition: a shared embedding CNN, contrastive and triplet losses.

The network maps an image to a vector; "Siamese" means every image of a pair
or triplet goes through the same weights. Training sees only classes 0-4;
one-shot evaluation then shows one example of each class (the "support") and
names a new image (the "query") by its nearest support embedding.

The losses take a batch of embeddings and its integer labels and form every
pair (contrastive, Hadsell et al. 2006) or, for each anchor, its hardest
positive and hardest negative (batch-hard triplet, Hermans et al. 2017)
inside the batch, so ``fit`` trains them from plain ``(images, labels)`` arrays.

What carries the embedding over to classes it never saw is variety, not more
of the same five classes: :class:`TwoViewBatches` shows every image twice,
randomly warped, and may turn it by quarter turns into new classes, and the
triplet loss's ``instance_weight`` also asks the two views of one image to sit
closer than any other image (instance discrimination, as in SimCLR). On
MNIST 0-4 -> 5-9 these lifted five-way one-shot accuracy from 0.62 to about
0.8 (docs/benchmarks.md).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from cnnkit._errors import unknown_name
from cnnkit.datasets import fashion_mnist, mnist
from cnnkit.layers import Dense, Flatten, GlobalAveragePooling2D, Input, MaxPooling2D, Rescaling
from cnnkit.models import Model
from cnnkit.preprocessing._transform import Augment, augment_batch
from cnnkit.tasks._blocks import conv_block
from cnnkit.training.losses import Loss
from cnnkit.utils import PyDataset

__all__ = [
    "ContrastiveLoss",
    "TripletLoss",
    "TwoViewBatches",
    "build_embedding",
    "contrastive_loss",
    "embed",
    "evaluate_one_shot",
    "one_shot_accuracy",
    "siamese_data",
    "triplet_loss",
]

SEEN = (0, 1, 2, 3, 4)
UNSEEN = (5, 6, 7, 8, 9)


def build_embedding(
    input_shape: tuple[int, int, int] = (28, 28, 1),
    dim: int = 128,
    filters: tuple[int, ...] = (32, 64, 64),
    pooling: str = "flatten",
) -> Model:
    """The shared CNN: ``conv_block`` (+ MaxPooling2D between) per ``filters``, then Dense(dim).

    ``pooling="flatten"`` (default) keeps the 7×7 layout of the last features
    (where strokes are), which carries over to unseen classes better than
    ``"avg"`` (GlobalAveragePooling2D): on MNIST 0-4 -> 5-9 the average-pooled
    64-d variant reached only 0.56 five-way one-shot accuracy (docs/benchmarks.md).
    About 5.6 M multiply-adds per 28×28 image with the default filters.
    """
    if pooling not in ("flatten", "avg"):
        raise unknown_name("pooling", pooling, ["avg", "flatten"], argument="pooling")
    inputs = Input(shape=input_shape)
    x = Rescaling(1 / 255)(inputs)
    for i, f in enumerate(filters):
        x = conv_block(x if i == 0 else MaxPooling2D(2)(x), f)
    x = Flatten()(x) if pooling == "flatten" else GlobalAveragePooling2D()(x)
    return Model(inputs, Dense(dim)(x), name="embedding")


def _distances(embeddings: torch.Tensor) -> torch.Tensor:
    e = F.normalize(embeddings.float(), dim=-1)
    return torch.cdist(e, e).clamp(min=1e-9)


class _PairLoss(Loss):
    # Integer labels, one per image, against (batch, dim) embeddings: "sparse" labels.
    label_kind: ClassVar[str] = "sparse"

    def __init__(self, margin: float) -> None:
        super().__init__()
        self.margin = float(margin)

    def get_config(self) -> dict[str, Any]:
        return {"margin": self.margin}


class ContrastiveLoss(_PairLoss):
    """Mean over every pair in the batch of ``d²`` (same class) or ``max(0, m − d)²`` (not).

    ``d`` is the distance of the L2-normalised embeddings; ``margin`` default 1.0.
    """

    name: ClassVar[str] = "contrastive"

    def __init__(self, margin: float = 1.0) -> None:
        super().__init__(margin)

    def per_sample(self, y_true, y_pred, logits):
        d = _distances(y_pred)
        same = y_true[:, None] == y_true[None, :]
        off = ~torch.eye(len(d), dtype=torch.bool, device=d.device)
        pair = torch.where(same, d**2, (self.margin - d).clamp(min=0) ** 2)
        return (pair * off).sum(1) / off.sum(1).clamp(min=1)


def _batch_hard(d: torch.Tensor, labels: torch.Tensor, margin: float) -> torch.Tensor:
    same = labels[:, None] == labels[None, :]
    hardest_pos = torch.where(same, d, torch.zeros_like(d)).amax(1)
    hardest_neg = torch.where(same, torch.full_like(d, 4.0), d).amin(1)
    return (hardest_pos - hardest_neg + margin).clamp(min=0)


class TripletLoss(_PairLoss):
    """Batch-hard triplet: ``max(0, d(a, hardest positive) − d(a, hardest negative) + m)``.

    Distances of L2-normalised embeddings; ``margin`` default 0.3.

    ``instance_weight`` (default 0) adds that weight times the same loss with
    each *image* as its own class. It expects :class:`TwoViewBatches`' layout:
    rows ``i`` and ``i + n/2`` of a batch of ``n`` are two views of one image.
    """

    name: ClassVar[str] = "triplet"

    def __init__(self, margin: float = 0.3, instance_weight: float = 0.0) -> None:
        super().__init__(margin)
        self.instance_weight = float(instance_weight)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "instance_weight": self.instance_weight}

    def per_sample(self, y_true, y_pred, logits):
        d = _distances(y_pred)
        loss = _batch_hard(d, y_true, self.margin)
        if self.instance_weight:
            n = len(d)
            if n % 2:
                raise ValueError(
                    f"TripletLoss(instance_weight={self.instance_weight}) needs batches of two "
                    f"views (an even size, rows i and i + n/2 from one image); got {n} rows. "
                    "Train it on TwoViewBatches."
                )
            images = torch.arange(n, device=d.device) % (n // 2)
            loss = loss + self.instance_weight * _batch_hard(d, images, self.margin)
        return loss


contrastive_loss = ContrastiveLoss()
triplet_loss = TripletLoss()

# Warps that keep a digit a digit: Keras ImageDataGenerator arguments, black outside.
VIEW_AUGMENT = Augment(
    rotation_range=15,
    width_shift_range=0.15,
    height_shift_range=0.15,
    zoom_range=(0.9, 1.1),
    fill_mode="constant",
)
# Classes that a half turn maps onto themselves: a turned 0 or 1 is still a 0 or 1.
HALF_TURN_ALIKE = {"mnist": (0, 1), "fashion_mnist": ()}


class TwoViewBatches(PyDataset):
    """Batches of two random views of each image, for ``fit`` on a Siamese embedding.

    Each batch takes ``batch_size`` images (a fresh seeded shuffle every epoch)
    and returns ``2 * batch_size`` rows: rows ``i`` and ``i + batch_size`` are
    two independent warps (:data:`VIEW_AUGMENT`) of image ``i``, so the
    losses see every image as a positive pair of itself as well.

    With ``quarter_turns``, each image is first turned by ``k`` random quarter
    turns (the same ``k`` for both views) and labelled ``4 * label + k``: a
    turned digit is a new class, which gives the embedding 4x as many classes
    to tell apart. For the labels in ``half_turn_alike`` a half turn is the
    same class (``4 * label + k % 2``).

    Args:
        images: ``(N, 28, 28, 1)`` pixels 0..255.
        labels: ``(N,)`` integer labels.
        batch_size: Images per batch (rows per batch: twice that). Default 64.
        seed: Seed of the shuffles and the warps. Default 0.
        quarter_turns: Make turned copies new classes. Default True.
        half_turn_alike: Labels a half turn leaves alike. Default ``(0, 1)`` (digits).
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        batch_size: int = 64,
        seed: int = 0,
        quarter_turns: bool = True,
        half_turn_alike: tuple[int, ...] = (0, 1),
    ) -> None:
        super().__init__()
        if images.ndim != 4 or len(images) != len(labels):
            raise ValueError(
                "TwoViewBatches: `images` must be (N, height, width, channels) with one label "
                f"each; got images {images.shape} and labels {np.shape(labels)}."
            )
        if quarter_turns and images.shape[1] != images.shape[2]:
            raise ValueError(
                "TwoViewBatches: quarter_turns needs square images; got height "
                f"{images.shape[1]} and width {images.shape[2]}. Pass quarter_turns=False."
            )
        if len(images) < batch_size:
            raise ValueError(
                f"TwoViewBatches: need at least batch_size={batch_size} images; got {len(images)}."
            )
        self.images = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
        self.labels = torch.from_numpy(np.asarray(labels, dtype=np.int64))
        self.batch_size, self.seed, self.quarter_turns = batch_size, seed, quarter_turns
        self.half_turn_alike = torch.tensor(half_turn_alike, dtype=torch.int64)
        self.epoch = 0
        self._order = self._shuffle()

    def _shuffle(self) -> np.ndarray:
        return np.random.default_rng((self.seed, self.epoch)).permutation(len(self.images))

    def __len__(self) -> int:
        return len(self.images) // self.batch_size

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        rows = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        x, y = self.images[rows], self.labels[rows]
        rng = np.random.default_rng((self.seed, self.epoch, index))
        if self.quarter_turns:
            turns = torch.from_numpy(rng.integers(0, 4, len(rows)))
            # Four whole-batch turns and a gather, rather than a Python loop per image.
            every_turn = torch.stack([torch.rot90(x, k, dims=(1, 2)) for k in range(4)])
            x = every_turn[turns, torch.arange(len(rows))]
            alike = torch.isin(y, self.half_turn_alike)
            y = 4 * y + torch.where(alike, turns % 2, turns)
        views = torch.cat(
            [augment_batch(x, VIEW_AUGMENT, rng), augment_batch(x, VIEW_AUGMENT, rng)]
        )
        return views.numpy(), torch.cat([y, y]).numpy()

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._order = self._shuffle()


def siamese_data(dataset: str, n_train: int, n_test: int, batch_size: int, seed: int):
    """Training images of the seen classes 0-4 as ``(x, y)`` arrays, and test ``(x, y)``.

    Returns ``((x_train, y_train), (x_test, y_test))``: the first ``n_train``
    (seeded shuffle) training images of classes 0-4 and ``n_test`` test
    images of all classes, float32 ``(N, 28, 28, 1)`` pixels 0..255.
    """
    (x, y), (xt, yt) = (mnist if dataset == "mnist" else fashion_mnist).load_data()
    rng = np.random.default_rng(seed)
    seen = rng.permutation(np.where(np.isin(y, SEEN))[0])[:n_train]
    test = rng.permutation(len(yt))[:n_test] if n_test < len(yt) else np.arange(len(yt))
    return (
        (x[seen, ..., None].astype(np.float32), y[seen].astype(np.int64)),
        (xt[test, ..., None].astype(np.float32), yt[test].astype(np.int64)),
    )


def embed(model: Model, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """``(N, dim)`` L2-normalised embeddings of ``(N, 28, 28, 1)`` images."""
    out = torch.as_tensor(model.predict(images.astype(np.float32), batch_size=batch_size))
    return F.normalize(out.float(), dim=-1).numpy()


def one_shot_accuracy(
    embeddings: np.ndarray,
    labels: np.ndarray,
    classes: tuple[int, ...],
    episodes: int = 2000,
    seed: int = 0,
) -> float:
    """N-way one-shot accuracy: one support per class, one query, nearest support wins.

    Each episode draws, for every class in ``classes``, one support image, and
    a query of a random class that is a different image from its support.
    """
    rng = np.random.default_rng(seed)
    pools = [np.where(labels == c)[0] for c in classes]
    support = np.stack([rng.choice(p, episodes) for p in pools], axis=1)  # (E, N)
    truth = rng.integers(0, len(classes), episodes)
    query = np.array([rng.choice(pools[t]) for t in truth])
    clash = query == support[np.arange(episodes), truth]
    while clash.any():  # redraw queries that are their own support
        query[clash] = [rng.choice(pools[t]) for t in truth[clash]]
        clash = query == support[np.arange(episodes), truth]
    d = np.linalg.norm(embeddings[support] - embeddings[query][:, None], axis=-1)
    return float((d.argmin(1) == truth).mean())


def evaluate_one_shot(model: Model, test: tuple[np.ndarray, np.ndarray]) -> dict[str, Any]:
    """One-shot accuracy on test images: 5-way unseen 5-9, 10-way all, 5-way seen 0-4."""
    x, y = test
    e = embed(model, x)
    return {
        "one_shot_5way_unseen": one_shot_accuracy(e, y, UNSEEN),
        "one_shot_10way_all": one_shot_accuracy(e, y, SEEN + UNSEEN),
        "one_shot_5way_seen": one_shot_accuracy(e, y, SEEN),
        "episodes": 2000,
        "test_images": len(y),
    }
