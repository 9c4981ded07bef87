"""Registry round trip, backward pass, head API and the builders' Keras rules."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnkit.applications import (
    VGG16,
    EfficientNetLite0,
    GoogLeNet,
    LeNet5,
    ResNet18,
    ResNet50,
    get_model,
    list_models,
)

ALL = [
    "alexnet",
    "densenet121",
    "efficientnet_lite0",
    "googlenet",
    "lenet5",
    "mobilenet_v2",
    "resnet101",
    "resnet152",
    "resnet18",
    "resnet34",
    "resnet50",
    "vgg16",
    "vgg19",
]


def test_list_models_is_the_explicit_table():
    assert list_models() == ALL
    assert list_models("resnet*") == ["resnet101", "resnet152", "resnet18", "resnet34", "resnet50"]
    assert list_models("VGG1?") == ["vgg16", "vgg19"]
    assert list_models("nothing*") == []


def _small_kwargs(name: str) -> dict:
    # The smallest input each architecture takes keeps the test fast; LeNet keeps its default.
    if name == "lenet5":
        return {"classes": 7}
    side = 64 if name == "alexnet" else 32
    return {"input_shape": (side, side, 3), "classes": 7}


@pytest.mark.parametrize("name", ALL)
def test_registry_round_trip_backward_and_head_api(name):
    model = get_model(name, **_small_kwargs(name))
    assert model.model_name == name
    h, w, c = model.sample_shape
    x = torch.randn(2, h, w, c)
    model.train()
    y = model(x)
    assert y.shape == (2, 7)
    np.testing.assert_allclose(y.detach().sum(dim=1).numpy(), 1.0, rtol=1e-5)  # softmax top
    (y * torch.randn_like(y)).sum().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(float(g.abs().sum()) > 0 for g in grads)

    model.eval()
    with torch.no_grad():
        features = model.forward_features(x)
        # The last feature_info row describes the map forward_features returns.
        last = model.feature_info[-1]
        assert features.shape[-1] == last["channels"]
        if name in ("alexnet", "lenet5"):  # valid convolutions shrink maps beyond the stride
            assert features.shape[1] <= h // last["reduction"]
        else:
            assert features.shape[1] == h // last["reduction"]
        pre = model.forward_head(features, pre_logits=True)
        assert pre.shape == (2, model.num_features)
        np.testing.assert_allclose(model.forward_head(features), model(x), rtol=1e-5, atol=1e-6)
        model.reset_classifier(3)
        assert model(x).shape == (2, 3)
        model.reset_classifier(0)
        assert model(x).shape == (2, model.num_features)


def test_feature_info_reductions_match_real_feature_maps():
    model = ResNet18(input_shape=(64, 64, 3))
    shapes = {}
    for row in model.feature_info:
        module = model.get_submodule(row["module"])
        module.register_forward_hook(lambda m, a, out, s=row["stage"]: shapes.__setitem__(s, out))
    with torch.no_grad():
        model(torch.zeros(1, 64, 64, 3))
    for row in model.feature_info:
        out = shapes[row["stage"]]
        assert out.shape[1] == 64 // row["reduction"] and out.shape[-1] == row["channels"]


def test_include_top_false_and_pooling():
    x = torch.randn(2, 64, 64, 3)
    body = ResNet18(include_top=False, input_shape=(64, 64, 3)).eval()
    assert body(x).shape == (2, 2, 2, 512)
    assert not any(k.startswith("fc.") for k in body.state_dict())
    avg = ResNet18(include_top=False, pooling="avg", input_shape=(64, 64, 3))
    mx = ResNet18(include_top=False, pooling="max", input_shape=(64, 64, 3))
    mx.load_state_dict(avg.state_dict())
    with torch.no_grad():
        fmap = avg.forward_features(x)
        np.testing.assert_allclose(avg(x), fmap.mean(dim=(1, 2)), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(mx(x), fmap.amax(dim=(1, 2)), rtol=1e-5, atol=1e-6)


def test_classifier_activation_none_gives_logits_and_softmax_matches():
    logits_model = LeNet5(classifier_activation=None)
    probs_model = LeNet5()
    probs_model.load_state_dict(logits_model.state_dict())
    x = torch.randn(3, 32, 32, 1)
    with torch.no_grad():
        np.testing.assert_allclose(
            probs_model(x), torch.softmax(logits_model(x), dim=-1), rtol=1e-5, atol=1e-7
        )


def test_lenet5_parameter_counts_and_shapes():
    assert LeNet5().count_params() == 61_706
    relu = LeNet5(variant="relu")
    assert relu.count_params() == 60_074
    assert relu.sample_shape == (28, 28, 1)
    assert relu(torch.zeros(1, 28, 28, 1)).shape == (1, 10)
    relu5 = LeNet5(variant="relu5")  # first conv "same": 156 + 2,416 + 48,120 + 10,164 + 850
    assert relu5.count_params() == 61_706
    assert relu5(torch.zeros(1, 28, 28, 1)).shape == (1, 10)
    # "same" keeps the first conv at full size, so 12x12 (12 -> 6 -> 2 -> 1) is the smallest.
    small = LeNet5(variant="relu5", input_shape=(12, 12, 1))
    assert small(torch.zeros(1, 12, 12, 1)).shape == (1, 10)
    with pytest.raises(ValueError):
        LeNet5(variant="relu5", input_shape=(11, 11, 1))


def test_googlenet_aux_classifiers_only_in_training():
    model = GoogLeNet(aux_logits=True, classes=5, input_shape=(96, 96, 3))
    x = torch.randn(2, 96, 96, 3)
    model.train()
    out = model(x)
    assert out.shape == (2, 5) and len(model.aux_outputs) == 2
    assert all(a.shape == (2, 5) for a in model.aux_outputs)
    y = torch.tensor([1, 3])

    def nll(target, probs):
        return torch.nn.functional.nll_loss(torch.log(probs), target)

    aux = model.auxiliary_loss(nll, y)
    expected = 0.3 * (nll(y, model.aux_outputs[0]) + nll(y, model.aux_outputs[1]))
    assert torch.allclose(aux, expected)
    model.eval()
    with torch.no_grad():
        model(x)
    assert model.aux_outputs is None
    assert float(model.auxiliary_loss(nll, y)) == 0.0


def test_googlenet_transform_input_renormalises():
    plain = GoogLeNet(input_shape=(64, 64, 3), classifier_activation=None).eval()
    moved = GoogLeNet(input_shape=(64, 64, 3), classifier_activation=None, transform_input=True)
    moved.load_state_dict(plain.state_dict())
    moved.eval()
    rgb = torch.rand(1, 64, 64, 3) * 255
    from cnnkit.applications.googlenet import preprocess_input

    with torch.no_grad():
        expected = plain(rgb / 127.5 - 1)  # the [-1, 1] scaling the weights were trained on
        np.testing.assert_allclose(moved(preprocess_input(rgb)), expected, rtol=1e-4, atol=1e-4)


def test_get_config_rebuilds_the_same_architecture():
    model = EfficientNetLite0(input_shape=(64, 64, 3), classes=4, dropout=0.3)
    config = model.get_config()
    assert config["dropout"] == 0.3 and config["weights"] is None
    clone = EfficientNetLite0(**config)
    clone.load_state_dict(model.state_dict())
    model.eval()
    clone.eval()
    x = torch.randn(1, 64, 64, 3)
    with torch.no_grad():
        np.testing.assert_allclose(clone(x), model(x), rtol=1e-6)


def test_save_and_load_model_round_trip_after_reset_classifier(tmp_path):
    from cnnkit.models import load_model

    model = ResNet18(input_shape=(32, 32, 3), classes=3)
    model.reset_classifier(5)
    model.save(tmp_path / "r18.cnnkit")
    again = load_model(tmp_path / "r18.cnnkit")
    assert type(again) is type(model) and again.classes == 5
    x = torch.randn(2, 32, 32, 3)
    model.eval()
    again.eval()
    with torch.no_grad():
        np.testing.assert_array_equal(again(x).numpy(), model(x).numpy())


def test_keras_module_paths():
    from cnnkit.applications import resnet50, vgg16, vgg19

    assert vgg16.VGG16 is VGG16 and vgg19.VGG19.__name__ == "VGG19"
    assert resnet50.ResNet50 is ResNet50
    assert vgg16.preprocess_input is resnet50.preprocess_input  # both torchvision's transform


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"weights": "imagenet", "classes": 10}, r"`classes` must be 1000.*include_top=False"),
        ({"pooling": "mean"}, r"Unknown pooling 'mean'.*Valid choices: 'avg', 'max'"),
        ({"classes": -1}, r"`classes` must be a positive integer.*Received: classes=-1"),
        ({"input_shape": (16, 16, 3)}, r"too small.*height and width >= 32"),
        ({"input_shape": (64, 64)}, r"`input_shape` must be \(height, width, channels\)"),
        ({"weights": 3}, r"`weights` must be None, 'imagenet', or the path"),
        ({"weights": "nope.pth"}, r"no such file.*Received: weights='nope.pth'"),
        (
            {"weights": "imagenet", "classifier_activation": "relu"},
            r"only None and 'softmax'.*Received: classifier_activation='relu'",
        ),
    ],
)
def test_builder_errors(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        ResNet18(**kwargs)


def test_registry_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError, match=r"Unknown model 'resnet05'.*Did you mean 'resnet50'"):
        get_model("resnet05")


def test_vgg_top_with_pretrained_weights_needs_224():
    with pytest.raises(ValueError, match=r"`input_shape` must be \(224, 224, 3\)"):
        VGG16(weights="imagenet", input_shape=(128, 128, 3))


def test_lenet_has_no_imagenet_weights():
    with pytest.raises(ValueError, match=r"no ImageNet weights exist"):
        LeNet5(weights="imagenet")


def test_reset_classifier_errors():
    with pytest.raises(ValueError, match=r"include_top=False.*replace_head"):
        ResNet18(include_top=False, input_shape=(32, 32, 3)).reset_classifier(2)
    with pytest.raises(ValueError, match=r"`num_classes` must be an integer >= 0"):
        LeNet5().reset_classifier(-2)


def test_unknown_variants():
    with pytest.raises(ValueError, match=r"Unknown LeNet5 variant 'tanh'"):
        LeNet5("tanh")
    with pytest.raises(ValueError, match=r"Unknown ResNet depth 51.*'50'"):
        from cnnkit.applications import ResNet

        ResNet(51)
