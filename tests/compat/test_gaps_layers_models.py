"""Keras course snippets that used to fail, run with only their import lines rewritten.

Chollet's feature-map model (``layer.output`` of a Sequential), Keras 3's summary
sizes, re-compiling on load from optimizer/loss objects, ``clone_model`` and
``to_json``, ``metrics_names``, and a convolutional autoencoder with the layers
added for courses (``Conv2DTranspose``, ``UpSampling2D``, ``Normalization``...).
"""

from __future__ import annotations

import contextlib
import io
import textwrap
from typing import Any

import numpy as np

from cnnkit.layers import reset_layer_names
from tests.compat._keras_source import rewrite_imports


def run_keras(source: str, **given: Any) -> tuple[dict[str, Any], str]:
    """Rewrite the imports of ``source``, run it with ``given`` globals; (namespace, stdout)."""
    code = rewrite_imports(textwrap.dedent(source))
    assert "cnnkit" in code and "tensorflow" not in code
    reset_layer_names()
    namespace: dict[str, Any] = {"__name__": "__main__", **given}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<keras program>", "exec"), namespace)
    return namespace, out.getvalue()


CHOLLET_FEATURE_MAPS = """
from keras import layers
from keras import models

model = models.Sequential()
model.add(layers.Conv2D(32, (3, 3), activation='relu', input_shape=(48, 48, 3)))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation='relu'))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(128, (3, 3), activation='relu'))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(128, (3, 3), activation='relu'))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Flatten())
model.add(layers.Dense(512, activation='relu'))
model.add(layers.Dense(1, activation='sigmoid'))

layer_outputs = [layer.output for layer in model.layers[:8]]
activation_model = models.Model(inputs=model.input, outputs=layer_outputs)
activations = activation_model.predict(img_tensor)
first_layer_activation = activations[0]
print(first_layer_activation.shape)
layer_names = []
for layer in model.layers[:8]:
    layer_names.append(layer.name)
"""


def test_chollet_feature_maps_from_a_sequential_model():
    img = np.random.default_rng(0).random((1, 48, 48, 3)).astype(np.float32)
    ns, out = run_keras(CHOLLET_FEATURE_MAPS, img_tensor=img)
    activations, model = ns["activations"], ns["model"]
    assert isinstance(activations, list) and len(activations) == 8
    assert "(1, 46, 46, 32)" in out
    for array, layer in zip(activations, model.layers[:8], strict=True):
        assert array.shape == (1, *layer.output_shape[1:])
    assert ns["layer_names"][:2] == ["conv2d", "max_pooling2d"]
    # The activation model reuses the trained layers: its first map is the first layer's output.
    first = model.layers[0](img).detach().numpy()
    np.testing.assert_allclose(activations[0], first, rtol=1e-5, atol=1e-6)


KERAS3_TRAINING = """
import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(32, 32, 1)),
    layers.Conv2D(6, 5, activation="tanh"),
    layers.AveragePooling2D(),
    layers.Conv2D(16, 5, activation="tanh"),
    layers.AveragePooling2D(),
    layers.Flatten(),
    layers.Dense(120, activation="tanh"),
    layers.Dense(84, activation="tanh"),
    layers.Dense(10, activation="softmax"),
])
model.summary()
model.compile(optimizer=keras.optimizers.Adam(1e-4),
              loss=keras.losses.SparseCategoricalCrossentropy(),
              metrics=["accuracy"])
model.fit(x, y, epochs=1, batch_size=16, verbose=0)
model.save(path)
restored = keras.models.load_model(path)
print(restored.metrics_names)
score = restored.evaluate(x, y, verbose=0)
twin = keras.models.clone_model(model)
twin.set_weights(model.get_weights())
from_json = keras.models.model_from_json(model.to_json())
"""


def test_keras3_summary_compile_objects_clone_and_json(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.random((32, 32, 32, 1)).astype(np.float32)
    y = rng.integers(0, 10, 32)
    ns, out = run_keras(KERAS3_TRAINING, x=x, y=y, path=str(tmp_path / "lenet.keras"))
    assert "Total params: 61,706 (241.04 KB)" in out
    assert "Trainable params: 61,706 (241.04 KB)" in out
    assert "Non-trainable params: 0 (0.00 B)" in out
    assert "Buffers" not in out
    assert "['loss', 'accuracy']" in out
    restored, model = ns["restored"], ns["model"]
    assert restored.optimizer.param_groups[0]["lr"] == 1e-4
    assert len(ns["score"]) == 2
    np.testing.assert_allclose(ns["twin"].predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)  # fmt: skip
    assert ns["from_json"].count_params() == 61_706


AUTOENCODER = """
from tensorflow import keras
from tensorflow.keras import layers

norm = layers.Normalization()
norm.adapt(x_train)
inputs = keras.Input(shape=(16, 16, 1))
x = norm(inputs)
x = layers.Conv2D(8, 3, strides=2, padding="same")(x)
x = layers.PReLU(shared_axes=[1, 2])(x)
x = layers.SpatialDropout2D(0.1)(x)
x = layers.Conv2DTranspose(8, 3, strides=2, padding="same")(x)
x = layers.ELU()(x)
x = layers.LayerNormalization()(x)
x = layers.UpSampling2D()(x)
x = layers.MaxPooling2D()(x)
gate = layers.Conv2D(1, 1, activation="sigmoid")(x)
x = layers.Multiply()([layers.Conv2D(1, 3, padding="same")(x), gate])
autoencoder = keras.Model(inputs, x)
autoencoder.compile(optimizer="adam", loss="mse")
history = autoencoder.fit(x_train, x_train, epochs=1, batch_size=8, verbose=0)
"""


def test_autoencoder_with_the_added_layers_trains():
    x_train = np.random.default_rng(2).random((16, 16, 16, 1)).astype(np.float32)
    ns, _ = run_keras(AUTOENCODER, x_train=x_train)
    assert ns["autoencoder"].output_shape == (None, 16, 16, 1)
    assert np.isfinite(ns["history"].history["loss"][0])
