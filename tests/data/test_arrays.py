"""ArrayBatches: index-gather batching, per-batch normalisation, deterministic orders."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnkit.data import ArrayBatches, epoch_permutation
from cnnkit.utils import set_random_seed


def _data(n=10):
    x = np.arange(n * 4, dtype=np.uint8).reshape(n, 2, 2, 1)
    y = np.arange(n, dtype=np.uint8)
    return x, y


def test_unshuffled_batches_cover_data_in_order():
    x, y = _data(10)
    batches = list(ArrayBatches(x, y, batch_size=4, shuffle=False))
    assert [b[0].shape[0] for b in batches] == [4, 4, 2]
    assert torch.cat([b[1] for b in batches]).tolist() == list(range(10))
    assert batches[0][0].dtype == torch.float32 and batches[1][1].dtype == torch.int64
    np.testing.assert_array_equal(batches[2][0].numpy(), x[8:].astype(np.float32))


def test_uint8_stays_uint8_until_the_batch_and_scale_applies():
    x, y = _data(6)
    data = ArrayBatches(x, y, batch_size=3, shuffle=False, scale=1 / 255)
    assert data.x.dtype == torch.uint8 and data.x.data_ptr() == torch.from_numpy(x).data_ptr()
    xb, _ = next(iter(data))
    torch.testing.assert_close(xb, torch.from_numpy(x[:3]).float() / 255)


def test_shuffled_epochs_differ_but_repeat_for_the_same_seed():
    x, y = _data(50)
    a = ArrayBatches(x, y, batch_size=50, seed=3)
    b = ArrayBatches(x, y, batch_size=50, seed=3)
    a1, a2 = next(iter(a))[1], next(iter(a))[1]
    b1, b2 = next(iter(b))[1], next(iter(b))[1]
    assert a1.tolist() == b1.tolist() and a2.tolist() == b2.tolist()
    assert a1.tolist() != a2.tolist()
    assert sorted(a1.tolist()) == list(range(50))
    assert a.order(1).tolist() == a2.tolist()  # any epoch's order can be recomputed


def test_unseeded_order_follows_set_random_seed():
    x, y = _data(30)
    set_random_seed(5)
    first = next(iter(ArrayBatches(x, y, batch_size=30)))[1]
    set_random_seed(5)
    again = next(iter(ArrayBatches(x, y, batch_size=30)))[1]
    assert first.tolist() == again.tolist()


def test_no_labels_yields_x_only_and_float_labels_kept():
    x, _ = _data(4)
    xb = next(iter(ArrayBatches(x, batch_size=4, shuffle=False)))
    assert isinstance(xb, torch.Tensor) and xb.shape == (4, 2, 2, 1)
    onehot = np.eye(4, dtype=np.float64)
    _, yb = next(iter(ArrayBatches(x, onehot, batch_size=4, shuffle=False)))
    assert yb.dtype == torch.float32


def test_epoch_permutation_is_a_permutation():
    p = epoch_permutation(1000, seed=1, epoch=0)
    assert sorted(p.tolist()) == list(range(1000))
    assert not torch.equal(p, epoch_permutation(1000, seed=1, epoch=1))
    assert torch.equal(p, epoch_permutation(1000, seed=1, epoch=0))


def test_length_mismatch():
    x, y = _data(5)
    with pytest.raises(ValueError, match=r"same number of samples.*len\(x\)=5, len\(y\)=\(4,\)"):
        ArrayBatches(x, y[:4])


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"batch_size": 0}, ValueError, r"`batch_size` must be positive.*batch_size=0"),
        ({"batch_size": 2.5}, TypeError, r"`batch_size` must be an integer.*batch_size=2.5"),
    ],
)
def test_bad_batch_size(kwargs, error, pattern):
    x, y = _data(5)
    with pytest.raises(error, match=pattern):
        ArrayBatches(x, y, **kwargs)


def test_non_numeric_x():
    with pytest.raises(TypeError, match=r"`x` must be a numeric array.*x.dtype='<U1'"):
        ArrayBatches(np.array(["a", "b"]))
