"""The random transforms are distributed as Keras documents them; the fast path changes nothing.

Keras' ``ImageDataGenerator`` draws, per image: angle ~ U(-rotation_range, rotation_range)
degrees; shifts ~ U(-r, r) times the size for a fraction r < 1; shear ~ U(-s, s) degrees;
each zoom axis independently ~ U(1 - z, 1 + z); each flip with probability 1/2. Checked
with Kolmogorov-Smirnov and binomial tests at fixed seeds (deterministic).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from cnnkit.preprocessing._transform import augment_batch, sample_params
from cnnkit.preprocessing.image import ImageDataGenerator

COURSE = {
    "rotation_range": 40,
    "width_shift_range": 0.2,
    "height_shift_range": 0.2,
    "shear_range": 0.2,
    "zoom_range": 0.2,
    "horizontal_flip": True,
    "fill_mode": "nearest",
}
N, H, W = 20_000, 150, 120


@pytest.fixture(scope="module")
def params():
    aug = ImageDataGenerator(**COURSE).augment
    return sample_params(aug, np.random.default_rng(1234), N, H, W)


@pytest.mark.parametrize(
    ("field", "low", "high", "to_units"),
    [
        ("theta", -40.0, 40.0, np.rad2deg),
        ("shear", -0.2, 0.2, np.rad2deg),
        ("tx", -0.2 * H, 0.2 * H, None),  # row shift: a fraction of the height
        ("ty", -0.2 * W, 0.2 * W, None),  # column shift: a fraction of the width
        ("zx", 0.8, 1.2, None),
        ("zy", 0.8, 1.2, None),
    ],
)
def test_each_parameter_is_uniform_on_keras_range(params, field, low, high, to_units):
    values = getattr(params, field)
    values = to_units(values) if to_units else values
    assert low <= values.min() and values.max() <= high
    result = stats.kstest(values, stats.uniform(loc=low, scale=high - low).cdf)
    assert result.pvalue > 0.01, (field, result)


def test_zoom_axes_are_independent_and_flips_fair(params):
    rho = stats.pearsonr(params.zx, params.zy).statistic
    assert abs(rho) < 4 / np.sqrt(N)  # four standard errors of a zero correlation
    flips = int(params.flip_h.sum())
    assert stats.binomtest(flips, N, 0.5).pvalue > 0.01
    assert not params.flip_v.any()  # vertical_flip was not asked for


def test_a_wrong_distribution_would_be_caught(params):
    # The test above has power: the angles are far from uniform on half the range.
    result = stats.kstest(np.rad2deg(params.theta), stats.uniform(loc=-20, scale=40).cdf)
    assert result.pvalue < 1e-6


def _batch(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (6, 23, 19, 3), dtype=np.uint8)


def test_uint8_input_and_folded_rescale_match_the_plain_float_path():
    aug = ImageDataGenerator(**COURSE).augment
    x = _batch()
    plain = augment_batch(torch.from_numpy(x).float(), aug, np.random.default_rng(7)) / 255
    fast = augment_batch(torch.from_numpy(x), aug, np.random.default_rng(7), scale=1 / 255)
    assert fast.dtype == torch.float32 and fast.is_contiguous()
    np.testing.assert_allclose(fast, plain, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("extra", [{"brightness_range": (0.5, 1.5)}, {"channel_shift_range": 30}])
def test_rescale_follows_the_clipping_transforms(extra):
    # brightness and channel shift clip to the image's 0..255 range before rescaling.
    aug = ImageDataGenerator(**COURSE, **extra).augment
    x = _batch(1)
    plain = augment_batch(torch.from_numpy(x).float(), aug, np.random.default_rng(3)) / 255
    fast = augment_batch(torch.from_numpy(x), aug, np.random.default_rng(3), scale=1 / 255)
    np.testing.assert_allclose(fast, plain, atol=1e-6, rtol=1e-5)


def test_flow_with_a_preprocessing_function_sees_unscaled_pixels():
    seen = []

    def record(batch):
        seen.append(float(batch.max()))
        return batch

    gen = ImageDataGenerator(**COURSE, rescale=1 / 255, preprocessing_function=record)
    x = np.full((4, 16, 16, 3), 200, np.uint8)
    out = gen.flow(x, batch_size=4, shuffle=False, seed=0)[0]
    assert seen and seen[0] == pytest.approx(200.0)
    np.testing.assert_allclose(out, 200 / 255, rtol=1e-5)
