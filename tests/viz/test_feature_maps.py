"""feature_maps / plot_feature_maps: values equal a manual forward pass; hooks, modes, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from cnnkit.applications import LeNet5
from cnnkit.layers import Add, Conv2D, Dense, Flatten, Input, MaxPooling2D
from cnnkit.models import Model, Sequential
from cnnkit.viz import feature_maps, plot_feature_maps


def _model(channels: int = 1) -> Sequential:
    return Sequential(
        [
            Input((12, 12, channels)),
            Conv2D(4, 3, activation="relu"),
            MaxPooling2D(2),
            Conv2D(10, 3),
            Flatten(),
            Dense(3),
        ]
    )


def _manual(model: Sequential, x: np.ndarray, upto: int) -> np.ndarray:
    out = torch.from_numpy(x)
    with torch.no_grad():
        for layer in model.layers[: upto + 1]:
            out = layer(out)
    return out.numpy()


def test_default_layers_are_the_image_outputs_in_call_order_with_manual_values():
    model = _model()
    image = np.random.default_rng(0).random((12, 12, 1), dtype=np.float32)
    maps = feature_maps(model, image)
    assert list(maps) == ["conv2d", "max_pooling2d", "conv2d_1"]
    assert [a.shape for a in maps.values()] == [(1, 10, 10, 4), (1, 5, 5, 4), (1, 3, 3, 10)]
    for i, array in enumerate(maps.values()):
        np.testing.assert_allclose(array, _manual(model, image[None], i), rtol=1e-5, atol=1e-6)


def test_named_layers_keep_their_order_and_may_be_flat():
    model = _model()
    batch = np.random.default_rng(1).random((5, 12, 12), dtype=np.float32)[..., None]
    maps = feature_maps(model, batch, layers=["dense", "conv2d"])
    assert list(maps) == ["dense", "conv2d"]
    assert maps["dense"].shape == (5, 3) and maps["conv2d"].shape == (5, 10, 10, 4)
    np.testing.assert_allclose(maps["dense"], _manual(model, batch, 4), rtol=1e-5, atol=1e-6)


def test_grayscale_image_without_channel_axis_and_uint8_values():
    model = _model()
    image = np.random.default_rng(2).integers(0, 256, (12, 12), dtype=np.uint8)
    maps = feature_maps(model, image, layers="conv2d")
    expected = _manual(model, image[None, ..., None].astype(np.float32), 0)
    np.testing.assert_allclose(maps["conv2d"], expected, rtol=1e-5, atol=1e-4)


def test_hooks_are_removed_and_training_mode_restored_even_after_an_error():
    model = _model()
    model.train()
    feature_maps(model, np.zeros((12, 12, 1), np.float32))
    with pytest.raises(ValueError):
        feature_maps(model, np.zeros((12, 12, 1), np.float32), layers="nope")
    assert model.training and all(m.training for m in model.modules())
    assert all(not m._forward_hooks for m in model.modules())


def test_an_unbuilt_model_is_built_with_trainable_weights():
    model = Sequential([Conv2D(2, 3), Flatten(), Dense(2)])
    maps = feature_maps(model, np.ones((6, 6, 1), np.float32))
    assert maps["conv2d"].shape == (1, 4, 4, 2)
    assert all(not p.is_inference() and p.requires_grad for p in model.parameters())


def test_channels_first_outputs_are_returned_channels_last():
    model = Sequential([Input((2, 6, 6)), Conv2D(3, 3, data_format="channels_first")])
    image = np.random.default_rng(3).random((2, 6, 6), dtype=np.float32)
    maps = feature_maps(model, image)
    assert maps["conv2d"].shape == (1, 4, 4, 3)
    direct = model(torch.from_numpy(image[None])).detach().numpy()  # (1, 3, 4, 4)
    np.testing.assert_allclose(maps["conv2d"], direct.transpose(0, 2, 3, 1), rtol=1e-5)


def test_plot_writes_a_png_with_one_panel_per_layer_plus_the_input(tmp_path):
    model = _model()
    image = np.random.default_rng(4).random((12, 12, 1), dtype=np.float32)
    fig = plot_feature_maps(model, image, max_maps=8, path=tmp_path / "maps.png")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0] == "input (12, 12, 1)"
    assert titles[1] == "conv2d (Conv2D) output (None, 10, 10, 4)"
    assert titles[3] == "conv2d_1 (Conv2D) output (None, 3, 3, 10), maps 0-7 of 10"
    grid = np.asarray(fig.axes[3].images[0].get_array())
    assert grid.shape == (3, 8 * 4 - 1)  # 8 maps of 3x3 in one row of 8
    with Image.open(tmp_path / "maps.png") as png:
        png.verify()


def test_the_default_selection_is_capped_at_max_layers_and_says_so():
    model, image = _model(), np.zeros((12, 12, 1), np.float32)
    fig = plot_feature_maps(model, image, max_layers=2)
    assert [ax.get_title() for ax in fig.axes][1:] == [
        "conv2d (Conv2D) output (None, 10, 10, 4)",
        "max_pooling2d (MaxPooling2D) output (None, 5, 5, 4)",
    ]
    assert fig.get_suptitle() == "first 2 of 3 layers; choose others with layers="
    explicit = plot_feature_maps(model, image, ["conv2d", "conv2d_1"], max_layers=1)
    assert len(explicit.axes) == 3 and not explicit.get_suptitle()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"layers": "conv2d_5"}, ValueError, r"Unknown layer .*Did you mean 'conv2d_1'"),
        ({"layers": []}, ValueError, r"`layers` must be a layer name"),
        ({"layers": [Conv2D(1, 1)]}, ValueError, r"not part of the model"),
        ({"image": np.zeros((10, 10, 1))}, ValueError, r"does not match the model's input"),
        ({"image": np.zeros((2, 2, 12, 12, 1))}, ValueError, r"must have the shape \(H, W\)"),
        ({"image": np.zeros((12, 12), dtype=bool)}, TypeError, r"images must be numeric"),
        ({"model": "lenet"}, TypeError, r"Received: model='str'"),
        ({"image": [[0.0] * 12] * 11}, ValueError, r"Received: shape=\(11, 12\)"),
    ],
)
def test_errors(kwargs, error, match):
    args = {"model": _model(), "image": np.zeros((12, 12, 1), np.float32), **kwargs}
    with pytest.raises(error, match=match):
        feature_maps(**args)


def test_plot_errors():
    image = np.zeros((12, 12, 1), np.float32)
    with pytest.raises(ValueError, match=r"only image-shaped outputs .*'dense': \(1, 3\)"):
        plot_feature_maps(_model(), image, layers="dense")
    with pytest.raises(ValueError, match=r"`max_maps` must be a positive integer"):
        plot_feature_maps(_model(), image, max_maps=0)
    with pytest.raises(ValueError, match=r"no layer of the model outputs an image"):
        plot_feature_maps(Sequential([Input((12, 12, 1)), Flatten(), Dense(2)]), image)


def test_zoo_and_functional_models():
    lenet = LeNet5(variant="relu")
    digit = np.random.default_rng(5).random((28, 28), dtype=np.float32)
    maps = feature_maps(lenet, digit)
    assert {k: v.shape for k, v in maps.items()} == {
        "conv2d": (1, 26, 26, 6),
        "max_pooling2d": (1, 13, 13, 6),
        "conv2d_1": (1, 11, 11, 16),
        "max_pooling2d_1": (1, 5, 5, 16),
    }
    assert feature_maps(lenet, digit, "features.2")["features.2"].shape == (1, 11, 11, 16)
    inputs = Input((8, 8, 2))
    left, right = Conv2D(3, 3, name="left")(inputs), Conv2D(3, 3, name="right")(inputs)
    model = Model(inputs, Dense(2)(Flatten()(Add()([left, right]))))
    image = np.random.default_rng(6).random((8, 8, 2), dtype=np.float32)
    maps = feature_maps(model, image)
    assert set(maps) == {"left", "right", "add"}
    np.testing.assert_allclose(maps["add"], maps["left"] + maps["right"], rtol=1e-5, atol=1e-6)
