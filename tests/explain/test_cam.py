"""cnnkit.explain.cam: hand-worked maps, the model left as it was, layers, targets, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cnnkit.explain import CAM_METHODS, cam, cam_result, find_cam_layer
from cnnkit.explain._cam import normalize_maps
from cnnkit.layers import Conv2D, Dense
from tests.explain.conftest import blob_images, small_cnn


class _Identity1x1(nn.Module):
    """Channels-first toy: A = x (a 1x1 identity conv), then GAP and a linear head."""

    def __init__(self, head: list[list[float]], channels: int = 2):
        super().__init__()
        self.features = nn.Conv2d(channels, channels, 1, bias=False)
        self.head = nn.Linear(channels, len(head), bias=False)
        with torch.no_grad():
            self.features.weight.copy_(torch.eye(channels)[:, :, None, None])
            self.head.weight.copy_(torch.tensor(head))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


# A_0 = [[1, 1], [0, 0]], A_1 = [[1, 0], [0, 1]]
_TOY_IMAGE = torch.tensor([[[[1.0, 1.0], [0.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]]]])


def test_eigencam_by_hand():
    # Rows of M are positions, columns channels: [[1,1],[1,0],[0,0],[0,1]]. M^T M =
    # [[2,1],[1,2]] has its top eigenvector (1,1)/sqrt(2); the projection M v is
    # (2,1,0,1)/sqrt(2), min-max scaled to [[1, .5], [0, .5]].
    maps = cam(_Identity1x1([[1.0, 0.0]]), _TOY_IMAGE, method="eigencam", layer="features")
    np.testing.assert_allclose(maps[0], [[1.0, 0.5], [0.0, 0.5]], atol=1e-6)


def test_ablationcam_by_hand():
    # y = 2 mean(A_0) + 1 mean(A_1) = 2(.5) + .5 = 1.5. Zeroing A_0 leaves y_0 = .5,
    # zeroing A_1 leaves y_1 = 1: w = ((1.5-.5)/1.5, (1.5-1)/1.5) = (2/3, 1/3).
    # w_0 A_0 + w_1 A_1 = [[1, 2/3], [0, 1/3]], already in [0, 1].
    maps = cam(_Identity1x1([[2.0, 1.0]]), _TOY_IMAGE, method="ablationcam", layer="features")
    np.testing.assert_allclose(maps[0], [[1.0, 2 / 3], [0.0, 1 / 3]], atol=1e-6)


def test_ablationcam_skips_all_zero_channels():
    image = _TOY_IMAGE.clone()
    image[:, 1] = 0  # channel 1 is all zero: its weight is 0, and only A_0 is left
    maps = cam(_Identity1x1([[2.0, 1.0]]), image, method="ablationcam", layer="features")
    np.testing.assert_allclose(maps[0], [[1.0, 1.0], [0.0, 0.0]], atol=1e-6)


def _hooks(model: nn.Module) -> int:
    return sum(
        len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
        for m in model.modules()
    )


@pytest.mark.parametrize("method", list(CAM_METHODS))
def test_model_is_left_exactly_as_it_was(method):
    torch.manual_seed(0)
    model = small_cnn()
    x, _ = blob_images(3, seed=2)
    model.build((None, 16, 16, 1))
    model.train()  # the training flag must come back too
    with torch.no_grad():
        before = model(torch.as_tensor(x), training=False)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    maps = cam(model, x, method=method)
    assert maps.shape == (3, 16, 16) and maps.dtype == np.float32
    assert maps.min() >= 0.0 and maps.max() == pytest.approx(1.0)
    assert model.training and all(m.training for m in model.modules())
    assert _hooks(model) == 0
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    with torch.no_grad():
        assert torch.equal(model(torch.as_tensor(x), training=False), before)


def test_works_inside_no_grad_and_on_a_frozen_model():
    torch.manual_seed(0)
    model = small_cnn()
    model.build((None, 16, 16, 1))
    for p in model.parameters():
        p.requires_grad_(False)
    x, _ = blob_images(2, seed=3)
    with torch.no_grad():
        maps = cam(model, torch.as_tensor(x), method="gradcam")
    assert maps.shape == (2, 16, 16) and np.isfinite(maps).all()


def test_layer_picked_and_reported():
    model = small_cnn()
    x, _ = blob_images(2, seed=4)
    convs = [m for m in model.modules() if isinstance(m, Conv2D)]
    assert find_cam_layer(model, x) == convs[-1].name
    assert cam_result(model, x).layer == convs[-1].name
    first = cam_result(model, x, layer=convs[0])
    assert first.layer == convs[0].name and first.maps.shape == (2, 16, 16)


def test_softmax_model_is_explained_through_its_logits():
    torch.manual_seed(0)
    model = small_cnn()
    model.build((None, 16, 16, 1))
    x, _ = blob_images(2, seed=5)
    dense = next(m for m in model.modules() if isinstance(m, Dense))
    result = cam_result(model, x, target=[0, 3], method="scorecam")
    with torch.no_grad():
        probs = model(torch.as_tensor(x))
    np.testing.assert_allclose(result.probabilities, probs[[0, 1], [0, 3]].numpy(), rtol=1e-5)
    assert result.predicted.tolist() == probs.argmax(1).tolist()
    assert dense.activation is not None  # read before the softmax, never switched off


class _BinaryNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.sigmoid(self.fc(torch.relu(self.conv(x)).mean(dim=(2, 3))))


def test_one_unit_sigmoid_model_has_two_classes():
    torch.manual_seed(0)
    model = _BinaryNet()
    x = torch.rand(2, 1, 8, 8)
    with torch.no_grad():
        p1 = model(x)[:, 0].numpy()
    r1 = cam_result(model, x, target=1)
    r0 = cam_result(model, x, target=0)
    np.testing.assert_allclose(r1.probabilities, p1, rtol=1e-5)
    np.testing.assert_allclose(r0.probabilities, 1 - p1, rtol=1e-5)
    assert r1.layer == "conv" and r1.maps.shape == (2, 8, 8)
    # Class 0's score is -z: its Grad-CAM weights are class 1's, negated.
    assert not np.allclose(r0.maps, r1.maps)


@pytest.fixture
def model_and_images():
    model = small_cnn()
    x, _ = blob_images(2, seed=6)
    return model, x


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"layer": "conv2d_9"}, ValueError, r"Unknown layer .*'conv2d_9'.*Did you mean"),
        ({"layer": "dense"}, ValueError, r"layer 'dense' has no spatial output.*Received: layer="),
        ({"layer": 3.5}, TypeError, r"name \(str\) or as the layer object.*Received: layer=3.5"),
        ({"target": 4}, ValueError, r"out of range .* 4 classes.*\[0, 3\].*Received: target=4"),
        ({"target": [0, 1, 2]}, ValueError, r"one class index per image.*len\(target\)=3"),
        ({"target": 1.5}, TypeError, r"`target` must be None.*Received: target=1.5"),
        ({"method": "gradcamm"}, ValueError, r"Unknown CAM method 'gradcamm'.*'gradcam'"),
        ({"data_format": "nhwc"}, ValueError, r"data_format.*Valid choices: 'channels_last'"),
        ({"batch_size": 0}, ValueError, r"batch_size"),
    ],
)
def test_bad_arguments(model_and_images, kwargs, error, match):
    model, x = model_and_images
    with pytest.raises(error, match=match):
        cam(model, x, **kwargs)


def test_bad_images(model_and_images):
    model, x = model_and_images
    with pytest.raises(ValueError, match=r"have 3 channels but the model takes 1.*C=1"):
        cam(model, np.repeat(x, 3, axis=-1))
    with pytest.raises(ValueError, match=r"non-empty batch \(N, H, W, C\).*images.shape"):
        cam(model, x[0])
    with pytest.raises(TypeError, match=r"`images` must be numeric"):
        cam(model, np.array([[["a"]]]))
    with pytest.raises(TypeError, match=r"`model` must be a cnnkit model or a torch.nn.Module"):
        cam(lambda t: t, x)


def test_model_without_spatial_layer():
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    with pytest.raises(ValueError, match=r"no layer with a spatial output.*Received: layer=None"):
        cam(model, torch.rand(1, 1, 4, 4))


@pytest.mark.parametrize("channels, size", [(3, 5), (12, 2)])  # C < h*w and C > h*w
def test_eigencam_matches_the_first_singular_vector(channels, size):
    torch.manual_seed(0)
    image = torch.rand(2, channels, size, size)
    head = [[1.0] * channels, [0.5] * channels]
    maps = cam(_Identity1x1(head, channels), image, method="eigencam", layer="features")
    matrix = image.flatten(2).transpose(1, 2).double()
    v = torch.linalg.svd(matrix, full_matrices=False).Vh[:, 0]
    v = v * torch.where(v.sum(1, keepdim=True) < 0, -1.0, 1.0)
    raw = (matrix @ v[..., None])[..., 0].clamp_min(0).view(2, size, size).float()
    expected = normalize_maps(raw, (size, size))
    np.testing.assert_allclose(maps, expected, atol=1e-5)
