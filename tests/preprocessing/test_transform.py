"""The batch warp against Keras' own per-image SciPy warp, plus flips and fills."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from cnnkit.preprocessing._transform import (
    Augment,
    TransformParams,
    _sampling_grid,
    augment_batch,
    params_to_theta,
    warp,
)


def keras_affine(x, theta=0.0, tx=0.0, ty=0.0, shear=0.0, zx=1.0, zy=1.0, fill_mode="nearest"):
    """Keras' ``apply_affine_transform`` (rows, cols, channels last), written with SciPy."""
    theta, shear = np.deg2rad(theta), np.deg2rad(shear)
    m = np.array([[np.cos(theta), -np.sin(theta), 0], [np.sin(theta), np.cos(theta), 0], [0, 0, 1]])
    m = m @ np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
    m = m @ np.array([[1, -np.sin(shear), 0], [0, np.cos(shear), 0], [0, 0, 1]])
    m = m @ np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]])
    o_r, o_c = x.shape[0] / 2 - 0.5, x.shape[1] / 2 - 0.5
    m = (
        np.array([[1, 0, o_r], [0, 1, o_c], [0, 0, 1]])
        @ m
        @ np.array([[1, 0, -o_r], [0, 1, -o_c], [0, 0, 1]])
    )
    return np.stack(
        [
            ndimage.affine_transform(x[..., k], m[:2, :2], m[:2, 2], order=1, mode=fill_mode)
            for k in range(x.shape[2])
        ],
        -1,
    )


def _params(n=1, **kw):
    def arr(name, default):
        return np.full(n, float(kw.get(name, default)))

    return TransformParams(
        theta=np.deg2rad(arr("theta", 0)),
        tx=arr("tx", 0),
        ty=arr("ty", 0),
        shear=np.deg2rad(arr("shear", 0)),
        zx=arr("zx", 1),
        zy=arr("zy", 1),
        flip_h=np.full(n, kw.get("flip_h", False)),
        flip_v=np.full(n, kw.get("flip_v", False)),
    )


CASES = [
    {"theta": 30},
    {"tx": 3},
    {"ty": -4.5},
    {"shear": 20},
    {"zx": 0.7, "zy": 1.3},
    {"theta": -15, "tx": 2, "ty": 1, "shear": 10, "zx": 0.8, "zy": 1.1},
]


@pytest.mark.parametrize("kw", CASES)
@pytest.mark.parametrize("fill_mode", ["nearest", "reflect"])
def test_matches_keras_scipy_warp(kw, fill_mode):
    x = np.random.default_rng(0).uniform(0, 255, (13, 17, 3))
    ours = warp(
        torch.from_numpy(x[None]),
        params_to_theta(_params(**kw), 13, 17),
        Augment(fill_mode=fill_mode),
    )[0].numpy()
    np.testing.assert_allclose(ours, keras_affine(x, **kw, fill_mode=fill_mode), atol=1e-6)


def test_flips_fold_into_the_warp():
    x = torch.rand(1, 6, 9, 2, dtype=torch.float64)
    for flip_h, flip_v, dims in [(True, False, [2]), (False, True, [1]), (True, True, [1, 2])]:
        theta = params_to_theta(_params(flip_h=flip_h, flip_v=flip_v), 6, 9)
        out = warp(x, theta, Augment())
        torch.testing.assert_close(out, x.flip(dims))


def test_constant_fill_uses_cval_and_wrap_rolls():
    x = torch.rand(1, 8, 8, 1, dtype=torch.float64)
    theta = params_to_theta(_params(tx=3), 8, 8)
    const = warp(x, theta, Augment(fill_mode="constant", cval=7.0))
    assert torch.allclose(const[0, -3:], torch.full((3, 8, 1), 7.0, dtype=torch.float64))
    torch.testing.assert_close(const[0, :5], x[0, 3:])
    wrapped = warp(x, theta, Augment(fill_mode="wrap"))
    torch.testing.assert_close(wrapped[0, :5], x[0, 3:])
    torch.testing.assert_close(wrapped[0, 5:], x[0, :3])


def test_every_image_gets_its_own_parameters():
    x = torch.rand(1, 16, 16, 3).expand(8, 16, 16, 3).contiguous() * 255
    out = augment_batch(
        x, Augment(rotation_range=40, zoom_range=(0.8, 1.2)), np.random.default_rng(1)
    )
    assert out.shape == x.shape
    flat = out.reshape(8, -1)
    assert all(not torch.equal(flat[i], flat[j]) for i in range(8) for j in range(i))


def test_no_transform_is_identity_and_flips_alone_are_exact():
    x = torch.rand(6, 5, 7, 3) * 255
    torch.testing.assert_close(augment_batch(x, Augment(), np.random.default_rng(0)), x)
    out = augment_batch(x, Augment(horizontal_flip=True), np.random.default_rng(0))
    flipped = [torch.equal(out[i], x[i].flip(1)) for i in range(6)]
    kept = [torch.equal(out[i], x[i]) for i in range(6)]
    assert all(f or k for f, k in zip(flipped, kept, strict=True)) and any(flipped) and any(kept)


def test_brightness_and_channel_shift_ranges():
    x = torch.full((32, 4, 4, 3), 100.0)
    bright = augment_batch(x, Augment(brightness_range=(0.5, 1.5)), np.random.default_rng(0))
    factors = bright[:, 0, 0, 0] / 100
    assert factors.min() >= 0.5 and factors.max() <= 1.5 and factors.std() > 0.1
    x = torch.rand(32, 4, 4, 3) * 255
    shifted = augment_batch(x, Augment(channel_shift_range=30), np.random.default_rng(0))
    assert (shifted.amin(dim=(1, 2, 3)) >= x.amin(dim=(1, 2, 3)) - 1e-4).all()
    assert (shifted.amax(dim=(1, 2, 3)) <= x.amax(dim=(1, 2, 3)) + 1e-4).all()


def test_sampling_grid_equals_affine_grid_and_rescale_matches_the_unscaled_warp():
    rng = np.random.default_rng(3)
    theta = torch.from_numpy(rng.uniform(-1.2, 1.2, (5, 2, 3)).astype(np.float32))
    expected = torch.nn.functional.affine_grid(theta, [5, 3, 17, 23], align_corners=False)
    grid = _sampling_grid(theta, 17, 23)
    assert grid.shape == expected.shape
    torch.testing.assert_close(grid, expected, atol=1e-6, rtol=0)
    x = torch.from_numpy(rng.integers(0, 256, (5, 17, 23, 3), dtype=np.uint8))
    for fill in ("nearest", "constant", "reflect", "wrap"):
        aug = Augment(fill_mode=fill, cval=100.0)
        plain = warp(x, theta.double().numpy(), aug)
        scaled = warp(x, theta.double().numpy(), aug, scale=1 / 255)
        assert scaled.is_contiguous() and scaled.shape == (5, 17, 23, 3)
        torch.testing.assert_close(scaled, plain / 255, atol=1e-6, rtol=1e-6)
