"""Dense, Flatten, Dropout, activations, Rescaling and ZeroPadding2D."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnkit.layers import (
    ACTIVATIONS,
    Activation,
    AveragePooling2D,
    AvgPool2D,
    Conv2D,
    Convolution2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    GlobalAvgPool2D,
    Input,
    LeakyReLU,
    MaxPool2D,
    MaxPooling2D,
    ReLU,
    Rescaling,
    Reshape,
    ZeroPadding2D,
)


def test_dense_matches_linear_and_keras_layout():
    x = torch.randn(4, 7)
    layer = Dense(3, activation="relu")
    y = layer(x)
    torch.testing.assert_close(y, F.relu(F.linear(x, layer.weight, layer.bias)))
    kernel, bias = layer.get_weights()
    assert kernel.shape == (7, 3) and bias.shape == (3,)
    np.testing.assert_allclose(
        np.maximum(x.numpy() @ kernel + bias, 0), y.detach().numpy(), atol=1e-5, rtol=1e-5
    )


def test_dense_parameter_counts_and_formula():
    x = Input(shape=(400,))
    layer = Dense(120)
    layer(x)
    assert layer.count_params() == 48_120
    assert layer.param_formula() == "400 × 120 + 120 = 48,120"
    assert layer.macs((None, 400), (None, 120)) == 48_000
    mlp = [
        Dense(512, input_shape=(784,)),
        Dense(512, input_shape=(512,)),
        Dense(10, input_shape=(512,)),
    ]
    assert sum(m.count_params() for m in mlp) == 669_706


def test_dense_on_rank3_applies_to_last_axis():
    layer = Dense(5)
    assert layer(Input(shape=(7, 3))).shape == (None, 7, 5)
    assert layer(torch.randn(2, 7, 3)).shape == (2, 7, 5)


def test_flatten_is_hwc_order_and_free():
    x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)
    y = Flatten()(x)
    assert y.shape == (2, 60)
    assert y.data_ptr() == x.data_ptr()  # a view, no copy
    torch.testing.assert_close(y[1], x[1].reshape(-1))
    cf = Flatten(data_format="channels_first")
    torch.testing.assert_close(cf(x.permute(0, 3, 1, 2)), y)
    layer = Flatten()
    assert layer(Input(shape=(5, 5, 16))).shape == (None, 400)
    assert layer.output_size_formula((None, 5, 5, 16)) == "5×5×16 = 400"


def test_dropout_training_vs_inference_and_noise_shape():
    torch.manual_seed(0)
    x = torch.ones(64, 4, 4, 8)
    layer = Dropout(0.5)
    layer.eval()
    assert torch.equal(layer(x), x)
    layer.train()
    y = layer(x)
    assert set(y.unique().tolist()) <= {0.0, 2.0}
    assert 0.4 < (y == 0).float().mean().item() < 0.6
    spatial = Dropout(0.5, noise_shape=(None, 1, 1, 8))
    spatial.train()
    z = spatial(x)
    assert (z == z[:, :1, :1, :]).all(), "whole channels are dropped together"
    assert torch.equal(layer(x, training=False), x)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_by_name_matches_torch(name):
    x = torch.linspace(-3, 3, 24).reshape(2, 12)
    torch_fns = {
        "linear": lambda t: t,
        "relu": F.relu,
        "relu6": F.relu6,
        "leaky_relu": lambda t: F.leaky_relu(t, 0.2),
        "elu": F.elu,
        "selu": F.selu,
        "gelu": F.gelu,
        "swish": F.silu,
        "silu": F.silu,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "softplus": F.softplus,
        "softmax": lambda t: torch.softmax(t, -1),
    }
    torch.testing.assert_close(Activation(name)(x), torch_fns[name](x))
    torch.testing.assert_close(Activation(name.upper())(x), torch_fns[name](x))


def test_relu_variants_and_leaky_relu():
    x = torch.linspace(-4, 8, 25)[None]
    torch.testing.assert_close(ReLU()(x), F.relu(x))
    torch.testing.assert_close(ReLU(max_value=6)(x), F.relu6(x))
    leaky = ReLU(negative_slope=0.1, threshold=1.0)(x)
    torch.testing.assert_close(leaky, torch.where(x >= 1, x, 0.1 * (x - 1)))
    torch.testing.assert_close(LeakyReLU()(x), F.leaky_relu(x, 0.3))
    torch.testing.assert_close(LeakyReLU(alpha=0.2)(x), F.leaky_relu(x, 0.2))


def test_relu6_gradient_is_zero_at_both_ends_as_in_tensorflow():
    x = torch.tensor([[-1.0, 0.0, 3.0, 6.0, 7.0]], requires_grad=True)
    ReLU(max_value=6)(x).sum().backward()
    torch.testing.assert_close(x.grad, torch.tensor([[0.0, 0.0, 1.0, 0.0, 0.0]]))
    capped = ReLU(max_value=2, negative_slope=0.5)(torch.tensor([[-2.0, 1.0, 5.0]]))
    torch.testing.assert_close(capped, torch.tensor([[-1.0, 1.0, 2.0]]))


def test_rescaling_and_zero_padding():
    x = torch.full((1, 2, 3, 1), 255.0)
    torch.testing.assert_close(Rescaling(1 / 127.5, offset=-1)(x), torch.ones_like(x))
    pad = ZeroPadding2D(((1, 2), (0, 3)))
    y = pad(x)
    assert y.shape == (1, 5, 6, 1)
    assert y.sum() == 255 * 6 and y[0, 1, 0, 0] == 255 and y[0, 0, 0, 0] == 0
    assert pad.compute_output_shape((None, 2, 3, 1)) == (None, 5, 6, 1)
    assert pad.output_size_formula((None, 2, 3, 1)) == "H: 2 + 1 + 2 = 5; W: 3 + 0 + 3 = 6"
    cf = ZeroPadding2D(1, data_format="channels_first")
    assert cf(torch.ones(1, 2, 3, 3)).shape == (1, 2, 5, 5)


def test_reshape_with_inferred_axis():
    layer = Reshape((-1, 4))
    assert layer(Input(shape=(2, 3, 4))).shape == (None, 6, 4)
    x = torch.arange(24.0).reshape(1, 2, 3, 4)
    torch.testing.assert_close(layer(x), x.reshape(1, 6, 4))
    assert Reshape((28, 28, 1))(Input(shape=(784,))).shape == (None, 28, 28, 1)
    with pytest.raises(ValueError, match=r"Reshape 'reshape_2': cannot reshape a sample of 10"):
        Reshape((3, -1))(Input(shape=(10,)))


def test_keras_aliases_are_the_same_classes():
    assert MaxPool2D is MaxPooling2D and AvgPool2D is AveragePooling2D
    assert Convolution2D is Conv2D and GlobalAvgPool2D is GlobalAveragePooling2D
    assert MaxPool2D().name == "max_pooling2d"


def test_keras2_weights_argument_sets_initial_weights():
    kernel = np.arange(6, dtype=np.float32).reshape(3, 2)
    layer = Dense(2, weights=[kernel, np.ones(2, np.float32)])
    y = layer(torch.ones(1, 3))
    torch.testing.assert_close(y, torch.tensor([[7.0, 10.0]]))


def test_torch_state_dicts_load_directly():
    conv, linear = torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.Linear(8, 4)
    ours_conv = Conv2D(8, 3, padding="same", input_shape=(6, 6, 3))
    ours_dense = Dense(4, input_shape=(8,))
    ours_conv.load_state_dict(conv.state_dict())
    ours_dense.load_state_dict(linear.state_dict())
    x = torch.randn(2, 6, 6, 3)
    torch.testing.assert_close(ours_conv(x), conv(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1))
    features = torch.randn(2, 8)
    torch.testing.assert_close(ours_dense(features), linear(features))


def test_softmax_and_sigmoid_outputs_are_float32_under_bf16_autocast():
    torch.manual_seed(0)
    x = torch.randn(4, 16)
    for activation in ("softmax", "sigmoid"):
        layer = Dense(10, activation=activation)
        layer(x)  # build
        with torch.autocast("cpu", dtype=torch.bfloat16):
            probs = layer(x)
        assert probs.dtype == torch.float32
        if activation == "softmax":
            torch.testing.assert_close(probs.sum(dim=1), torch.ones(4), atol=1e-6, rtol=0)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert Dense(3, activation="relu")(x).dtype == torch.bfloat16  # others stay bf16
