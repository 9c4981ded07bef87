"""A convolutional variational autoencoder on real (binarized) MNIST, trained with ``fit``.

The ``Sampling`` layer draws ``z = mean + exp(log_var / 2)·ε`` and adds the KL
divergence ``KL(q(z|x) || N(0, I))`` (summed over the latent axes, averaged
over the batch) with ``add_loss``; ``compile`` gets the reconstruction term,
the Bernoulli negative log-likelihood summed over the 784 pixels. Their sum is
the negative ELBO in nats per image, the number the VAE literature reports.

The digits are *stochastically* binarized, the protocol of the published
figures (Burda et al. 2016): each training batch draws every pixel as
Bernoulli(grey level) afresh (a ``keras.utils.PyDataset`` does it, so each
epoch sees new draws), and the test set is one fixed seeded draw.

After training the script reports the test-set negative ELBO and an
importance-sampled estimate of ``-log p(x)`` (``k`` samples from q, Burda et al.
2016), and writes a grid of digits decoded from ``z ~ N(0, I)``.

    python examples/vae.py --epochs 10 --out vae_samples.png
"""

from __future__ import annotations

import math
import sys

import numpy as np
import torch
import torch.nn.functional as F
from _mnist import load_mnist, parser, save_grid

from cnnkit import layers
from cnnkit.models import Model, Sequential
from cnnkit.utils import PyDataset, set_random_seed

LATENT_DIM = 16


class Sampling(layers.Layer):
    """``(z_mean, z_log_var) -> z``, adding the KL term of the batch with ``add_loss``."""

    def call(self, inputs, training=None):
        z_mean, z_log_var = inputs
        kl = -0.5 * (1 + z_log_var - z_mean.square() - z_log_var.exp()).sum(dim=1)
        self.add_loss(kl.mean())
        return z_mean + torch.exp(0.5 * z_log_var) * torch.randn_like(z_mean)

    def compute_output_shape(self, input_shape):
        return input_shape[0]


class StochasticBinarized(PyDataset):
    """Batches of ``(b, b)`` with ``b ~ Bernoulli(x)`` drawn anew at every read.

    Args:
        x: Grey images in [0, 1], ``(n, 28, 28, 1)`` float32.
        batch_size: Images per batch (the last one may be smaller).
        seed: Seeds the draws, so a run is repeatable.
    """

    def __init__(self, x: np.ndarray, batch_size: int, seed: int) -> None:
        super().__init__()
        self.x, self.batch_size = x, batch_size
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        grey = self.x[index * self.batch_size : (index + 1) * self.batch_size]
        binary = (self.rng.random(grey.shape, dtype=np.float32) < grey).astype(np.float32)
        return binary, binary


def build_encoder() -> Model:
    inputs = layers.Input(shape=(28, 28, 1))
    x = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(inputs)
    x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    z_mean = layers.Dense(LATENT_DIM, name="z_mean")(x)
    z_log_var = layers.Dense(LATENT_DIM, name="z_log_var")(x)
    return Model(inputs, [z_mean, z_log_var], name="encoder")


def build_decoder() -> Sequential:
    """Latent -> Bernoulli logits ``(28, 28, 1)`` (no sigmoid: the loss takes logits)."""
    return Sequential(
        [
            layers.Input(shape=(LATENT_DIM,)),
            layers.Dense(7 * 7 * 32, activation="relu"),
            layers.Reshape((7, 7, 32)),
            layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu"),
            layers.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu"),
            layers.Conv2D(1, 3, padding="same"),
        ],
        name="decoder",
    )


def build_vae(encoder: Model, decoder: Sequential) -> Model:
    inputs = layers.Input(shape=(28, 28, 1))
    z_mean, z_log_var = encoder(inputs)
    z = Sampling(name="sampling")([z_mean, z_log_var])
    return Model(inputs, decoder(z), name="vae")


def reconstruction_nll(y_true: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Bernoulli negative log-likelihood per image, summed over pixels (nats)."""
    bce = F.binary_cross_entropy_with_logits(logits, y_true.to(logits.dtype), reduction="none")
    return bce.reshape(len(bce), -1).sum(dim=1)


@torch.no_grad()
def test_bounds(encoder, decoder, x: np.ndarray, k: int, batch: int = 500) -> tuple[float, float]:
    """Mean negative ELBO and importance-sampled ``-log p(x)`` (``k`` samples) in nats."""
    encoder.eval()
    decoder.eval()
    elbos, nlls = [], []
    for start in range(0, len(x), batch):
        xb = torch.from_numpy(x[start : start + batch])
        mean, log_var = encoder(xb)
        std = torch.exp(0.5 * log_var)
        kl = -0.5 * (1 + log_var - mean.square() - log_var.exp()).sum(dim=1)
        recon = reconstruction_nll(xb, decoder(mean + std * torch.randn_like(std)))
        elbos.append((recon + kl).numpy())
        log_w = []
        for _ in range(k):
            eps = torch.randn_like(std)
            z = mean + std * eps
            log_q = (-0.5 * eps.square() - log_var / 2 - 0.5 * math.log(2 * math.pi)).sum(1)
            log_prior = (-0.5 * z.square() - 0.5 * math.log(2 * math.pi)).sum(1)
            log_w.append(-reconstruction_nll(xb, decoder(z)) + log_prior - log_q)
        log_px = torch.logsumexp(torch.stack(log_w), dim=0) - math.log(k)
        nlls.append((-log_px).numpy())
    return float(np.concatenate(elbos).mean()), float(np.concatenate(nlls).mean())


def main(argv: list[str] | None = None) -> dict[str, float]:
    p = parser(__doc__.splitlines()[0], epochs=10, out="vae_samples.png")
    p.add_argument("--importance-samples", type=int, default=100)
    args = p.parse_args(argv)
    set_random_seed(args.seed)
    x_train, _, x_test, _ = load_mnist(args.limit, args.test_all)
    train = StochasticBinarized(x_train, args.batch_size, seed=args.seed)
    test_rng = np.random.default_rng(args.seed + 1)
    x_test = (test_rng.random(x_test.shape, dtype=np.float32) < x_test).astype(np.float32)
    encoder, decoder = build_encoder(), build_decoder()
    vae = build_vae(encoder, decoder)
    vae.compile(optimizer="adam", loss=reconstruction_nll)
    history = vae.fit(train, epochs=args.epochs, shuffle=True, verbose=args.verbose)
    elbo, nll = test_bounds(encoder, decoder, x_test, args.importance_samples)
    with torch.no_grad():
        decoder.eval()
        samples = torch.sigmoid(decoder(torch.randn(100, LATENT_DIM))).numpy()
    title = f"VAE samples, z ~ N(0, I); test -ELBO {elbo:.1f}, NLL ≈ {nll:.1f} nats"
    save_grid(samples, args.out, columns=10, title=title)
    scores = {"train_loss": history.history["loss"][-1], "test_neg_elbo": elbo, "test_nll": nll}
    print({k: round(v, 2) for k, v in scores.items()})
    return scores


if __name__ == "__main__":
    main(sys.argv[1:])
