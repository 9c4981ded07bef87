"""Keras 2's ``fit_generator``/``evaluate_generator``/``predict_generator`` positional order."""

from __future__ import annotations

import numpy as np
import pytest

from cnnkit.layers import Dense, Flatten, Input
from cnnkit.models import Sequential

RNG = np.random.default_rng(0)
X = RNG.random((64, 4, 4, 1)).astype("float32")
Y = (X.mean(axis=(1, 2, 3)) > 0.5).astype("int64")


def _model():
    model = Sequential([Input((4, 4, 1)), Flatten(), Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _endless(drawn):
    while True:
        drawn.append(1)
        yield X[:16], Y[:16]


def test_keras2_positional_order_on_endless_generators():
    model, drawn = _model(), []
    # Keras 2: fit_generator(generator, steps_per_epoch, epochs, verbose, callbacks,
    # validation_data, validation_steps)
    history = model.fit_generator(_endless(drawn), 3, 2, 0, None, _endless(drawn), 2)
    assert history.epoch == [0, 1]
    assert len(drawn) == 2 * 3 + 2 * 2
    assert len(history.history["val_loss"]) == 2
    drawn.clear()
    assert len(model.evaluate_generator(_endless(drawn), 4, verbose=0)) == 2
    assert len(drawn) == 4
    assert model.predict_generator(_endless([]), 3, verbose=0).shape == (48, 2)
    assert model.fit_generator(generator=_endless([]), steps_per_epoch=1, verbose=0).epoch == [0]


def test_arrays_keep_fits_order_and_bad_calls_are_clear():
    model = _model()
    assert model.fit_generator(X, Y, 16, 1, verbose=0).epoch == [0]
    with pytest.raises(TypeError, match=r"got `steps_per_epoch` both by position and by keyword"):
        model.fit_generator(_endless([]), 2, steps_per_epoch=2, verbose=0)
    with pytest.raises(ValueError, match=r"only `validation_freq=1`.*validation_freq=2"):
        model.fit_generator(_endless([]), steps_per_epoch=2, validation_freq=2, verbose=0)
    with pytest.raises(TypeError, match=r"takes at most 7 positional arguments"):
        model.evaluate_generator(*([_endless([])] + [None] * 7))
