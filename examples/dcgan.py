"""A DCGAN on real MNIST: a ``Model`` subclass whose ``train_step`` trains two sub-models.

The Keras 3 torch idiom with two optimizers (Radford et al. 2016's Adam, 2e-4,
beta_1 0.5): the discriminator learns real vs generated digits, then the
generator learns to make the discriminator say "real". Both optimizers, both
loss trackers and the latent ``SeedGenerator`` live on the model, so
``BackupAndRestore`` saves all of them. Writes a 10x10 grid of generated digits.

    python examples/dcgan.py --epochs 5 --out dcgan_samples.png
"""

from __future__ import annotations

import sys

import numpy as np
import torch
from _mnist import load_mnist, parser, save_grid

import cnnkit
from cnnkit import layers, losses, metrics, optimizers
from cnnkit.models import Model, Sequential
from cnnkit.utils import set_random_seed

LATENT_DIM = 64


#: Generator filters: the 7x7 seed, then each Conv2DTranspose (stride 2).
GENERATOR_FILTERS = (96, 48, 24)
#: Discriminator filters per strided convolution. The generator learns only what the
#: discriminator can tell apart: with 16 -> 32 filters (and a 64 -> 32 -> 16 generator)
#: 30 epochs scored 0.880 LeNet-5 confidence; 64 -> 128 and the wider generator 0.900-0.903
#: (docs/benchmarks.md, sixth stop).
DISCRIMINATOR_FILTERS = (64, 128)


def build_generator() -> Sequential:
    """Latent ``(64,)`` -> 7x7x96 -> 14x14x48 -> 28x28x24 -> a ``(28, 28, 1)`` image in [0, 1]."""
    seed, middle, last = GENERATOR_FILTERS
    return Sequential(
        [
            layers.Input(shape=(LATENT_DIM,)),
            layers.Dense(7 * 7 * seed),
            layers.BatchNormalization(),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Reshape((7, 7, seed)),
            layers.Conv2DTranspose(middle, 4, strides=2, padding="same"),
            layers.BatchNormalization(),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(last, 4, strides=2, padding="same"),
            layers.BatchNormalization(),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(1, 5, padding="same", activation="sigmoid"),
        ],
        name="generator",
    )


def build_discriminator() -> Sequential:
    """A ``(28, 28, 1)`` image -> 14x14x64 -> 7x7x128 -> one logit ("real")."""
    first, second = DISCRIMINATOR_FILTERS
    return Sequential(
        [
            layers.Input(shape=(28, 28, 1)),
            layers.Conv2D(first, 4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(second, 4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Flatten(),
            layers.Dropout(0.3),
            layers.Dense(1),
        ],
        name="discriminator",
    )


class GAN(Model):
    """Generator + discriminator, each with its own optimizer, in one ``fit``."""

    def __init__(self, generator: Sequential, discriminator: Sequential, seed: int = 1337):
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator
        self.d_loss_tracker = metrics.Mean(name="d_loss")
        self.g_loss_tracker = metrics.Mean(name="g_loss")
        self.seed_generator = cnnkit.random.SeedGenerator(seed)

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn

    def train_step(self, data):
        real = data[0] if isinstance(data, tuple) else data
        n = real.shape[0]
        latent = cnnkit.random.normal((n, LATENT_DIM), seed=self.seed_generator)
        fake = self.generator(latent, training=True)
        ones = torch.ones(n, 1, device=real.device)
        zeros = torch.zeros(n, 1, device=real.device)

        # Discriminator: real -> 1 (smoothed to 0.9), generated -> 0.
        self.zero_grad()
        d_loss = self.loss_fn(
            torch.cat([0.9 * ones, zeros]),
            self.discriminator(torch.cat([real, fake.detach()]), training=True),
        )
        d_loss.backward()
        self.d_optimizer.apply(None, self.discriminator.trainable_weights)

        # Generator: make the discriminator answer "real" (its weights stay as they are).
        self.zero_grad()
        g_loss = self.loss_fn(ones, self.discriminator(fake, training=True))
        g_loss.backward()
        self.g_optimizer.apply(None, self.generator.trainable_weights)

        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}

    def call(self, inputs, training=None):
        return self.generator(inputs, training=training)


def build_gan(seed: int = 1337) -> GAN:
    gan = GAN(build_generator(), build_discriminator(), seed=seed)
    gan.compile(
        d_optimizer=optimizers.Adam(learning_rate=2e-4, beta_1=0.5),
        g_optimizer=optimizers.Adam(learning_rate=2e-4, beta_1=0.5),
        loss_fn=losses.BinaryCrossentropy(from_logits=True),
    )
    return gan


@torch.no_grad()
def generate(gan: GAN, n: int, seed: int) -> np.ndarray:
    gan.generator.eval()
    latent = torch.randn(n, LATENT_DIM, generator=torch.Generator().manual_seed(seed))
    return gan.generator(latent).numpy()


def main(argv: list[str] | None = None, callbacks: list | None = None) -> GAN:
    args = parser(__doc__.splitlines()[0], epochs=5, out="dcgan_samples.png").parse_args(argv)
    set_random_seed(args.seed)
    x_train, _, _, _ = load_mnist(args.limit)
    gan = build_gan(args.seed + 1337)
    gan.fit(x_train, batch_size=args.batch_size, epochs=args.epochs, verbose=args.verbose,
            callbacks=callbacks)  # fmt: skip
    save_grid(generate(gan, 100, args.seed), args.out, columns=10, title="DCGAN samples")
    return gan


if __name__ == "__main__":
    main(sys.argv[1:])
