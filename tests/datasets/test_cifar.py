"""CIFAR tarball parsing and lookup, on small generated tarballs."""

from __future__ import annotations

import numpy as np
import pytest

from cnnkit.datasets import cifar10, cifar100
from cnnkit.utils import DownloadError, sha256_of
from tests.datasets._fakes import Hostile, cifar_batch, write_tarball
from tests.utils._http import closed_port_url


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """Empty cache, a CNNKIT_DATA folder, and no reachable download URL."""
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("CNNKIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CNNKIT_DATA", str(data))
    monkeypatch.setattr(cifar10, "URLS", (closed_port_url(cifar10.FILENAME),))
    monkeypatch.setattr(cifar100, "URLS", (closed_port_url(cifar100.FILENAME),))
    return data


def _fake_cifar10(folder, monkeypatch, n=3):
    rng = np.random.default_rng(1)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    batches = {name: cifar_batch(rng, n, ("labels",)) for name in names}
    members = {f"cifar-10-batches-py/{k}": v for k, v in batches.items()}
    members["cifar-10-batches-py/batches.meta"] = {b"label_names": [b"airplane"]}
    path = write_tarball(folder / cifar10.FILENAME, members)
    monkeypatch.setattr(cifar10, "SHA256", sha256_of(path))
    return batches


def test_cifar10_tarball_parses_to_keras_shapes(isolated, monkeypatch):
    sub = isolated / "cifar-10"
    sub.mkdir()
    batches = _fake_cifar10(sub, monkeypatch)
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (15, 32, 32, 3) and x_test.shape == (3, 32, 32, 3)
    assert y_train.shape == (15, 1) and y_test.shape == (3, 1)
    assert x_train.dtype == y_train.dtype == np.uint8
    # image 1 of data_batch_2 is training image 3 + 1; its rows are planar R, G, B
    row = batches["data_batch_2"][b"data"][1]
    assert x_train[4, 0, 0].tolist() == [row[0], row[1024], row[2048]]
    assert x_train[4, 31, 30].tolist() == [row[1022], row[2046], row[3070]]
    np.testing.assert_array_equal(x_train[4], row.reshape(3, 32, 32).transpose(1, 2, 0))
    assert y_train[3:6, 0].tolist() == batches["data_batch_2"][b"labels"]
    assert y_test[:, 0].tolist() == batches["test_batch"][b"labels"]


def test_cifar10_found_in_cache(isolated, tmp_path, monkeypatch):
    cache = tmp_path / "home" / "datasets" / "cifar10"
    cache.mkdir(parents=True)
    _fake_cifar10(cache, monkeypatch, n=2)
    (x_train, _), _ = cifar10.load_data()
    assert x_train.shape == (10, 32, 32, 3)


def test_cifar100_fine_and_coarse(isolated, monkeypatch):
    rng = np.random.default_rng(2)
    keys = ("fine_labels", "coarse_labels")
    train, test = cifar_batch(rng, 4, keys), cifar_batch(rng, 2, keys)
    path = write_tarball(
        isolated / cifar100.FILENAME,
        {"cifar-100-python/train": train, "cifar-100-python/test": test},
    )
    monkeypatch.setattr(cifar100, "SHA256", sha256_of(path))
    (x_train, y_fine), (x_test, _) = cifar100.load_data()
    assert x_train.shape == (4, 32, 32, 3) and x_test.shape == (2, 32, 32, 3)
    assert y_fine[:, 0].tolist() == train[b"fine_labels"]
    (_, y_coarse), _ = cifar100.load_data(label_mode="coarse")
    assert y_coarse[:, 0].tolist() == train[b"coarse_labels"]


def test_cifar100_unknown_label_mode(isolated):
    with pytest.raises(ValueError, match=r"Unknown label_mode 'fin'.*Did you mean 'fine'"):
        cifar100.load_data(label_mode="fin")


def test_hostile_member_in_tarball_is_refused(isolated, monkeypatch, tmp_path):
    marker = tmp_path / "pwned"
    members = {f"cifar-10-batches-py/data_batch_{i}": Hostile(marker) for i in range(1, 6)}
    members["cifar-10-batches-py/test_batch"] = Hostile(marker)
    path = write_tarball(isolated / cifar10.FILENAME, members)
    monkeypatch.setattr(cifar10, "SHA256", sha256_of(path))
    with pytest.raises(ValueError, match=r"Refusing to unpickle data_batch_1 in cifar-10-python"):
        cifar10.load_data()
    assert not marker.exists()


def test_tarball_missing_members(isolated, monkeypatch):
    path = write_tarball(isolated / cifar10.FILENAME, {"other/file": b"x"}, raw=True)
    monkeypatch.setattr(cifar10, "SHA256", sha256_of(path))
    with pytest.raises(ValueError, match=r"not a CIFAR python tarball: it lacks .*data_batch_1"):
        cifar10.load_data()


def test_batch_with_wrong_shape(isolated, monkeypatch):
    bad = {b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    path = write_tarball(
        isolated / cifar10.FILENAME, {f"cifar-10-batches-py/{n}": bad for n in names}
    )
    monkeypatch.setattr(cifar10, "SHA256", sha256_of(path))
    with pytest.raises(
        ValueError, match=r"expected data of shape \(n, 3072\).*data_shape=\(2, 100\)"
    ):
        cifar10.load_data()


def test_wrong_local_tarball_named(isolated):
    (isolated / cifar10.FILENAME).write_bytes(b"not the dataset")
    with pytest.raises(ValueError, match=r"cifar-10-python.tar.gz is not the expected"):
        cifar10.load_data()


def test_missing_tarball_offline_points_to_subset(isolated):
    with pytest.raises(DownloadError, match=r"Could not download .*subset=True"):
        cifar10.load_data()


def test_subset_flag_must_be_bool(isolated):
    with pytest.raises(TypeError, match=r"`subset` must be a bool. Received: subset='yes'"):
        cifar10.load_data(subset="yes")
