"""Quality of the three generative examples on real MNIST (issue 13's goals), one run each.

* denoising autoencoder: test PSNR of the reconstructions minus that of the noisy
  inputs (goal >= 6 dB);
* VAE: test negative ELBO and importance-sampled NLL in nats (binarized MNIST);
* DCGAN: 1,000 generated digits classified by a LeNet-5 trained here on MNIST:
  mean max-probability (goal >= 0.9) and the classes present (goal: all 10).

Usage (CNNKIT_DATA must point at the folder holding ``mnist/``)::

    python benchmarks/generative_quality.py {denoise,vae,dcgan} --out-dir /tmp/gen

``--limit N`` trains on the first N training digits (scores stay on all 10,000
test digits), to keep a run short on a shared CPU.

Each part prints one JSON line of results and writes its sample-grid PNG.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
sys.path.insert(0, str(EXAMPLES))


def _example(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: LeNet-5 epochs for the DCGAN's judge (``--classifier-epochs``).
CLASSIFIER_EPOCHS = 6


def _lenet_classifier(epochs: int):
    from _mnist import load_mnist

    from cnnkit.applications import LeNet5

    x_train, y_train, x_test, y_test = load_mnist()
    lenet = LeNet5(variant="relu", input_shape=(28, 28, 1))
    lenet.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    lenet.fit(x_train, y_train, batch_size=128, epochs=epochs, verbose=2)
    return lenet, float(lenet.evaluate(x_test, y_test, verbose=0)[1])


def run(
    part: str,
    out_dir: Path,
    epochs: int | None,
    limit: int | None = None,
    classifier_epochs: int = CLASSIFIER_EPOCHS,
) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    sizes = [] if limit is None else ["--limit", str(limit), "--test-all"]
    if part == "denoise":
        args = [*sizes, "--epochs", str(epochs or 2),
                "--out", str(out_dir / "denoising_autoencoder.png")]  # fmt: skip
        result = _example("denoising_autoencoder").main(args)
    elif part == "vae":
        args = [*sizes, "--epochs", str(epochs or 5), "--out", str(out_dir / "vae_samples.png")]
        result = _example("vae").main(args)
    else:
        dcgan = _example("dcgan")
        gan = dcgan.main(
            [*sizes, "--epochs", str(epochs or 3), "--out", str(out_dir / "dcgan_samples.png")]
        )
        lenet, accuracy = _lenet_classifier(epochs=classifier_epochs)
        probs = lenet.predict(dcgan.generate(gan, 1000, seed=123), verbose=0)
        classes = np.bincount(probs.argmax(1), minlength=10)
        result = {"lenet_test_accuracy": accuracy,
                  "mean_max_probability": float(probs.max(1).mean()),
                  "classes_present": int((classes > 0).sum()),
                  "class_counts": classes.tolist()}  # fmt: skip
    result = {
        "part": part,
        "limit": limit,
        "seconds": round(time.perf_counter() - start, 1),
        **result,
    }
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("part", choices=["denoise", "vae", "dcgan"])
    p.add_argument("--out-dir", type=Path, default=Path("generative_quality"))
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--limit", type=int, default=None, help="train on the first N digits")
    p.add_argument(
        "--classifier-epochs",
        type=int,
        default=CLASSIFIER_EPOCHS,
        help="LeNet-5 epochs (dcgan's judge)",
    )
    a = p.parse_args()
    run(a.part, a.out_dir, a.epochs, a.limit, a.classifier_epochs)
