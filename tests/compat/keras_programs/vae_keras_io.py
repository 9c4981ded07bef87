"""keras.io example "Variational AutoEncoder" (fchollet, 2020; Keras 3 version), torch backend.

The example's ``train_step`` uses ``tf.GradientTape``; here it is written in the
torch-backend idiom of the guide "Customizing what happens in fit() with
PyTorch" (``self.zero_grad()``, ``loss.backward()``, ``optimizer.apply``), and
``keras.ops`` calls are their torch twins (``torch.exp``, ``torch.sum``), which
Keras 3 accepts on that backend. Sizes are cut for a test (one epoch on the
stand-in digits); every other line is the example's, run with the import lines
rewritten. One addition: ``Sampling.compute_output_shape`` (a Keras method; see
there).
"""

import os

os.environ["KERAS_BACKEND"] = "torch"

import keras
import numpy as np
import torch
from keras import layers


class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = z_mean.shape[0]
        dim = z_mean.shape[1]
        epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
        return z_mean + torch.exp(0.5 * z_log_var) * epsilon

    # Not in the example: Keras 3 infers this by tracing call(); cnnkit's Layer
    # keeps the input shape by default, which for a list input means a list out.
    def compute_output_shape(self, input_shape):
        return input_shape[0]


latent_dim = 2

encoder_inputs = keras.Input(shape=(28, 28, 1))
x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
x = layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
x = layers.Flatten()(x)
x = layers.Dense(16, activation="relu")(x)
z_mean = layers.Dense(latent_dim, name="z_mean")(x)
z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
z = Sampling()([z_mean, z_log_var])
encoder = keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")
encoder.summary()

latent_inputs = keras.Input(shape=(latent_dim,))
x = layers.Dense(7 * 7 * 64, activation="relu")(latent_inputs)
x = layers.Reshape((7, 7, 64))(x)
x = layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(x)
x = layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(x)
decoder_outputs = layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x)
decoder = keras.Model(latent_inputs, decoder_outputs, name="decoder")
decoder.summary()


class VAE(keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [
            self.total_loss_tracker,
            self.reconstruction_loss_tracker,
            self.kl_loss_tracker,
        ]

    def train_step(self, data):
        self.zero_grad()
        z_mean, z_log_var, z = self.encoder(data)
        reconstruction = self.decoder(z)
        reconstruction_loss = torch.mean(
            torch.sum(
                keras.losses.binary_crossentropy(data, reconstruction),
                axis=(1, 2),
            )
        )
        kl_loss = -0.5 * (1 + z_log_var - torch.square(z_mean) - torch.exp(z_log_var))
        kl_loss = torch.mean(torch.sum(kl_loss, axis=1))
        total_loss = reconstruction_loss + kl_loss
        total_loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        grads = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(grads, trainable_weights)
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {
            "loss": self.total_loss_tracker.result(),
            "reconstruction_loss": self.reconstruction_loss_tracker.result(),
            "kl_loss": self.kl_loss_tracker.result(),
        }


(x_train, _), (x_test, _) = keras.datasets.mnist.load_data()
mnist_digits = np.concatenate([x_train, x_test], axis=0)
mnist_digits = np.expand_dims(mnist_digits, -1).astype("float32") / 255

vae = VAE(encoder, decoder)
vae.compile(optimizer=keras.optimizers.Adam())
history = vae.fit(mnist_digits, epochs=1, batch_size=128)

# The example's plot_latent_space decodes a grid of latent points.
grid = np.array([[xi, yi] for yi in np.linspace(1, -1, 3) for xi in np.linspace(-1, 1, 3)])
x_decoded = vae.decoder.predict(grid, verbose=0)
z_mean_test, _, _ = vae.encoder.predict(mnist_digits[:32], verbose=0)
