"""Acceptance 1: every zoo model reproduces the reference logits through ``weights=<path>``.

Recipe weights (fixtures README) are written in torchvision's layout to a
``.pth`` or ``.safetensors`` file and imported by the real loader; the logits
must match within rtol 1e-4, atol 1e-4·max|logit|, and the parameter count
must equal the manifest's exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from cnnkit.applications import get_model
from cnnkit.applications._weights import LITE0_PACKAGE
from tests.applications._recipe import load_manifest, recipe_state

# (fixture name, file format): alternate formats so both loaders are proven on real models.
RECIPE_MODELS = [
    ("alexnet", "pth"),
    ("vgg16", "safetensors"),
    ("vgg19", "pth"),
    ("resnet18", "safetensors"),
    ("resnet34", "pth"),
    ("resnet50", "safetensors"),
    ("resnet101", "pth"),
    ("resnet152", "safetensors"),
    ("googlenet", "pth"),
    ("mobilenet_v2", "safetensors"),
    ("densenet121", "pth"),
]


def _check_logits(model, x: torch.Tensor, expected: np.ndarray) -> None:
    model.eval()
    with torch.inference_mode():
        logits = model(x).numpy()
    assert logits.shape == expected.shape == (2, 1000)
    atol = 1e-4 * float(np.abs(expected).max())
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=atol)


@pytest.mark.parametrize(("name", "fmt"), RECIPE_MODELS, ids=[m for m, _ in RECIPE_MODELS])
def test_recipe_weights_reproduce_reference_logits(name, fmt, zoo_fixtures, parity_input, tmp_path):
    manifest = load_manifest(zoo_fixtures, name)
    state = recipe_state(manifest)
    path = tmp_path / f"{name}.{fmt}"
    if fmt == "pth":
        torch.save(state, path)
    else:
        save_file(state, str(path))
    del state
    model = get_model(name, weights=str(path), classifier_activation=None)
    assert model.count_params() == manifest["params"]
    _check_logits(model, parity_input, np.load(zoo_fixtures / f"{name}.logits.npy"))


def test_efficientnet_lite0_real_weights_reproduce_reference_logits(zoo_fixtures, parity_input):
    pytest.importorskip(LITE0_PACKAGE[0])
    manifest = load_manifest(zoo_fixtures, "efficientnet_lite0")
    model = get_model("efficientnet_lite0", weights="imagenet", classifier_activation=None)
    assert model.count_params() == manifest["params"] == 4_652_008
    _check_logits(model, parity_input, np.load(zoo_fixtures / "efficientnet_lite0.logits.npy"))


def test_wrong_weights_do_not_match(zoo_fixtures, parity_input, tmp_path):
    """The comparison can fail: a recipe with one tensor perturbed breaks parity."""
    manifest = load_manifest(zoo_fixtures, "resnet18")
    state = recipe_state(manifest)
    state["layer4.1.conv2.weight"] = state["layer4.1.conv2.weight"] * 1.5
    torch.save(state, tmp_path / "w.pth")
    model = get_model("resnet18", weights=str(tmp_path / "w.pth"), classifier_activation=None)
    with pytest.raises(AssertionError):
        _check_logits(model, parity_input, np.load(zoo_fixtures / "resnet18.logits.npy"))
