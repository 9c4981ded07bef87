"""freeze/unfreeze by stage, layer name, unit path and index; errors; the unit chain."""

from __future__ import annotations

import pytest
import torch

from cnnkit.transfer import freeze, model_units, replace_head, unfreeze
from tests.transfer._models import SIZE, small_lite0


def _trainable(module: torch.nn.Module) -> bool:
    return any(p.requires_grad for p in module.parameters())


def test_zoo_body_units_follow_the_forward_order():
    units = [u.path for u in model_units(small_lite0())]
    assert units[:4] == ["conv_stem", "bn0", "stem_act", "blocks.0"]
    assert units[-4:] == ["blocks.15", "conv_head", "bn1", "head_act"]
    assert len(units) == 3 + 16 + 3


def test_the_unit_chain_reproduces_forward_features():
    from cnnkit.transfer._extract import run_units

    model = small_lite0().eval()
    x = torch.rand(2, SIZE, SIZE, 3)
    with torch.no_grad():
        torch.testing.assert_close(run_units(model_units(model), x), model.forward_features(x))


def test_transfer_model_units_include_preprocessing_body_and_head():
    model = replace_head(small_lite0(), 3)
    units = model_units(model)
    paths = [u.path for u in units]
    assert paths[0] == "image_preprocessing"
    assert paths[-1].startswith("dense")
    body = [u for u in units if u.in_base]
    assert len(body) == 22 and all(u.training is False for u in body)


def test_freeze_whole_body_leaves_only_the_head_trainable():
    model = replace_head(small_lite0(), 3)
    frozen = freeze(model)
    assert frozen[-1] == "head_act"
    base = model.layers[2]
    assert not _trainable(base)
    assert _trainable(model.layers[-1])
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == 1280 * 3 + 3


@pytest.mark.parametrize(
    ("where", "first_trainable"),
    [
        ("stage7", "blocks.15"),
        ("stage6", "blocks.11"),
        ("blocks.14", "blocks.14"),
        (-7, "blocks.15"),
    ],
)
def test_unfreeze_from_stage_path_or_index(where, first_trainable):
    model = replace_head(small_lite0(), 2)
    freeze(model)
    opened = unfreeze(model, where)
    assert opened[0] == first_trainable
    units = {u.path: u.module for u in model_units(model)}
    assert _trainable(units[first_trainable])
    previous = list(units)[list(units).index(first_trainable) - 1]
    assert not _trainable(units[previous])


def test_unfreeze_keeps_batchnorm_frozen_by_default():
    model = replace_head(small_lite0(), 2)
    freeze(model)
    unfreeze(model, "stage7")
    block = model.layers[2].blocks[15]
    assert block.expand_conv.trainable and block.expand_conv.weight.requires_grad
    assert not block.bn1.trainable and not block.bn1.weight.requires_grad
    unfreeze(model, "stage7", keep_batchnorm_frozen=False)
    assert block.bn1.trainable and block.bn1.weight.requires_grad


def test_freeze_up_to_a_stage_or_a_nested_layer_name():
    model = small_lite0()
    frozen = freeze(model, up_to="stage2")
    assert frozen[-1] == "blocks.2"
    assert _trainable(model.blocks[3]) and not _trainable(model.blocks[2])
    nested = model.blocks[5].depthwise_conv.name
    assert freeze(model, up_to=nested)[-1] == "blocks.5"


def test_unknown_stage_suggests_close_names():
    message = r"Unknown layer or stage 'stage77'. Received: from_='stage77'"
    with pytest.raises(ValueError, match=message):
        unfreeze(small_lite0(), "stage77")
    with pytest.raises(ValueError, match="Did you mean"):
        freeze(small_lite0(), up_to="stage 7")


def test_index_out_of_range_and_bad_types():
    model = small_lite0()
    with pytest.raises(ValueError, match=r"out of range.*Received: up_to=99"):
        freeze(model, up_to=99)
    with pytest.raises(TypeError, match=r"`from_` must be a layer name.*Received: from_=1.5"):
        unfreeze(model, 1.5)
    with pytest.raises(TypeError, match="must be a cnnkit zoo model"):
        freeze(torch.nn.Linear(2, 2))
