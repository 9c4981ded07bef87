"""The loaders on the real files in the shared data folder (skipped where absent)."""

from __future__ import annotations

import numpy as np
import pytest

from cnnkit.datasets import cifar10, fashion_mnist, mnist

pytestmark = pytest.mark.slow


@pytest.fixture
def real(shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNKIT_DATA", str(shared_data))
    monkeypatch.setenv("CNNKIT_HOME", str(tmp_path / "empty-cache"))
    return shared_data


def test_mnist_matches_readme_counts(real):
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == y_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [
        5923,
        6742,
        5958,
        6131,
        5842,
        5421,
        5918,
        6265,
        5851,
        5949,
    ]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert x_train.max() == 255 and x_train[:, 0, 0].max() == 0  # corners are background


def test_fashion_mnist_balanced(real):
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10


def test_cifar10_subset_on_request(real):
    (x_train, y_train), (x_test, y_test) = cifar10.load_data(subset=True)
    assert x_train.shape == (5085, 32, 32, 3) and x_test.shape == (1017, 32, 32, 3)
    assert y_train.shape == (5085, 1) and y_test.shape == (1017, 1)
    # README: the first image's first red values are 59, 43, 50; the first labels are
    # frog, truck, truck, deer and the first test image is a cat.
    assert x_train[0, 0, :3, 0].tolist() == [59, 43, 50]
    names = [cifar10.CLASS_NAMES[i] for i in y_train[:4, 0]]
    assert names == ["frog", "truck", "truck", "deer"]
    assert cifar10.CLASS_NAMES[y_test[0, 0]] == "cat"


def test_official_cifar_meta_pickle_passes_the_restricted_unpickler(real):
    from cnnkit.datasets._safe_pickle import restricted_loads

    path = real / "cifar-10-subset" / "batches.meta"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    meta = restricted_loads(path.read_bytes(), "batches.meta")  # a Python 2 pickle
    assert meta[b"label_names"] == [n.encode() for n in cifar10.CLASS_NAMES]
    assert meta[b"num_cases_per_batch"] == 10000 and meta[b"num_vis"] == 3072
