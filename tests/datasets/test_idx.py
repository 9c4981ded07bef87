"""The idx parser of MNIST-format files, on generated files."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from cnnkit.datasets._idx import read_idx_gz
from tests.datasets._fakes import write_idx_gz


def test_round_trip_images_and_labels(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (7, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 7, dtype=np.uint8)
    got = read_idx_gz(write_idx_gz(tmp_path / "x.gz", images), 3)
    np.testing.assert_array_equal(got, images)
    assert got.dtype == np.uint8 and got.flags.writeable
    np.testing.assert_array_equal(read_idx_gz(write_idx_gz(tmp_path / "y.gz", labels), 1), labels)


def test_wrong_dimension_count(tmp_path):
    path = write_idx_gz(tmp_path / "y.gz", np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match=r"not a valid idx file: expected type 0x08 .* 3 dims"):
        read_idx_gz(path, 3)


def test_bad_magic(tmp_path):
    path = tmp_path / "bad.gz"
    path.write_bytes(gzip.compress(b"\x01\x02\x08\x01" + bytes(8)))
    with pytest.raises(ValueError, match=r"bad magic number"):
        read_idx_gz(path, 1)


@pytest.mark.parametrize(
    ("declared", "actual", "pattern"),
    [
        (10, 4, r"payload has 4 bytes, the header says 10"),
        (2, 3, r"payload is longer than the header says"),
    ],
)
def test_payload_size_must_match_header(tmp_path, declared, actual, pattern):
    path = tmp_path / "labels.gz"
    header = bytes([0, 0, 8, 1]) + np.asarray([declared], ">u4").tobytes()
    path.write_bytes(gzip.compress(header + bytes(actual)))
    with pytest.raises(ValueError, match=pattern):
        read_idx_gz(path, 1)
