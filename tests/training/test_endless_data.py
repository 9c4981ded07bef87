"""fit/evaluate/predict on endless data with Keras' step counts (Keras 2's stream rules)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cnnkit.callbacks import Callback
from cnnkit.preprocessing.image import ImageDataGenerator
from cnnkit.training import Trainer
from cnnkit.training.losses import SparseCategoricalCrossentropy
from cnnkit.training.optimizers import SGD
from cnnkit.utils import set_random_seed
from tests.training._models import TinyNHWC, blobs


def _trainer() -> Trainer:
    return Trainer(
        TinyNHWC(),
        loss=SparseCategoricalCrossentropy(from_logits=True),
        optimizer=SGD(0.1, momentum=0.9),
        metrics=["accuracy"],
    )


class _Recording:
    """A Keras-Sequence-like object that records which batches were read."""

    def __init__(self, x, y, batch_size):
        self.x, self.y, self.bs = x, y, batch_size
        self.read: list[int] = []
        self.passes_ended = 0

    def __len__(self):
        return -(-len(self.x) // self.bs)

    def __getitem__(self, i):
        self.read.append(i)
        return self.x[i * self.bs : (i + 1) * self.bs], self.y[i * self.bs : (i + 1) * self.bs]

    def on_epoch_end(self):
        self.passes_ended += 1


def _endless(x, y, batch_size, drawn):
    """A Python ``while True`` generator, counting the batches it yields in ``drawn``."""
    rng = np.random.default_rng(0)
    while True:
        idx = rng.integers(0, len(x), batch_size)
        drawn.append(1)
        yield x[idx], y[idx]


@pytest.mark.parametrize(
    ("steps", "expected_reads", "passes"),
    [
        (5, [0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 3),  # more steps than batches: the stream wraps
        (2, [0, 1, 2, 0], 1),  # fewer: the next epoch continues where the last stopped
        (3, [0, 1, 2, 0, 1, 2], 2),  # exactly len: one pass per epoch
    ],
)
def test_sequence_is_a_stream_when_steps_per_epoch_is_given(steps, expected_reads, passes):
    x, y = blobs(48)
    seq = _Recording(x, y, 16)
    batches = []

    class Count(Callback):
        def on_train_batch_end(self, batch, logs=None):
            batches.append(batch)

    _trainer().fit(
        seq, steps_per_epoch=steps, epochs=2, shuffle=False, verbose=0, callbacks=[Count()]
    )
    assert batches == list(range(steps)) * 2
    assert seq.read == expected_reads
    assert seq.passes_ended == passes


def test_endless_generators_train_and_validate_with_validation_steps():
    set_random_seed(0)
    x, y = blobs(192)
    train_drawn: list[int] = []
    val_drawn: list[int] = []
    trainer = _trainer()
    history = trainer.fit(
        _endless(x, y, 32, train_drawn),
        steps_per_epoch=6,
        epochs=3,
        validation_data=_endless(x, y, 32, val_drawn),
        validation_steps=2,
        verbose=0,
    )
    assert len(train_drawn) == 18 and len(val_drawn) == 6  # nothing read past the steps
    assert len(history.history["val_loss"]) == 3
    assert history.history["val_accuracy"][-1] > 0.8  # 3 classes: chance is 0.33
    _, acc = trainer.evaluate(_endless(x, y, 32, []), steps=2, verbose=0)
    assert acc > 0.8
    assert trainer.predict(_endless(x, y, 32, []), steps=3, verbose=0).shape == (96, 3)


def test_image_data_generator_flows_with_steps(tmp_path):
    x, y = blobs(64)
    for i, (img, label) in enumerate(zip(x[:24], y[:24], strict=True)):
        folder = tmp_path / f"class_{label}"
        folder.mkdir(exist_ok=True)
        Image.fromarray(img[..., 0]).save(folder / f"{i}.png")
    datagen = ImageDataGenerator(horizontal_flip=True)
    directory = datagen.flow_from_directory(
        str(tmp_path), target_size=(8, 8), color_mode="grayscale", batch_size=8,
        class_mode="sparse",
    )  # fmt: skip
    assert len(directory) == 3
    trainer = _trainer()
    history = trainer.fit(
        datagen.flow(x, y, batch_size=16),
        steps_per_epoch=len(x) / 16 + 2,  # 6 steps over a 4-batch flow, a float as in Keras 2
        validation_data=directory,
        validation_steps=5,  # more than the 3 batches the directory has: it wraps
        epochs=2,
        verbose=0,
    )
    assert len(history.history["val_loss"]) == 2
    assert np.isfinite(history.history["val_loss"]).all()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        ("fit", r"fit\(\): `x` is a generator.*`steps_per_epoch` must say.*steps_per_epoch=None"),
        (
            "validation",
            r"fit\(\): `validation_data` is a generator.*`validation_steps` must say how many "
            r"batches make one validation pass.*validation_steps=None",
        ),
        ("evaluate", r"evaluate\(\): `x` is a generator.*`steps` must say.*steps=None"),
        ("predict", r"predict\(\): `x` is a generator.*`steps` must say.*steps=None"),
    ],
)
def test_endless_generator_without_steps_is_a_clear_error(call, match):
    x, y = blobs(32)
    trainer = _trainer()
    gen = _endless(x, y, 8, [])
    with pytest.raises(ValueError, match=match):
        if call == "fit":
            trainer.fit(gen, verbose=0)
        elif call == "validation":
            trainer.fit(x, y, validation_data=gen, verbose=0)
        elif call == "evaluate":
            trainer.evaluate(gen, verbose=0)
        else:
            trainer.predict(gen, verbose=0)


def test_float64_arrays_become_float32_once_in_chunks(monkeypatch):
    from cnnkit.training import _data

    monkeypatch.setattr(_data, "_CHUNK_BYTES", 3 * 8 * 8 * 8)  # 3 rows a chunk: seams tested
    x = np.random.default_rng(0).random((10, 8, 8, 1))[:, ::-1]  # strided, as x / 255.0 may be
    t = _data.as_tensor(x, _data.torch.device("cpu"))
    assert t.dtype == _data.torch.float32 and t.shape == (10, 8, 8, 1)
    np.testing.assert_array_equal(t.numpy(), x.astype(np.float32))
