"""cnnkit.explain.attribute against captum called directly; IG completeness; heatmaps."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum import attr
from torch import nn

from cnnkit.explain import attribute, heatmap
from tests.explain.conftest import blob_images, torch_twin


class _ChannelsLastTwin(nn.Module):
    """The plain-torch twin fed channels-last images, so captum sees the same tensors."""

    def __init__(self, twin: nn.Module):
        super().__init__()
        self.twin = twin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.twin(x.permute(0, 3, 1, 2))


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return blob_images(3, seed=11)[0]


def _captum(method: str, forward: nn.Module, x: torch.Tensor, targets: list[int]) -> np.ndarray:
    t = torch.tensor(targets)
    if method == "saliency":
        out = attr.Saliency(forward).attribute(x.requires_grad_(), target=t, abs=True)
    elif method == "smoothgrad":
        torch.manual_seed(7)
        stdev = 0.15 * float(x.max() - x.min())
        out = attr.NoiseTunnel(attr.Saliency(forward)).attribute(
            x, nt_type="smoothgrad", nt_samples=6, nt_samples_batch_size=2, stdevs=stdev, target=t
        )
    elif method == "integrated_gradients":
        out = attr.IntegratedGradients(forward).attribute(
            x, baselines=torch.zeros_like(x), target=t, n_steps=20, internal_batch_size=16
        )
    else:
        out = attr.Occlusion(forward).attribute(
            x, sliding_window_shapes=(4, 4, 1), strides=(2, 2, 1), baselines=0.0, target=t
        )
    return out.detach().numpy()


@pytest.mark.parametrize("method", ["saliency", "smoothgrad", "integrated_gradients", "occlusion"])
def test_matches_captum_directly(method, trained_cnn, images):
    reference = _ChannelsLastTwin(torch_twin(trained_cnn)).eval()
    targets = [2, 0, 1]
    if method == "smoothgrad":
        torch.manual_seed(7)
    ours = attribute(
        trained_cnn,
        images,
        targets,
        method,
        steps=20,
        samples=6,
        window=4,
        stride=2,
        batch_size=6 if method == "smoothgrad" else 16,
    )
    expected = _captum(method, reference, torch.as_tensor(images).clone(), targets)
    assert ours.shape == images.shape
    np.testing.assert_allclose(ours, expected, atol=1e-4, rtol=1e-4)


def test_channels_first_model_gets_channels_first_attributions(trained_cnn, images):
    twin = torch_twin(trained_cnn)
    x_nchw = torch.as_tensor(images).permute(0, 3, 1, 2).contiguous()
    ours = attribute(twin, x_nchw, 1, "occlusion", window=4, stride=2)
    mine = attribute(trained_cnn, images, 1, "occlusion", window=4, stride=2)
    assert ours.shape == (3, 1, 16, 16)
    np.testing.assert_allclose(ours.transpose(0, 2, 3, 1), mine, atol=1e-5)


def test_integrated_gradients_completeness_within_one_percent(trained_cnn, images):
    twin = torch_twin(trained_cnn)
    baseline = np.full((16, 16, 1), 0.1, np.float32)
    a = attribute(trained_cnn, images, method="integrated_gradients", baseline=baseline)
    with torch.no_grad():
        scores = twin(torch.as_tensor(images).permute(0, 3, 1, 2))
        base = twin(torch.as_tensor(baseline).permute(2, 0, 1)[None])[0]
    t = scores.argmax(1)
    gap = (scores[torch.arange(3), t] - base[t]).numpy()
    assert np.all(np.abs(gap) > 0.1)  # a real difference to explain
    np.testing.assert_allclose(a.reshape(3, -1).sum(axis=1), gap, rtol=0.01)


def test_heatmap_scales_magnitudes_per_image():
    a = np.zeros((2, 4, 4, 3), np.float32)
    a[0, 1, 2] = [1.0, -2.0, 0.5]
    a[1] = -0.25
    maps = heatmap(a, percentile=100)
    assert maps.shape == (2, 4, 4) and maps.dtype == np.float32
    assert maps[0, 1, 2] == 1.0 and maps[0].sum() == 1.0
    np.testing.assert_allclose(maps[1], 1.0)
    np.testing.assert_allclose(
        heatmap(a.transpose(0, 3, 1, 2), data_format="channels_first", percentile=100), maps
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"method": "gradients"}, ValueError, r"Unknown attribution method 'gradients'"),
        ({"steps": 0}, ValueError, r"steps"),
        ({"noise": -1.0}, ValueError, r"`noise` must be a number >= 0.*Received: noise=-1.0"),
        ({"baseline": np.zeros((8, 8, 1))}, ValueError, r"`baseline` must be.*\(16, 16, 1\)"),
        ({"target": 9}, ValueError, r"out of range.*Received: target=9"),
    ],
)
def test_bad_arguments(trained_cnn, images, kwargs, error, match):
    with pytest.raises(error, match=match):
        attribute(trained_cnn, images, **kwargs)


def test_heatmap_bad_input():
    with pytest.raises(ValueError, match=r"must be 4-D.*Received: shape=\(4, 4\)"):
        heatmap(np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"`percentile` must be in \(0, 100\]"):
        heatmap(np.zeros((1, 2, 2, 1)), percentile=0)
