"""Batch-wise augmentation layers: exact geometry, training-only, one warp per batch."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnkit.layers import RandomFlip, RandomRotation, RandomTranslation, RandomZoom


def _images(n: int = 4, size: int = 5) -> torch.Tensor:
    return torch.arange(n * size * size * 2, dtype=torch.float32).reshape(n, size, size, 2)


def test_inference_is_identity_and_training_flag_overrides():
    x = _images()
    for layer in (
        RandomFlip(),
        RandomRotation(0.2),
        RandomZoom(0.3),
        RandomTranslation(0.2, 0.2),
    ):
        layer.eval()
        assert layer(x) is x
        layer.train()
        assert layer(x, training=False) is x


def test_flip_chooses_per_image_between_original_and_flip():
    torch.manual_seed(0)
    x = _images(64)
    y = RandomFlip("horizontal").train()(x)
    flipped = (y == x.flip(2)).flatten(1).all(1)
    same = (y == x).flatten(1).all(1)
    assert bool((flipped | same).all()) and 10 < int(flipped.sum()) < 54
    both = RandomFlip(seed=1).train()(x)
    candidates = [x, x.flip(1), x.flip(2), x.flip(1).flip(2)]
    assert all(any(torch.equal(b, c[i]) for c in candidates) for i, b in enumerate(both))


def test_rotation_quarter_turn_is_counter_clockwise_rot90():
    x = _images(2, 5)
    layer = RandomRotation((0.25, 0.25), interpolation="nearest", fill_mode="constant").train()
    expected = torch.rot90(x, 1, dims=(1, 2))  # numpy/torch rot90: counter-clockwise
    torch.testing.assert_close(layer(x), expected)


def test_translation_shifts_down_right_with_constant_fill():
    x = torch.ones(1, 4, 4, 1)
    layer = RandomTranslation((0.25, 0.25), (0.5, 0.5), fill_mode="constant", fill_value=-1)
    y = layer.train()(x)[0, ..., 0]
    assert (y[1:, 2:] == 1).all()
    assert (y[0] == -1).all() and (y[:, :2] == -1).all()


def test_zoom_out_by_one_matches_half_size_average_in_the_middle():
    x = torch.randn(1, 8, 8, 3)
    y = RandomZoom((1.0, 1.0), fill_mode="constant").train()(x)
    # Zoom factor 2 shows the whole image in the central 4×4, each pixel a 2×2 average.
    ref = F.avg_pool2d(x.permute(0, 3, 1, 2), 2).permute(0, 2, 3, 1)
    torch.testing.assert_close(y[:, 2:6, 2:6], ref, rtol=1e-5, atol=1e-5)
    assert (y[:, :2] == 0).all()


def test_one_warp_per_batch_not_per_image(monkeypatch):
    calls = []
    real = F.grid_sample
    monkeypatch.setattr(F, "grid_sample", lambda *a, **k: calls.append(1) or real(*a, **k))
    RandomRotation(0.1).train()(torch.randn(32, 6, 6, 3))
    assert len(calls) == 1


def test_seed_makes_augmentation_reproducible_and_configs_round_trip():
    x = torch.randn(8, 6, 6, 1)
    a = RandomRotation(0.3, seed=5).train()(x)
    b = RandomRotation(0.3, seed=5).train()(x)
    torch.testing.assert_close(a, b)
    for layer in (
        RandomFlip("vertical", seed=2),
        RandomZoom(0.1, (-0.2, 0.3)),
        RandomTranslation(0.1, 0.2),
    ):
        config = json.loads(json.dumps(layer.get_config()))
        assert type(layer).from_config(config).get_config() == config


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: RandomFlip("diagonal"), r"Unknown RandomFlip mode 'diagonal'"),
        (lambda: RandomRotation(0.1, fill_mode="wrap"), r"Unknown RandomRotation fill_mode 'wrap'"),
        (lambda: RandomZoom(-1.5), r"RandomZoom: zoom factors must be > -1"),
        (lambda: RandomTranslation(1.5, 0), r"`height_factor` must satisfy lower <= upper"),
        (lambda: RandomRotation("a lot"), r"`factor` must be a number or a \(lower, upper\) pair"),
    ],
)
def test_bad_augmentation_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_augmentation_keeps_statistics_of_real_pixels():
    x = torch.rand(16, 12, 12, 3)
    y = RandomTranslation(0.1, 0.1).train()(x)
    assert y.shape == x.shape and torch.isfinite(y).all()
    assert abs(float(y.mean()) - float(x.mean())) < 0.05
    assert np.isclose(float(RandomFlip().train()(x).sum()), float(x.sum()), rtol=1e-5)


def test_warped_output_is_contiguous_channels_last():
    y = RandomRotation(0.1).train()(torch.randn(4, 8, 8, 3))
    assert y.is_contiguous()
