"""Normalization.adapt, SpatialDropout2D, RandomContrast, RandomCrop, Lambda, and their errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnkit.layers import (
    Conv2DTranspose,
    Dense,
    Input,
    Lambda,
    LayerNormalization,
    Multiply,
    Normalization,
    PReLU,
    RandomContrast,
    RandomCrop,
    Resizing,
    Softmax,
    SpatialDropout2D,
    UpSampling2D,
)
from cnnkit.models import Sequential

RNG = np.random.default_rng(1)


def test_normalization_adapt_matches_numpy_and_batches_merge_exactly():
    data = (RNG.random((50, 4, 4, 3)) * [1, 10, 100] + [0, 5, -3]).astype(np.float32)
    norm = Normalization()
    norm.adapt(data)
    np.testing.assert_allclose(norm.mean.numpy(), data.mean(axis=(0, 1, 2)), rtol=1e-5)
    np.testing.assert_allclose(norm.variance.numpy(), data.var(axis=(0, 1, 2)), rtol=1e-4)
    assert norm.count.item() == 50 * 16
    out = norm(torch.from_numpy(data)).numpy()
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=(0, 1, 2)), 1, atol=1e-4)
    batched = Normalization()
    batched.adapt([(data[:7], None), data[7:30], data[30:]])  # (x, y) pairs work too
    torch.testing.assert_close(batched.mean, norm.mean)
    torch.testing.assert_close(batched.variance, norm.variance, rtol=1e-5, atol=1e-5)


def test_normalization_given_statistics_scalar_axis_and_invert():
    x = torch.tensor([[1.0, 2.0], [3.0, 6.0]])
    norm = Normalization(mean=[1.0, 2.0], variance=[4.0, 16.0])
    torch.testing.assert_close(norm(x), torch.tensor([[0.0, 0.0], [1.0, 1.0]]))
    inv = Normalization(mean=[1.0, 2.0], variance=[4.0, 16.0], invert=True)
    torch.testing.assert_close(inv(norm(x)), x)
    scalar = Normalization(axis=None)
    scalar.adapt(x)
    assert scalar.mean.shape == () and scalar.mean.item() == pytest.approx(3.0)
    zero_var = Normalization(mean=0.0, variance=0.0)
    assert torch.isfinite(zero_var(x)).all()  # the std is floored at 1e-7


def test_normalization_errors():
    with pytest.raises(ValueError, match=r"no statistics yet.*adapt\(data\)"):
        Normalization()(torch.ones(2, 3))
    with pytest.raises(ValueError, match="pass both `mean` and `variance`"):
        Normalization(mean=1.0)
    with pytest.raises(ValueError, match=r"do not fit the kept axes.*broadcastable to \(3,\)"):
        Normalization(mean=[1.0, 2.0], variance=[1.0, 1.0], input_shape=(3,))
    with pytest.raises(TypeError, match="adapt\\(\\) expects an array"):
        Normalization().adapt(3)
    with pytest.raises(ValueError, match="adapt\\(\\) got no data"):
        Normalization().adapt([])
    with pytest.raises(ValueError, match="`axis` is out of range"):
        Normalization(axis=3, input_shape=(4,))


def test_spatial_dropout_drops_whole_channels():
    layer = SpatialDropout2D(0.5)
    x = torch.ones(8, 5, 5, 16)
    y = layer(x, training=True)
    per_map = y.permute(0, 3, 1, 2).reshape(8 * 16, 25)
    assert ((per_map == 0).all(1) | (per_map == 2).all(1)).all()  # all dropped or all × 2
    assert 0 < (per_map == 0).all(1).sum() < 8 * 16
    torch.testing.assert_close(layer(x, training=False), x)
    first = SpatialDropout2D(0.5, data_format="channels_first")(
        x.permute(0, 3, 1, 2), training=True
    )
    maps = first.reshape(8 * 16, 25)
    assert ((maps == 0).all(1) | (maps == 2).all(1)).all()


def test_random_contrast_keeps_channel_means_and_is_seeded():
    x = torch.from_numpy(RNG.random((6, 8, 8, 3)).astype(np.float32)) * 100 + 50
    layer = RandomContrast(0.4, seed=3)
    y = layer(x, training=True)
    torch.testing.assert_close(y.mean(dim=(1, 2)), x.mean(dim=(1, 2)), rtol=1e-4, atol=1e-3)
    ratio = (y - y.mean(dim=(1, 2), keepdim=True)) / (x - x.mean(dim=(1, 2), keepdim=True))
    factors = ratio.reshape(6, -1).median(dim=1).values
    assert ((factors >= 0.6 - 1e-4) & (factors <= 1.4 + 1e-4)).all() and factors.std() > 0
    torch.testing.assert_close(RandomContrast(0.4, seed=3)(x, training=True), y)
    torch.testing.assert_close(layer(x, training=False), x)
    clipped = RandomContrast((0, 1), value_range=(0, 1))(torch.rand(4, 5, 5, 1) * 3, training=True)
    assert clipped.max() <= 1 and clipped.min() >= 0
    with pytest.raises(ValueError, match=r"`factor` must be a number or a \(lower, upper\) pair"):
        RandomContrast(1.5)
    with pytest.raises(ValueError, match="`value_range` must be a"):
        RandomContrast(0.2, value_range=(1, 0))


def test_random_crop_takes_windows_in_training_and_the_centre_in_inference():
    # Each pixel encodes its own position, so a crop reveals where it came from.
    h, w = 9, 11
    grid = torch.arange(h * w, dtype=torch.float32).view(1, h, w, 1).repeat(16, 1, 1, 1)
    layer = RandomCrop(4, 5, seed=0)
    y = layer(grid, training=True)
    assert y.shape == (16, 4, 5, 1)
    tops, lefts = y[:, 0, 0, 0] // w, y[:, 0, 0, 0] % w
    for crop, top, left in zip(y, tops.long(), lefts.long(), strict=True):
        torch.testing.assert_close(crop, grid[0, top : top + 4, left : left + 5])
    assert len(set(tops.tolist())) > 1 and len(set(lefts.tolist())) > 1
    assert tops.max() <= h - 4 and lefts.max() <= w - 5
    centre = layer(grid, training=False)
    torch.testing.assert_close(centre[0], grid[0, 2:6, 3:8])
    small = layer(torch.ones(2, 3, 3, 1), training=True)  # smaller input: resized up first
    assert small.shape == (2, 4, 5, 1)


def test_lambda_runs_in_a_model_and_refuses_to_be_saved(tmp_path):
    model = Sequential([Input(shape=(4,)), Lambda(lambda t, k: t * k, arguments={"k": 3.0}),
                        Dense(2)])  # fmt: skip
    assert model.layers[0].output_shape == (None, 4)
    x = torch.ones(2, 4)
    torch.testing.assert_close(model.layers[0](x), 3 * x)
    assert model.summary(show=False).total_params == 10
    with pytest.raises(ValueError, match=r"Lambda 'lambda' cannot be serialised.*never pickles"):
        model.save(tmp_path / "m.cnnkit")
    assert not (tmp_path / "m.cnnkit").exists()
    shaped = Lambda(lambda t: t.sum(dim=-1, keepdim=True), output_shape=(1,))
    assert shaped.compute_output_shape((None, 7)) == (None, 1)
    with pytest.raises(ValueError, match="cannot infer the output shape"):
        Lambda(lambda t: t).compute_output_shape((None, None, 3))
    with pytest.raises(TypeError, match="`function` must be callable"):
        Lambda(3)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Conv2DTranspose(2, 3, padding=1), "'valid' or 'same'"),
        (lambda: Conv2DTranspose(2, 3, strides=2, output_padding=2), "smaller than the stride"),
        (lambda: Conv2DTranspose(2, 3, groups=2), "grouped transposed"),
        (lambda: Conv2DTranspose(2, 3, output_padding=-1), "`output_padding` must be None"),
        (lambda: UpSampling2D(interpolation="cubic"), "Did you mean 'bicubic'"),
        (lambda: Resizing(0, 4), "height"),
        (lambda: PReLU(shared_axes=[0]), "count the batch axis as 0"),
        (lambda: PReLU(shared_axes="x"), "`shared_axes` must be an integer"),
        (lambda: Softmax(axis=1.5), "`axis` must be an integer or a non-empty list"),
        (lambda: LayerNormalization(epsilon=0), "`epsilon` must be > 0"),
        (lambda: LayerNormalization(axis="c"), "`axis` must be an integer"),
    ],
)
def test_constructor_errors(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_build_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"PReLU 'p'.*known size.*shared_axes=\[1, 2\]"):
        PReLU(name="p")(Input(shape=(None, None, 3)))
    with pytest.raises(ValueError, match="LayerNormalization 'ln': `axis` is out of range"):
        LayerNormalization(axis=4, name="ln")(Input(shape=(3, 3)))
    with pytest.raises(ValueError, match=r"Multiply 'm': input 1 has shape \(None, 3\)"):
        Multiply(name="m")([Input(shape=(2,)), Input(shape=(3,))])
    with pytest.raises(ValueError, match="expected rank 4"):
        UpSampling2D()(Input(shape=(4, 4)))


def test_scalar_weights_keep_their_shape_in_get_and_set_weights():
    norm = Normalization()
    norm.adapt(np.arange(12, dtype=np.float32).reshape(4, 3))
    weights = norm.get_weights()
    assert [w.shape for w in weights] == [(3,), (3,), ()]  # mean, variance, count (Keras 2)
    model = Sequential([Input(shape=(3,)), Normalization()])
    model.set_weights(weights)
    assert model.layers[0].count.item() == 4
    torch.testing.assert_close(model(torch.ones(1, 3)), norm(torch.ones(1, 3)))
    weights[0][0] = 99.0  # a copy: changing it does not touch the layer
    assert norm.mean[0].item() == pytest.approx(4.5)
