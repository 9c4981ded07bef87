"""The remaining user errors of the zoo, each checked by its message."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from cnnkit.applications import VGG, DenseNet, EfficientNetLite0, ResNet18, decode_predictions
from cnnkit.applications import _weights as weights_mod
from cnnkit.applications._imagenet import preprocess_input
from cnnkit.applications._registry import list_models


def test_pretrained_weights_need_three_channels():
    with pytest.raises(ValueError, match=r"expect 3 input channel\(s\).*\(64, 64, 1\)"):
        ResNet18(weights="imagenet", input_shape=(64, 64, 1))


def test_lite0_package_without_its_file(monkeypatch, tmp_path):
    spec = SimpleNamespace(submodule_search_locations=[str(tmp_path)])
    monkeypatch.setattr(weights_mod.importlib.util, "find_spec", lambda name: spec)
    with pytest.raises(ValueError, match=r"installed but its weight file is missing"):
        EfficientNetLite0(weights="imagenet", input_shape=(32, 32, 3))


def test_unknown_data_format():
    with pytest.raises(ValueError, match=r"Unknown data_format 'nhwc'.*'channels_last'"):
        preprocess_input(np.zeros((1, 2, 2, 3)), data_format="nhwc")


def test_decode_top_must_be_an_integer():
    with pytest.raises(TypeError, match=r"`top` must be an integer.*Received: top=2.5"):
        decode_predictions(np.zeros((1, 1000)), top=2.5)


def test_list_models_pattern_must_be_a_string():
    with pytest.raises(TypeError, match=r"`pattern` must be a string"):
        list_models(None)


def test_unknown_vgg_depth_and_densenet_variant():
    with pytest.raises(ValueError, match=r"Unknown VGG depth 13.*'16', '19'"):
        VGG(13)
    with pytest.raises(ValueError, match=r"Unknown DenseNet variant 'densenet169'.*'densenet121'"):
        DenseNet("densenet169")
