"""Custom layers whose ``call`` omits ``training``/``mask`` work everywhere (Keras' rule)."""

from __future__ import annotations

import numpy as np
import pytest

from cnnkit.layers import Dense, Flatten, Input, Layer
from cnnkit.models import Model, Sequential

X = np.random.default_rng(0).random((32, 6, 6, 1)).astype("float32")
Y = (X.mean(axis=(1, 2, 3)) > 0.5).astype("int64")


class Doubles(Layer):
    """Course style: ``call(self, inputs)`` with no flags at all."""

    def call(self, inputs):
        return inputs * 2.0


class MaskOnly(Layer):
    def call(self, inputs, mask=None):
        return inputs + 1.0


class SeesTraining(Layer):
    """Records the ``training`` flag it was given."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen: list[object] = []

    def call(self, inputs, training=None):
        self.seen.append(training)
        return inputs


class TakesKwargs(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen: list[dict] = []

    def call(self, inputs, **kwargs):
        self.seen.append(kwargs)
        return inputs


def _sequential(layer):
    return Sequential([Input((6, 6, 1)), layer, Flatten(), Dense(2, activation="softmax")])


def _functional(layer):
    inputs = Input((6, 6, 1))
    outputs = Dense(2, activation="softmax")(Flatten()(layer(inputs)))
    return Model(inputs, outputs)


class _Subclassed(Model):
    """A subclassed model whose own ``call`` takes no ``training`` either."""

    def __init__(self, layer):
        super().__init__()
        self.custom, self.flatten, self.head = layer, Flatten(), Dense(2, activation="softmax")

    def call(self, inputs):
        return self.head(self.flatten(self.custom(inputs)))


def _subclassed(layer):
    model = _Subclassed(layer)
    model.build((None, 6, 6, 1))
    return model


BUILDERS = {"sequential": _sequential, "functional": _functional, "subclassed": _subclassed}


@pytest.mark.parametrize("kind", list(BUILDERS))
@pytest.mark.parametrize("layer_class", [Doubles, MaskOnly])
def test_call_without_training_works_in_fit_evaluate_predict_summary(kind, layer_class):
    model = BUILDERS[kind](layer_class())
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(X, Y, batch_size=16, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    loss, _ = model.evaluate(X, Y, verbose=0)
    assert np.isfinite(loss)
    assert model.predict(X, verbose=0).shape == (32, 2)
    summary = model.summary(print_fn=lambda *_: None)
    assert summary.total_params == 6 * 6 * 2 + 2


@pytest.mark.parametrize("kind", list(BUILDERS))
def test_layers_that_take_training_get_keras_flag(kind):
    # Keras passes training=True in fit and False in predict, also through a model whose
    # own call takes no flag; a course layer's `if training:` branch depends on it.
    sees, kwargs = SeesTraining(), TakesKwargs()
    model = BUILDERS[kind](Sequential([sees, kwargs]))
    model.compile("adam", "sparse_categorical_crossentropy")
    sees.seen.clear()
    kwargs.seen.clear()
    model.fit(X, Y, batch_size=16, epochs=1, verbose=0)
    assert sees.seen == [True, True]
    assert kwargs.seen == [{"training": True}] * 2
    sees.seen.clear()
    model.predict(X, batch_size=32, verbose=0)
    assert sees.seen == [False]
