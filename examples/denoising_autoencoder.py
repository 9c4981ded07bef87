"""A denoising convolutional autoencoder on real MNIST, trained with plain ``fit``.

The clean digits are corrupted with Gaussian noise (std 0.5, clipped to [0, 1],
drawn once with the seed); the model learns ``noisy -> clean`` with binary
crossentropy on the pixel intensities (as the keras.io example does). It pads
28x28 to 32x32 so two stride-2 steps divide evenly, ``Cropping2D`` trims the
decoder's 32x32 back to 28x28, and the sigmoid comes last, so the engine trains
from the logits. The score is the test set's PSNR (peak 1.0) of the noisy inputs
and of the reconstructions.

Why not a mean squared error: through a final sigmoid its gradient carries a
factor ``σ'(z) <= 1/4`` and the model sits for hundreds of steps on the blank
"predict the mean" plateau (measured: +0.8 dB after 188 steps on 12,000 digits,
against +5.6 dB with crossentropy; the same seed, architecture and data).

    python examples/denoising_autoencoder.py --epochs 3 --out denoise.png
"""

from __future__ import annotations

import sys

import numpy as np
from _mnist import load_mnist, parser, save_grid

from cnnkit import layers
from cnnkit.models import Sequential
from cnnkit.utils import set_random_seed

NOISE_STD = 0.5


def build_autoencoder() -> Sequential:
    """Encoder 28 ->32 (pad) ->16 ->8 (16, 32 maps), decoder 8 ->16 ->32 ->28 (crop), sigmoid."""
    return Sequential(
        [
            layers.Input(shape=(28, 28, 1)),
            layers.ZeroPadding2D(2),
            layers.Conv2D(16, 3, strides=2, padding="same", activation="relu"),
            layers.Conv2D(32, 3, strides=2, padding="same", activation="relu"),
            layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu"),
            layers.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu"),
            layers.Conv2D(1, 3, padding="same"),
            layers.Cropping2D(2),
            layers.Activation("sigmoid"),  # last, so the loss gets the logits
        ],
        name="denoising_autoencoder",
    )


def add_noise(x: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noisy = x + NOISE_STD * rng.standard_normal(x.shape).astype(np.float32)
    return np.clip(noisy, 0.0, 1.0).astype(np.float32)


def psnr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Mean over images of ``10·log10(1 / MSE)`` in dB (pixels in [0, 1])."""
    mse = ((reference - estimate) ** 2).reshape(len(reference), -1).mean(axis=1)
    return float(np.mean(10 * np.log10(1.0 / np.maximum(mse, 1e-12))))


def main(argv: list[str] | None = None) -> dict[str, float]:
    args = parser(__doc__.splitlines()[0], epochs=3, out="denoising_autoencoder.png").parse_args(
        argv
    )
    set_random_seed(args.seed)
    x_train, _, x_test, _ = load_mnist(args.limit, args.test_all)
    noisy_train = add_noise(x_train, args.seed)
    noisy_test = add_noise(x_test, args.seed + 1)
    model = build_autoencoder()
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(noisy_train, x_train, batch_size=args.batch_size, epochs=args.epochs,
              verbose=args.verbose)  # fmt: skip
    denoised = model.predict(noisy_test, batch_size=256, verbose=0)
    scores = {"psnr_noisy_db": psnr(x_test, noisy_test), "psnr_denoised_db": psnr(x_test, denoised)}
    scores["gain_db"] = scores["psnr_denoised_db"] - scores["psnr_noisy_db"]
    rows = np.concatenate([x_test[:10], noisy_test[:10], denoised[:10]])
    save_grid(rows, args.out, columns=10,
              title=f"clean / noisy ({scores['psnr_noisy_db']:.1f} dB) / "
                    f"denoised ({scores['psnr_denoised_db']:.1f} dB)")  # fmt: skip
    print({k: round(v, 2) for k, v in scores.items()})
    return scores


if __name__ == "__main__":
    main(sys.argv[1:])
