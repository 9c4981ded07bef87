"""keras.utils.Sequence / PyDataset subclasses feed fit, evaluate and predict."""

from __future__ import annotations

import numpy as np
import pytest

from cnnkit import layers, utils
from cnnkit.models import Sequential
from cnnkit.utils import set_random_seed


class Batches(utils.Sequence):
    """Keras 2 style: no super().__init__(), a redraw in on_epoch_end."""

    def __init__(self, x, y, batch_size):
        self.x, self.y, self.batch_size = x, y, batch_size
        self.passes = 0

    def __len__(self):
        return int(np.ceil(len(self.x) / self.batch_size))

    def __getitem__(self, index):
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[part], self.y[part]

    def on_epoch_end(self):
        self.passes += 1


class Keras3Batches(utils.PyDataset):
    def __init__(self, x, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.batch_size = x, batch_size

    def __len__(self):
        return len(self.x) // self.batch_size

    def __getitem__(self, index):
        return self.x[index * self.batch_size : (index + 1) * self.batch_size]


def test_a_sequence_subclass_trains_and_sees_every_epoch_end():
    set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 4)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5], [0.0]], dtype=np.float32)).astype(np.float32)
    data = Batches(x, y, 16)
    model = Sequential([layers.Input(shape=(4,)), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(data, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3
    assert data.passes == 3
    assert utils.Sequence is utils.PyDataset
    assert data.workers == 1 and data.num_batches == 5
    assert isinstance(model.evaluate(data, verbose=0), float)


def test_pydataset_keeps_keras3_arguments_and_predicts():
    x = np.ones((12, 4), dtype=np.float32)
    data = Keras3Batches(x, 4, workers=2, use_multiprocessing=False, max_queue_size=5)
    assert (data.workers, data.use_multiprocessing, data.max_queue_size) == (2, False, 5)
    model = Sequential([layers.Input(shape=(4,)), layers.Dense(2)])
    assert model.predict(data, verbose=0).shape == (12, 2)


def test_pydataset_refuses_bad_arguments_and_missing_methods():
    with pytest.raises(ValueError, match="workers"):
        Keras3Batches(np.ones((4, 4)), 2, workers=0)
    with pytest.raises(TypeError, match="max_queue_size"):
        Keras3Batches(np.ones((4, 4)), 2, max_queue_size="10")
    with pytest.raises(NotImplementedError, match="__len__"):
        len(utils.PyDataset())
