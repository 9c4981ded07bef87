"""Pointing game on real MNIST digits: does each map's maximum fall inside the digit's box?

Canvases from ``cnnkit.datasets.digit_canvases`` (64 x 64, one real MNIST digit
at a random place and scale; train canvases from the training digits, test
canvases from the test digits, seeded). A small CNN with global average pooling
is trained on them; then, for every CAM method and pixel attribution, the map
of the true class is computed for the test canvases and a canvas counts as a
hit when the map's maximum pixel lies inside the digit's tight stroke box.
Goal: >= 90% for Grad-CAM.

    CNNKIT_DATA=../shared/data .venv/bin/python benchmarks/pointing_game.py \
        [--model gap32bn] [--train 6000] [--test 1000] [--epochs 3] [--gradcam-layers]
        [--grid docs/images/cam_pointing_game.png]
        [--save model.cnnkit | --load model.cnnkit] [--methods gradcam,scorecam] [--costly 200]

``--costly N`` scores the methods that run many forward passes per canvas
(Score-CAM, Ablation-CAM, SmoothGrad, Integrated Gradients, occlusion) on the
first N test canvases only, and says so in the table.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

#: Methods with many forward passes per canvas (masks, ablations, noise, steps, windows).
COSTLY = ("scorecam", "ablationcam", "smoothgrad", "integrated_gradients", "occlusion")


#: Model name -> the conv blocks after the input: (filters, dilation) or "pool".
#: "gap16" is the first model (last conv at 16 x 16, receptive field 26 px, no BN);
#: "gap32bn" keeps the last conv at 32 x 32 (one map cell = 2 px, so a peak at a
#: stroke's end is quantised at most 1 px away) with a similar receptive field
#: (28 px, through dilation instead of a second pooling) and BatchNorm.
MODELS: dict[str, dict] = {
    "gap16": {"blocks": [(16, 1), "pool", (32, 1), "pool", (64, 1), (64, 1)], "bn": False},
    "gap32bn": {"blocks": [(16, 1), "pool", (32, 1), (32, 2), (64, 3)], "bn": True},
}


def build_model(name: str = "gap32bn"):
    """A small channels-last CNN with global average pooling on 64 x 64 x 1 canvases."""
    from cnnkit.layers import (
        BatchNormalization,
        Conv2D,
        Dense,
        GlobalAveragePooling2D,
        Input,
        MaxPooling2D,
        ReLU,
        Rescaling,
    )
    from cnnkit.models import Sequential

    spec = MODELS[name]
    layers = [Input((64, 64, 1)), Rescaling(1 / 255)]
    for block in spec["blocks"]:
        if block == "pool":
            layers.append(MaxPooling2D())
            continue
        filters, dilation = block
        conv = dict(padding="same", dilation_rate=dilation)
        if spec["bn"]:
            # momentum 0.9: the moving statistics must settle within a few hundred steps.
            layers += [Conv2D(filters, 3, use_bias=False, **conv)]
            layers += [BatchNormalization(momentum=0.9), ReLU()]
        else:
            layers.append(Conv2D(filters, 3, activation="relu", **conv))
    layers += [GlobalAveragePooling2D(), Dense(10, activation="softmax")]
    return Sequential(layers)


def hits(maps: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Whether each ``(H, W)`` map's maximum lies in its ``(x1, y1, x2, y2)`` box.

    ``x2`` and ``y2`` are exclusive.
    """
    flat = maps.reshape(len(maps), -1).argmax(axis=1)
    y, x = np.divmod(flat, maps.shape[2])
    x1, y1, x2, y2 = boxes.T
    return (x >= x1) & (x < x2) & (y >= y1) & (y < y2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=6000)
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default="gap32bn", choices=sorted(MODELS))
    parser.add_argument(
        "--gradcam-layers", action="store_true", help="also Grad-CAM on every conv layer"
    )
    parser.add_argument("--grid", default=None, help="also save a grid PNG of 6 test canvases")
    parser.add_argument("--save", default=None, help="save the trained model here")
    parser.add_argument("--load", default=None, help="skip training: load this saved model")
    parser.add_argument("--methods", default=None, help="comma-separated; default every method")
    parser.add_argument("--costly", type=int, default=None, help="canvases for costly methods")
    args = parser.parse_args()

    from cnnkit.datasets import digit_canvases
    from cnnkit.explain import (
        ATTRIBUTION_METHODS,
        CAM_METHODS,
        attribute,
        cam,
        heatmap,
        plot_cam_grid,
    )
    from cnnkit.models import load_model
    from cnnkit.utils import set_random_seed

    set_random_seed(args.seed)
    options = {"size": 64, "num_objects": 1, "scale": (0.9, 1.5), "batch_size": 500}
    train = digit_canvases("mnist", "train", num_canvases=args.train, seed=args.seed, **options)
    test = digit_canvases("mnist", "test", num_canvases=args.test, seed=args.seed + 1, **options)
    te = test.take(args.test)
    if args.load:
        model = load_model(args.load)
    else:
        tr = train.take(args.train)
        model = build_model(args.model)
        model.compile(
            optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        start = time.perf_counter()
        model.fit(tr.images, tr.labels[:, 0], epochs=args.epochs, batch_size=64, verbose=2)
        print(f"training: {time.perf_counter() - start:.0f} s, load {os.getloadavg()[0]:.1f}")
        if args.save:
            model.save(args.save)
    probs = model.predict(te.images, verbose=0)
    labels, boxes = te.labels[:, 0], te.boxes[:, 0]
    print(f"test accuracy on {args.test} canvases: {(probs.argmax(1) == labels).mean():.4f}")
    box_area = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).mean() / 64**2
    print(f"mean box area: {box_area:.3f} of the canvas (a random point's hit rate)")

    if args.gradcam_layers:
        for layer in [m.name for m in model.layers if type(m).__name__ == "Conv2D"]:
            maps = cam(model, te.images, target=labels, method="gradcam", layer=layer)
            print(f"gradcam on {layer:<16} pointing game {hits(maps, boxes).mean():.3f}")
    results, shown = [], {}
    methods = args.methods.split(",") if args.methods else [*CAM_METHODS, *ATTRIBUTION_METHODS]
    for method in methods:
        n = args.test if args.costly is None or method not in COSTLY else args.costly
        start = time.perf_counter()
        if method in CAM_METHODS:
            maps = cam(model, te.images[:n], target=labels[:n], method=method)
        else:
            maps = heatmap(attribute(model, te.images[:n], target=labels[:n], method=method))
        rate = hits(maps, boxes[:n]).mean()
        results.append((method, n, rate, time.perf_counter() - start))
        shown[method] = maps[:6]
        print(f"{method:<22} pointing game {rate:.3f} on {n}  ({results[-1][3]:.0f} s)", flush=True)
    print("\n| method | canvases | hits in the digit box | time (s) |\n|---|---|---|---|")
    for method, n, rate, seconds in results:
        print(f"| {method} | {n} | {rate:.1%} | {seconds:.0f} |")
    if args.grid:
        names = [f"digit {d}" for d in labels[:6]]
        plot_cam_grid(
            te.images[:6],
            shown,
            class_names=names,
            probabilities=probs[np.arange(6), labels[:6]],
            path=args.grid,
            dpi=60,
            tile=1.5,
        )
        print(f"wrote {args.grid}")


if __name__ == "__main__":
    main()
