"""ImageDataGenerator.flow: the Keras Sequence contract, splits and normalisation."""

from __future__ import annotations

import numpy as np
import pytest

from cnnkit.preprocessing.image import ImageDataGenerator


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (50, 8, 8, 1), dtype=np.uint8)
    y = np.arange(50) % 5
    return x, y


def test_sequence_contract(data):
    x, y = data
    it = ImageDataGenerator(rescale=1 / 255).flow(x, y, batch_size=16, shuffle=False)
    assert len(it) == 4
    xb, yb = it[3]
    assert xb.shape == (2, 8, 8, 1) and xb.dtype == np.float32 and isinstance(xb, np.ndarray)
    np.testing.assert_allclose(xb, x[48:] / 255, rtol=1e-6)
    assert yb.tolist() == y[48:].tolist()
    with pytest.raises(IndexError, match=r"Asked for batch 4, but this sequence has 4 batches"):
        it[4]


def test_next_loops_forever_and_reshuffles(data):
    x, y = data
    it = ImageDataGenerator().flow(x, y, batch_size=25, seed=3)
    seen = [next(it)[1].tolist() for _ in range(6)]  # three epochs of two batches
    epochs = [sorted(seen[i] + seen[i + 1]) for i in (0, 2, 4)]
    assert all(e == sorted(y.tolist()) for e in epochs)
    assert seen[0] != seen[2]


def test_getitem_is_reproducible_and_epochs_differ(data):
    x, y = data
    gen = ImageDataGenerator(rotation_range=30, horizontal_flip=True)
    it = gen.flow(x, y, batch_size=10, seed=9)
    a, b = it[2], it[2]
    np.testing.assert_array_equal(a[0], b[0])
    it.on_epoch_end()
    assert not np.array_equal(it[2][0], a[0])
    again = gen.flow(x, y, batch_size=10, seed=9)[2]
    np.testing.assert_array_equal(again[0], a[0])


def test_sample_weight_and_no_labels(data):
    x, y = data
    w = np.linspace(0, 1, 50)
    xb, yb, wb = ImageDataGenerator().flow(x, y, sample_weight=w, shuffle=False, batch_size=5)[1]
    assert xb.shape == (5, 8, 8, 1) and yb.tolist() == y[5:10].tolist()
    np.testing.assert_array_equal(wb, w[5:10])
    only = ImageDataGenerator().flow(x, batch_size=5, shuffle=False)[0]
    assert isinstance(only, np.ndarray) and only.shape == (5, 8, 8, 1)


def test_keras_validation_split_takes_the_first_fraction(data):
    x, y = data
    gen = ImageDataGenerator(validation_split=0.2)
    val = gen.flow(x, y, batch_size=100, shuffle=False, subset="validation")
    train = gen.flow(x, y, batch_size=100, shuffle=False, subset="training")
    assert val[0][1].tolist() == y[:10].tolist() and train[0][1].tolist() == y[10:].tolist()


def test_split_with_missing_classes_is_refused():
    x = np.zeros((10, 4, 4, 1), np.uint8)
    y = np.array([0] * 5 + [1] * 5)  # sorted by label: validation would only see class 0
    gen = ImageDataGenerator(validation_split=0.3)
    with pytest.raises(ValueError, match=r"different classes after the split.*shuffle them"):
        gen.flow(x, y, subset="training")
    assert len(gen.flow(x, y, subset="training", ignore_class_split=True)) == 1


def test_standardization_order_and_statistics(data):
    x, _ = data
    gen = ImageDataGenerator(
        preprocessing_function=lambda b: b + 1.0,
        rescale=0.5,
        featurewise_center=True,
        featurewise_std_normalization=True,
    )
    gen.fit(x)
    np.testing.assert_allclose(gen.mean, [x.mean() * 0.5], rtol=1e-5)
    xb = gen.flow(x, batch_size=50, shuffle=False)[0]
    expected = ((x + 1.0) * 0.5 - gen.mean) / (gen.std + 1e-6)
    np.testing.assert_allclose(xb, expected, rtol=1e-4, atol=1e-4)
    sample = ImageDataGenerator(samplewise_center=True, samplewise_std_normalization=True)
    out = sample.flow(x, batch_size=50, shuffle=False)[0]
    np.testing.assert_allclose(out.mean(axis=(1, 2, 3)), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=(1, 2, 3), ddof=1), 1, atol=1e-3)


def test_featurewise_without_fit():
    gen = ImageDataGenerator(featurewise_center=True)
    with pytest.raises(ValueError, match=r"call .fit\(x_train\) first"):
        gen.flow(np.zeros((2, 4, 4, 1)))[0]


def test_random_transform_single_image():
    img = np.random.default_rng(1).uniform(0, 255, (10, 10, 3))
    out = ImageDataGenerator(rotation_range=45).random_transform(img, seed=0)
    assert out.shape == (10, 10, 3) and not np.allclose(out, img)


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"fill_mode": "mirror"}, ValueError, r"Unknown fill_mode 'mirror'.*'constant'"),
        ({"zoom_range": [0.5]}, ValueError, r"`zoom_range` must be a number or a pair"),
        ({"rotation_range": -5}, ValueError, r"`rotation_range` must be a number >= 0"),
        ({"zca_whitening": True}, ValueError, r"`zca_whitening` is not supported"),
        ({"data_format": "channels_first"}, ValueError, r"only data_format='channels_last'"),
        ({"validation_split": 1.0}, ValueError, r"`validation_split` must be in \[0, 1\)"),
        ({"width_shift_range": ["a"]}, TypeError, r"`width_shift_range` must hold numbers"),
        ({"interpolation_order": 3}, ValueError, r"must be 0 \(nearest\) or 1 \(bilinear\)"),
        ({"preprocessing_function": 3}, TypeError, r"`preprocessing_function` must be callable"),
    ],
)
def test_bad_generator_arguments(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        ImageDataGenerator(**kwargs)


@pytest.mark.parametrize(
    ("args", "kwargs", "pattern"),
    [
        ((np.zeros((4, 4, 1)),), {}, r"`x` must be a batch of images \(rank 4\)"),
        ((np.zeros((4, 4, 4, 1)), np.zeros(3)), {}, r"`x` and `y` must have the same length"),
        ((np.zeros((4, 4, 4, 1)),), {"subset": "training"}, r"`subset` needs the generator"),
    ],
)
def test_bad_flow_arguments(args, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        ImageDataGenerator().flow(*args, **kwargs)
