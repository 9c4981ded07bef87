"""Sanity checks (Adebayo et al. 2018): Grad-CAM must depend on the weights and the labels."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from cnnkit.explain import cam, cascading_randomization, randomized_copy, rank_correlation
from tests.explain.conftest import blob_images, small_cnn, train


def test_rank_correlation_matches_scipy_with_ties():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 4, (5, 6, 7)).astype(np.float32)  # many ties, as after a ReLU
    b = a + rng.normal(0, 1.5, a.shape)
    expected = [spearmanr(a[i].ravel(), b[i].ravel()).statistic for i in range(5)]
    np.testing.assert_allclose(rank_correlation(a, b), expected, atol=1e-12)
    np.testing.assert_allclose(rank_correlation(a, a), 1.0)
    assert np.isnan(rank_correlation(np.zeros((1, 3, 3)), a[:1, :3, :3]))[0]


def test_rank_correlation_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"one shape.*Received: maps_a.shape=\(2, 4, 4\)"):
        rank_correlation(np.zeros((2, 4, 4)), np.zeros((2, 4, 5)))


def _parametrised(model) -> list[str]:
    return [layer.name for layer in model.layers if any(True for _ in layer.parameters())][::-1]


def test_randomized_copy_changes_only_the_named_layers(trained_cnn):
    dense, top_conv, _ = _parametrised(trained_cnn)
    before = [p.detach().clone() for p in trained_cnn.parameters()]
    twin = randomized_copy(trained_cnn, [dense, top_conv], seed=3)
    for p, kept in zip(trained_cnn.parameters(), before, strict=True):
        assert torch.equal(p, kept)  # the original is untouched
    for layer, original in zip(twin.layers, trained_cnn.layers, strict=True):
        pairs = zip(layer.parameters(), original.parameters(), strict=True)
        changed = any(not torch.equal(a, b) for a, b in pairs)
        assert changed == (layer.name in (dense, top_conv)), layer.name
    kernel = twin.get_layer(top_conv).weight
    fan_in, fan_out = kernel[0].numel(), kernel.shape[0] * kernel[0, 0].numel()
    assert kernel.abs().max() <= np.sqrt(6 / (fan_in + fan_out))  # Glorot-uniform's bound
    assert torch.count_nonzero(twin.get_layer(top_conv).bias) == 0


def test_randomized_copy_rejects_unknown_layers(trained_cnn):
    with pytest.raises(ValueError, match=r"Received: layers='dens'.*dense"):
        randomized_copy(trained_cnn, ["dens"])


def test_cascading_randomisation_decorrelates_gradcam(trained_cnn):
    x, _ = blob_images(16, seed=11)
    layers = _parametrised(trained_cnn)
    steps = cascading_randomization(trained_cnn, x, layers, method="gradcam")
    assert [name for name, _ in steps] == layers
    means = [float(np.nanmean(c)) for _, c in steps]
    assert means[1] < 0.5 and means[2] < 0.5, means  # top conv + dense randomised
    # The control: re-running on the trained model itself correlates perfectly.
    assert np.allclose(rank_correlation(cam(trained_cnn, x), cam(trained_cnn, x)), 1.0)


def test_shuffled_labels_decorrelate_gradcam(trained_cnn):
    x, y = blob_images(256, seed=0)  # the fixture's training images
    torch.manual_seed(0)
    memoriser = small_cnn()
    train(memoriser, x, np.random.default_rng(3).permutation(y), epochs=5)
    xt, yt = blob_images(16, seed=11)
    correlation = rank_correlation(cam(trained_cnn, xt, yt), cam(memoriser.eval(), xt, yt))
    assert np.nanmean(correlation) < 0.5
