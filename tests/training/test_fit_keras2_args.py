"""Keras 2 ``fit`` arguments: float step counts and the generator-queue keywords."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from cnnkit.callbacks import LambdaCallback
from cnnkit.layers import Dense, Input
from cnnkit.models import Sequential
from cnnkit.training import _checks

X = np.random.default_rng(0).random((40, 4), dtype=np.float32)
Y = np.arange(40) % 3


def _model():
    torch.manual_seed(0)
    model = Sequential([Input((4,)), Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def _batches():
    while True:  # an endless Keras 2 style generator
        for i in range(0, 40, 8):
            yield X[i : i + 8], Y[i : i + 8]


def test_float_steps_are_rounded_up():
    seen = []
    counter = LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch))
    _model().fit(
        _batches(),
        steps_per_epoch=len(X) / 16,  # 2.5 -> 3
        validation_data=_batches(),
        validation_steps=len(X) / 32,  # 1.25 -> 2, no error
        epochs=1,
        verbose=0,
        callbacks=[counter],
    )
    assert seen == [0, 1, 2]


def test_bad_step_counts_still_raise():
    with pytest.raises(ValueError, match=r"`steps_per_epoch` must be an integer >= 1.*=-0.5"):
        _model().fit(X, Y, steps_per_epoch=-0.5, verbose=0)
    with pytest.raises(ValueError, match=r"`validation_steps` must be an integer >= 1.*='2'"):
        _model().fit(X, Y, validation_steps="2", verbose=0)


def test_generator_queue_arguments_warn_once_and_are_ignored(monkeypatch):
    monkeypatch.setattr(_checks, "_warned_loader_args", False)
    model = _model()
    with pytest.warns(
        UserWarning, match=r"workers=4, use_multiprocessing=True ignored.*own worker"
    ):
        model.fit_generator(
            _batches(), steps_per_epoch=5, epochs=1, verbose=0, workers=4,
            use_multiprocessing=True,
        )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second warning would raise here
        history = model.fit(X, Y, epochs=1, verbose=0, max_queue_size=20)
    assert len(history.epoch) == 1
