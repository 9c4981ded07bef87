"""cnnkit.explain.cam against torchcam called directly, on the same model and layer.

The small CNN is compared with its plain-torch twin (channels-first, logits out,
weights copied) under torchcam, so the adapter (layout, logits, layer, targets,
batching) is what is tested; the zoo ResNet-18 is compared with torchcam on a
hand-written channels-first wrapper and torchcam's own ``reshape_transform``.
Both sides get the same normalisation: bilinear upsampling, then min-max.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torchcam import methods

from cnnkit.applications import ResNet18
from cnnkit.explain import cam, cam_result
from cnnkit.layers import Conv2D
from tests.explain.conftest import blob_images, small_cnn, torch_twin

TORCHCAM = {
    "gradcam": "GradCAM",
    "gradcam++": "GradCAMpp",
    "xgradcam": "XGradCAM",
    "layercam": "LayerCAM",
    "scorecam": "ScoreCAM",
}


def _normalised(maps: torch.Tensor, size: tuple[int, int]) -> np.ndarray:
    up = F.interpolate(maps[:, None], size, mode="bilinear", align_corners=False)[:, 0]
    low = up.amin(dim=(1, 2), keepdim=True)
    span = up.amax(dim=(1, 2), keepdim=True) - low
    return ((up - low) / torch.where(span > 0, span, 1.0)).detach().numpy()


def _last_conv(model: nn.Module) -> Conv2D:
    return [m for m in model.modules() if isinstance(m, Conv2D)][-1]


def _torchcam_maps(name, model, layer, x_nchw, classes, reshape=None, **kwargs) -> np.ndarray:
    extractor = getattr(methods, TORCHCAM[name])(model, layer, reshape_transform=reshape, **kwargs)
    with extractor:
        scores = model(x_nchw)
        maps = extractor(class_idx=classes, scores=scores, normalized=False)[0]
    return _normalised(maps, tuple(x_nchw.shape[2:]))


@pytest.fixture(scope="module")
def random_cnn():
    torch.manual_seed(1)
    model = small_cnn()
    model.build((None, 16, 16, 1))
    return model


@pytest.mark.parametrize("weights", ["random", "trained"])
@pytest.mark.parametrize("method", list(TORCHCAM))
def test_small_cnn_matches_torchcam_on_its_torch_twin(weights, method, random_cnn, request):
    model = random_cnn if weights == "random" else request.getfixturevalue("trained_cnn")
    twin = torch_twin(model)
    x, _ = blob_images(3, seed=5)
    x_nchw = torch.as_tensor(x).permute(0, 3, 1, 2).contiguous()
    result = cam_result(model, x, method=method, layer=_last_conv(model), batch_size=7)
    assert result.layer == _last_conv(model).name
    with torch.no_grad():
        predicted = twin(x_nchw).argmax(1).tolist()
    assert result.targets.tolist() == predicted
    expected = _torchcam_maps(method, twin, twin[4], x_nchw, predicted)
    np.testing.assert_allclose(result.maps, expected, atol=1e-4)


def test_small_cnn_target_per_image_matches_torchcam(trained_cnn):
    twin = torch_twin(trained_cnn)
    x, _ = blob_images(4, seed=6)
    targets = [3, 0, 2, 1]
    ours = cam(trained_cnn, x, targets, "gradcam", _last_conv(trained_cnn), batch_size=3)
    x_nchw = torch.as_tensor(x).permute(0, 3, 1, 2).contiguous()
    expected = _torchcam_maps("gradcam", twin, twin[4], x_nchw, targets)
    np.testing.assert_allclose(ours, expected, atol=1e-4)


def test_plain_torch_model_takes_channels_first_images(trained_cnn):
    twin = torch_twin(trained_cnn)
    x, _ = blob_images(2, seed=7)
    x_nchw = torch.as_tensor(x).permute(0, 3, 1, 2).contiguous()
    ours = cam(twin, x_nchw, target=1, layer="4")
    expected = _torchcam_maps("gradcam", twin, twin[4], x_nchw, [1, 1])
    np.testing.assert_allclose(ours, expected, atol=1e-4)
    np.testing.assert_allclose(cam(trained_cnn, x, target=1), ours, atol=1e-4)


class _ChannelsFirst(nn.Module):
    """What a torchcam user writes for a channels-last model: permute the input."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x.permute(0, 2, 3, 1))


@pytest.fixture(scope="module")
def random_resnet():
    torch.manual_seed(2)
    return ResNet18(weights=None, input_shape=(48, 48, 3), classifier_activation=None)


@pytest.fixture(scope="module")
def trained_resnet(random_resnet):
    """A copy after a few Adam steps on the blob images (the batch-norm statistics move too)."""
    model = copy.deepcopy(random_resnet)
    x, y = blob_images(8, seed=9, size=48)
    images = torch.as_tensor(x).expand(-1, -1, -1, 3).contiguous() * 255
    labels = torch.as_tensor(y)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    model.train()
    for _ in range(2):
        loss = F.cross_entropy(model(images), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    for p in model.parameters():
        p.grad = None
    changed = any(
        not torch.equal(a, b)
        for a, b in zip(
            model.state_dict().values(), random_resnet.state_dict().values(), strict=True
        )
    )
    assert changed, "the training steps left the weights unchanged"
    return model.eval()


@pytest.fixture(params=["random", "trained"])
def resnet(request):
    return request.getfixturevalue(f"{request.param}_resnet")


@pytest.mark.parametrize("method", ["gradcam", "gradcam++", "xgradcam", "layercam"])
def test_resnet18_matches_torchcam_on_layer4(method, resnet):
    x = torch.rand(2, 48, 48, 3, generator=torch.Generator().manual_seed(3)) * 255
    result = cam_result(resnet, x, method=method)
    assert result.layer == "layer4"
    wrapped = _ChannelsFirst(resnet).eval()
    expected = _torchcam_maps(
        method,
        wrapped,
        resnet.layer4,
        x.permute(0, 3, 1, 2),
        result.targets.tolist(),
        reshape=lambda t: t.permute(0, 3, 1, 2),
    )
    np.testing.assert_allclose(result.maps, expected, atol=1e-4)


def test_resnet18_scorecam_matches_torchcam(resnet):
    # layer1 (64 channels) keeps the 64 masked forward passes affordable in a test.
    x = torch.rand(1, 48, 48, 3, generator=torch.Generator().manual_seed(4)) * 255
    result = cam_result(resnet, x, method="scorecam", layer="layer1", batch_size=48)
    wrapped = _ChannelsFirst(resnet).eval()
    expected = _torchcam_maps(
        "scorecam",
        wrapped,
        resnet.layer1,
        x.permute(0, 3, 1, 2),
        result.targets.tolist(),
        reshape=lambda t: t.permute(0, 3, 1, 2),
    )
    np.testing.assert_allclose(result.maps, expected, atol=1e-4)
