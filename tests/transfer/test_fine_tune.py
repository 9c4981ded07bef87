"""fine_tune on synthetic images: both stages, what changes, the cached path equals the model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnkit.transfer import fine_tune, model_units, replace_head
from tests.transfer._models import small_lite0, two_class_images


def _state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


@pytest.fixture(scope="module")
def tuned():
    torch.manual_seed(0)
    model = replace_head(small_lite0(), 2)
    before = _state(model)
    x, y = two_class_images(32)
    vx, vy = two_class_images(12, seed=1)
    result = fine_tune(
        model,
        (x, y),
        (vx, vy),
        head_epochs=3,
        epochs=2,
        lr=1e-2,
        batch_size=8,
        precision="float32",
        verbose=0,
    )
    return model, before, result, (vx, vy)


def test_history_of_both_stages_and_report(tuned):
    _, _, result, _ = tuned
    assert len(result.head_history.history["loss"]) == 3
    assert len(result.finetune_history.history["loss"]) == 2
    assert len(result.history["val_accuracy"]) == 5
    rates = result.history["learning_rate"]
    assert rates[:3] == pytest.approx([1e-2] * 3)
    # stage 2: cosine from 1e-3 to 0 over 2 epochs x 8 steps (64 mirrored rows / 8), logged
    # at each epoch's end: after 8 and 16 steps
    assert rates[3:] == pytest.approx([1e-3 * 0.5 * (1 + np.cos(np.pi * s / 16)) for s in (7, 15)])
    text = str(result)
    assert "cached: 32 training images and their mirror images" in text and "'blocks.15'" in text
    assert "float32)" in text
    assert "head " in text and "fine-tune 2 epochs from 'stage7', cosine decay to 0" in text


def test_only_the_unfrozen_part_changed_and_bn_statistics_did_not(tuned):
    model, before, _, _ = tuned
    after = _state(model)
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert any(k.startswith("efficientnet_lite0.blocks.15.expand_conv") for k in changed) or any(
        ".blocks.15.expand_conv" in k for k in changed
    )
    assert not any("running_" in k for k in changed)
    assert not any(".blocks.14." in k or "conv_stem" in k for k in changed)
    assert any(k.startswith(model.layers[-1].name) or "dense" in k for k in changed)


def test_cached_validation_predictions_equal_the_full_model(tuned):
    model, _, result, (vx, vy) = tuned
    model.eval()
    with torch.no_grad():
        full = model(torch.from_numpy(vx)).numpy()
    np.testing.assert_allclose(result.val_predictions, full, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(result.val_labels, vy)


def test_uncached_path_trains_the_whole_network_per_batch():
    torch.manual_seed(0)
    x, y = two_class_images(8)
    result = fine_tune(
        small_lite0(),
        (x, y),
        (x, y),
        classes=2,
        head_epochs=1,
        epochs=1,
        cache=False,
        batch_size=8,
        verbose=0,
    )
    assert "cached" not in str(result)
    assert result.val_predictions.shape == (8, 2)
    units = {u.path: u.module for u in model_units(result.model)}
    assert units["blocks.15"].expand_conv.weight.requires_grad
    assert not units["blocks.14"].expand_conv.weight.requires_grad


def test_errors():
    x, y = two_class_images(4)
    with pytest.raises(ValueError, match=r"cannot tell the number of classes.*classes=None"):
        fine_tune(small_lite0(), (x, y))
    with pytest.raises(TypeError, match=r"must be a zoo model or a model from replace_head"):
        fine_tune(torch.nn.Linear(2, 2), (x, y))
