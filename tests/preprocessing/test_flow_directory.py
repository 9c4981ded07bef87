"""ImageDataGenerator.flow_from_directory on generated folders."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cnnkit.preprocessing.image import ImageDataGenerator
from tests.data._images import class_tree, truncated_jpeg


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return class_tree(tmp_path_factory.mktemp("tree"), {"cat": 4, "dog": 6})


def test_attributes_and_categorical_batches(tree):
    it = ImageDataGenerator(rescale=1 / 255).flow_from_directory(
        tree, target_size=(10, 12), batch_size=4, shuffle=False, num_workers=0
    )
    assert it.class_indices == {"cat": 0, "dog": 1} and it.num_classes == 2
    assert it.samples == 10 and len(it) == 3 and it.image_shape == (10, 12, 3)
    assert it.filenames[:2] == ["cat/000.png", "cat/001.png"]
    assert it.classes.tolist() == [0] * 4 + [1] * 6
    xb, yb = it[1]
    assert xb.shape == (4, 10, 12, 3) and xb.dtype == np.float32
    assert yb.tolist() == [[0, 1]] * 4
    np.testing.assert_allclose(xb[0, 0, 0], np.array([10, 0, 200]) / 255, rtol=1e-6)


@pytest.mark.parametrize(
    ("class_mode", "check"),
    [
        ("binary", lambda b: b[1].dtype == np.float32 and b[1].tolist() == [0, 0, 0, 0, 1]),
        ("sparse", lambda b: b[1].tolist() == [0, 0, 0, 0, 1]),
        ("input", lambda b: np.array_equal(b[0], b[1])),
        (None, lambda b: isinstance(b, np.ndarray) and b.shape[0] == 5),
    ],
)
def test_class_modes(tree, class_mode, check):
    it = ImageDataGenerator().flow_from_directory(
        tree,
        target_size=(4, 4),
        class_mode=class_mode,
        batch_size=5,
        shuffle=False,
        num_workers=0,
    )
    assert check(it[0])


def test_keras_per_class_validation_split(tree):
    gen = ImageDataGenerator(validation_split=0.5)
    kw = {"target_size": (4, 4), "num_workers": 0}
    val = gen.flow_from_directory(tree, subset="validation", **kw)
    train = gen.flow_from_directory(tree, subset="training", **kw)
    assert val.filenames == [
        "cat/000.png",
        "cat/001.png",
        "dog/000.png",
        "dog/001.png",
        "dog/002.png",
    ]
    assert train.samples == 5 and set(train.filenames).isdisjoint(val.filenames)


def test_workers_prefetch_and_skip_bad_files_with_one_warning(tmp_path):
    root = class_tree(tmp_path, {"a": 6, "b": 6})
    truncated_jpeg(root / "a" / "zz_cut.jpg")
    (root / "b" / "zz_text.jpg").write_text("no pixels here")
    it = ImageDataGenerator(horizontal_flip=True).flow_from_directory(
        root, target_size=(8, 8), batch_size=5, seed=2, num_workers=2
    )
    assert len(it) == 3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):  # two epochs through next()
            total = sum(next(it)[0].shape[0] for _ in range(len(it)))
            assert total == 12
    messages = [str(w.message) for w in caught if "Skipped" in str(w.message)]
    it.on_epoch_end()
    in_order = [it[i][0] for i in range(len(it))]
    shuffled = [it[i][0] for i in (2, 0, 1)]  # fit may permute a Sequence's batches
    for i, batch in zip((2, 0, 1), shuffled, strict=True):
        np.testing.assert_array_equal(batch, in_order[i])
    assert len(messages) == 1 and "Skipped 2 image file(s)" in messages[0]
    assert "zz_cut.jpg" in messages[0] and "zz_text.jpg" in messages[0]
    it.close()


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"class_mode": "onehot"}, r"Unknown class_mode 'onehot'"),
        ({"color_mode": "grey"}, r"Unknown color_mode 'grey'.*'grayscale'"),
        ({"interpolation": "area"}, r"Unknown interpolation 'area'.*'box'"),
        ({"save_to_dir": "/tmp/x"}, r"`save_to_dir` is not supported"),
        ({"subset": "validation"}, r"`subset` needs the generator's `validation_split`"),
        ({"target_size": (0, 3)}, r"`image_size` must be \(height, width\)"),
        ({"classes": ["cat", "cow"]}, r"Cannot read the folder .*cow"),
    ],
)
def test_bad_arguments(tree, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        ImageDataGenerator().flow_from_directory(tree, num_workers=0, **kwargs)


def test_empty_directory(tmp_path):
    (tmp_path / "a").mkdir()
    with pytest.raises(ValueError, match=r"no images found in"):
        ImageDataGenerator().flow_from_directory(tmp_path, num_workers=0)
