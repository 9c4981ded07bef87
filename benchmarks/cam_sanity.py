"""Sanity checks for every explanation method (Adebayo et al. 2018) on real MNIST digits.

Two models of the pointing game's architecture (``pointing_game.build_model``)
are trained on the same seeded 64 x 64 digit canvases, one on the true labels
and one on shuffled labels (it can only memorise). For every CAM method and
pixel attribution, the maps of held-out test canvases (target: the true class)
are compared by Spearman rank correlation, per image, then averaged:

* cascading randomisation: the trained model's parametrised layers are
  re-initialised from the top down (``cnnkit.explain.cascading_randomization``);
* data randomisation: the true-label model's maps against the shuffled-label model's.

A method passes a check when the mean correlation is below 0.5 (the map
depends on what the model learned); Adebayo et al. found edge-detector-like
methods that fail it.

    CNNKIT_DATA=../shared/data .venv/bin/python benchmarks/cam_sanity.py \
        [--train 1000] [--epochs 10] [--test 64] [--methods gradcam,saliency]
        [--load pointing_game_model.cnnkit --shuffled-epochs 0]
        [--grid docs/images/cam_sanity.png]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from pointing_game import build_model


def train_model(images: np.ndarray, labels: np.ndarray, epochs: int, seed: int):
    """A pointing-game CNN trained with Adam; returns it and its final training accuracy."""
    from cnnkit.utils import set_random_seed

    set_random_seed(seed)
    model = build_model("gap16")  # the model its recorded figures were made with
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(images, labels, epochs=epochs, batch_size=64, verbose=0)
    return model, history.history["accuracy"][-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--test", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--load", default=None, help="the true-label model, saved (no training)")
    parser.add_argument(
        "--shuffled-epochs", type=int, default=None, help="default --epochs; 0 skips that check"
    )
    parser.add_argument("--methods", default=None, help="comma-separated; default every method")
    parser.add_argument("--grid", default=None, help="also save the Grad-CAM cascade of 3 canvases")
    args = parser.parse_args()
    if args.shuffled_epochs is None:
        args.shuffled_epochs = args.epochs

    from cnnkit.datasets import digit_canvases
    from cnnkit.explain import (
        ATTRIBUTION_METHODS,
        CAM_METHODS,
        attribute,
        cam,
        cascading_randomization,
        heatmap,
        plot_cam_grid,
        randomized_copy,
        rank_correlation,
    )
    from cnnkit.models import load_model

    options = {"size": 64, "num_objects": 1, "scale": (0.9, 1.5), "batch_size": 500}
    tr = digit_canvases("mnist", "train", num_canvases=args.train, seed=args.seed, **options)
    te = digit_canvases("mnist", "test", num_canvases=args.test, seed=args.seed + 1, **options)
    tr, te = tr.take(args.train), te.take(args.test)
    labels = tr.labels[:, 0]
    shuffled = np.random.default_rng(args.seed).permutation(labels)
    start = time.perf_counter()
    if args.load:
        true_model, true_acc = load_model(args.load), float("nan")
    else:
        true_model, true_acc = train_model(tr.images, labels, args.epochs, args.seed)
    shuffled_model, shuffled_acc = None, float("nan")
    if args.shuffled_epochs:
        shuffled_model, shuffled_acc = train_model(
            tr.images, shuffled, args.shuffled_epochs, args.seed
        )
    test_acc = (true_model.predict(te.images, verbose=0).argmax(1) == te.labels[:, 0]).mean()
    print(
        f"models ready in {time.perf_counter() - start:.0f} s (load {os.getloadavg()[0]:.1f}):"
        f" true labels train acc {true_acc:.3f}, test acc {test_acc:.3f};"
        f" shuffled labels train acc {shuffled_acc:.3f}"
    )
    cascade = [layer.name for layer in true_model.layers if any(True for _ in layer.parameters())]
    cascade.reverse()
    target = te.labels[:, 0]

    def maps_of(model, method: str) -> np.ndarray:
        if method in CAM_METHODS:
            return cam(model, te.images, target, method)
        return heatmap(attribute(model, te.images, target, method))

    rows = []
    methods = args.methods.split(",") if args.methods else [*CAM_METHODS, *ATTRIBUTION_METHODS]
    for method in methods:
        start = time.perf_counter()
        steps = cascading_randomization(
            true_model, te.images, cascade, method=method, target=target
        )
        data = float("nan")
        if shuffled_model is not None:
            ours = maps_of(true_model, method)
            data = np.nanmean(rank_correlation(ours, maps_of(shuffled_model, method)))
        rows.append((method, [float(np.nanmean(c)) for _, c in steps], data))
        steps_text = " ".join(f"{v:.3f}" for v in rows[-1][1])
        print(f"{method:<22} cascade {steps_text} shuffled {rows[-1][2]:.3f}", end=" ")
        print(f"({time.perf_counter() - start:.0f} s)", flush=True)
    head = " | ".join(f"randomised to {name}" for name in cascade)
    print(f"\n| method | {head} | shuffled labels |\n|---|{'---|' * len(cascade)}---|")
    for method, steps, data in rows:
        print(f"| {method} | " + " | ".join(f"{s:.2f}" for s in steps) + f" | {data:.2f} |")
    if args.grid:
        shown = {"trained": cam(true_model, te.images[:3], target[:3])}
        for i, name in enumerate(cascade):
            twin = randomized_copy(true_model, cascade[: i + 1], seed=0)
            shown[f"random to {name}"] = cam(twin, te.images[:3], target[:3])
        if shuffled_model is not None:
            shown["shuffled labels"] = cam(shuffled_model, te.images[:3], target[:3])
        plot_cam_grid(
            te.images[:3],
            shown,
            class_names=[f"digit {d}" for d in target[:3]],
            path=args.grid,
            dpi=70,
            tile=1.6,
        )
        print(f"wrote {args.grid} (Grad-CAM of 3 test canvases, trained to randomised)")


if __name__ == "__main__":
    main()
