"""The loaders go straight into ``model.fit``, as Keras course code uses them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cnnkit.layers import Conv2D, Dense, Flatten, Input, Rescaling
from cnnkit.models import Sequential
from cnnkit.preprocessing.image import ImageDataGenerator
from cnnkit.utils import image_dataset_from_directory, set_random_seed
from tests.data._images import class_tree


def _model(classes: int, activation: str, rescale: bool) -> Sequential:
    layers = [Input((8, 8, 3))] + ([Rescaling(1 / 255)] if rescale else [])
    layers += [Conv2D(2, 3, activation="relu"), Flatten(), Dense(classes, activation=activation)]
    return Sequential(layers)


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return class_tree(tmp_path_factory.mktemp("fit"), {"a": 6, "b": 6}, size=(8, 8))


def test_fit_on_directory_dataset_with_validation(tree):
    set_random_seed(0)
    train, val = image_dataset_from_directory(
        tree, image_size=(8, 8), batch_size=4, seed=3, validation_split=0.25, subset="both"
    )
    model = _model(2, "softmax", rescale=True)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train, validation_data=val, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert all(math.isfinite(v) for v in history.history["val_loss"])


def test_fit_on_image_data_generators(tree):
    set_random_seed(0)
    gen = ImageDataGenerator(rescale=1 / 255, horizontal_flip=True, rotation_range=10)
    it = gen.flow_from_directory(tree, target_size=(8, 8), batch_size=4, class_mode="binary")
    model = _model(1, "sigmoid", rescale=False)
    model.compile("adam", "binary_crossentropy")
    assert len(model.fit(it, epochs=1, verbose=0).history["loss"]) == 1
    it.close()
    x = np.random.default_rng(0).integers(0, 256, (20, 8, 8, 3), dtype=np.uint8)
    y = np.arange(20) % 3
    model = _model(3, "softmax", rescale=False)
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(gen.flow(x, y, batch_size=8), epochs=2, verbose=0)
    assert all(math.isfinite(v) for v in history.history["loss"])
