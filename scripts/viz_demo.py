"""Proof run of cnnkit.viz: LeNet-5 trained on real MNIST, then its filters, maps and t-SNE.

Trains ``LeNet5(variant="relu")`` for one epoch and writes three PNGs to ``--out``:

- ``filters.png``: the 6 first-layer 3×3 kernels (0 = mid-gray);
- ``feature_maps.png``: what every conv/pool layer outputs for one test digit;
- ``tsne.png``: t-SNE of the 84-D features the classifier reads, for 2,000 test digits.

It prints the test accuracy, the timings, and how often a point's nearest neighbour
in the t-SNE map has the same digit (1-NN agreement: a number for "clusters per digit").

    CNNKIT_DATA=/work/shared/data .venv/bin/python scripts/viz_demo.py --out /tmp/viz
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def neighbour_agreement(points: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of points whose nearest other point has the same label."""
    sq = (points**2).sum(1)
    d = sq[:, None] + sq[None] - 2 * points @ points.T
    np.fill_diagonal(d, np.inf)
    return float((labels[d.argmin(1)] == labels).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/viz"))
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--tsne-samples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from cnnkit.applications import LeNet5
    from cnnkit.datasets import mnist
    from cnnkit.utils import set_random_seed
    from cnnkit.viz import (
        embed_features,
        feature_maps,
        layer_features,
        plot_embedding,
        plot_feature_maps,
        plot_filters,
    )

    set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train = (x_train[..., None] / 255.0).astype(np.float32)
    x_test = (x_test[..., None] / 255.0).astype(np.float32)

    model = LeNet5(variant="relu")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=128, epochs=args.epochs, verbose=0)
    print(f"trained {args.epochs} epoch(s) in {time.perf_counter() - start:.1f} s")
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy {accuracy:.4f} (loss {loss:.4f})")

    args.out.mkdir(parents=True, exist_ok=True)
    plot_filters(model, path=args.out / "filters.png")
    digit = x_test[0]
    maps = feature_maps(model, digit)
    print("feature maps of test digit 0 (label", int(y_test[0]), "):")
    for name, array in maps.items():
        print(f"  {name:16s} {array.shape}  mean {array.mean():.3f}  max {array.max():.3f}")
    plot_feature_maps(model, digit, path=args.out / "feature_maps.png")

    n = args.tsne_samples
    start = time.perf_counter()
    features = layer_features(model, x_test[:n])
    extracted = time.perf_counter() - start
    points = embed_features(features, seed=args.seed)
    embedded = time.perf_counter() - start - extracted
    title = f"t-SNE of LeNet-5's {features.shape[1]}-D penultimate features, {n} MNIST test digits"
    plot_embedding(points, y_test[:n], path=args.out / "tsne.png", title=title)
    print(f"features {features.shape} in {extracted:.2f} s; t-SNE in {embedded:.1f} s")
    print(f"t-SNE 1-NN agreement {neighbour_agreement(points, y_test[:n]):.3f}")
    print(f"wrote {', '.join(p.name for p in sorted(args.out.glob('*.png')))} to {args.out}")


if __name__ == "__main__":
    main()
