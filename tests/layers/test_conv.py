"""Conv1D / Conv2D / DepthwiseConv2D / SeparableConv2D against torch and NumPy references."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnkit.layers import Conv1D, Conv2D, DepthwiseConv2D, Input, SeparableConv2D


def _nhwc(*shape: int, dtype=torch.float32) -> torch.Tensor:
    return torch.randn(*shape, dtype=dtype)


@pytest.mark.parametrize(
    ("kwargs", "torch_padding"),
    [
        ({"kernel_size": 3}, 0),
        ({"kernel_size": 3, "padding": "same"}, 1),
        ({"kernel_size": (3, 5), "strides": (2, 1), "padding": 1}, 1),
        ({"kernel_size": 3, "dilation_rate": 2, "padding": (2, 2)}, 2),
        ({"kernel_size": 3, "groups": 2, "padding": "same"}, 1),
    ],
)
def test_conv2d_matches_torch_functional(kwargs, torch_padding):
    x = _nhwc(2, 9, 11, 4)
    layer = Conv2D(6, **kwargs)
    y = layer(x)
    ref = F.conv2d(
        x.permute(0, 3, 1, 2),
        layer.weight,
        layer.bias,
        layer.strides,
        torch_padding,
        layer.dilation_rate,
        layer.groups,
    ).permute(0, 2, 3, 1)
    torch.testing.assert_close(y, ref)
    assert layer.compute_output_shape((None, 9, 11, 4)) == (None, *y.shape[1:])


def test_conv2d_channels_last_output_is_contiguous_nhwc():
    x = _nhwc(2, 16, 16, 8)
    for layer in (Conv2D(5, 3), Conv2D(5, 4, strides=2, padding="same")):
        y = layer(x)
        assert y.is_contiguous(), "NHWC output should be a free view of channels_last memory"


def test_conv2d_channels_first_takes_nchw():
    x = _nhwc(2, 3, 10, 10)
    layer = Conv2D(4, 3, data_format="channels_first", padding="same")
    y = layer(x)
    assert y.shape == (2, 4, 10, 10)
    torch.testing.assert_close(y, F.conv2d(x, layer.weight, layer.bias, padding=1))
    assert layer.compute_output_shape((None, 3, 10, 10)) == (None, 4, 10, 10)


def test_conv1d_matches_torch_and_causal_padding():
    x = _nhwc(2, 12, 3)
    layer = Conv1D(5, 3, padding="causal", dilation_rate=2)
    y = layer(x)
    ref = F.conv1d(F.pad(x.permute(0, 2, 1), (4, 0)), layer.weight, layer.bias, dilation=2)
    torch.testing.assert_close(y, ref.permute(0, 2, 1))
    assert y.shape == (2, 12, 5)
    assert layer.get_weights()[0].shape == (3, 3, 5)


def test_depthwise_matches_grouped_torch_conv_and_keras_layout():
    x = _nhwc(2, 8, 8, 3)
    layer = DepthwiseConv2D(3, depth_multiplier=2, padding="same")
    y = layer(x)
    ref = F.conv2d(x.permute(0, 3, 1, 2), layer.weight, layer.bias, padding=1, groups=3)
    torch.testing.assert_close(y, ref.permute(0, 2, 3, 1))
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 3, 3, 2) and bias.shape == (6,)
    # Keras semantics: output channel c·m + j = input channel c filtered by kernel[..., c, j].
    ref = F.conv2d(
        x[..., 1:2].permute(0, 3, 1, 2),
        torch.from_numpy(kernel[:, :, 1:2, 1:2]).permute(3, 2, 0, 1),
        padding=1,
    )
    torch.testing.assert_close(y[..., 3:4], ref.permute(0, 2, 3, 1) + float(bias[3]))
    assert layer.count_params() == 3 * 3 * 3 * 2 + 6


def test_separable_equals_depthwise_then_pointwise():
    x = _nhwc(2, 9, 9, 4)
    layer = SeparableConv2D(7, 3, strides=2, padding="same", depth_multiplier=2)
    y = layer(x)
    dw = F.conv2d(
        F.pad(x.permute(0, 3, 1, 2), (1, 1, 1, 1)), layer.depthwise_weight, None, 2, groups=4
    )
    ref = F.conv2d(dw, layer.pointwise_weight, layer.bias).permute(0, 2, 3, 1)
    torch.testing.assert_close(y, ref)
    shapes = [w.shape for w in layer.get_weights()]
    assert shapes == [(3, 3, 4, 2), (1, 1, 8, 7), (7,)]  # Keras order and layout
    assert layer.count_params() == 3 * 3 * 4 * 2 + 8 * 7 + 7


@pytest.mark.parametrize(
    ("make", "shape"),
    [
        (lambda s: Conv2D(3, 2, strides=2, padding="same", input_shape=s), (5, 5, 2)),
        (
            lambda s: DepthwiseConv2D(3, depth_multiplier=2, padding="same", input_shape=s),
            (5, 5, 2),
        ),
        (lambda s: SeparableConv2D(2, 2, padding="same", input_shape=s), (5, 5, 2)),
        (lambda s: Conv1D(2, 3, padding="causal", input_shape=s), (6, 2)),
    ],
)
def test_gradcheck_float64(make, shape):
    """Gradients of the custom pieces (asymmetric pad, depthwise, separable, causal) in float64."""
    layer = make(shape).double()
    x = torch.randn(1, *shape, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: layer(t), (x,))
    params = tuple(layer.parameters())
    assert torch.autograd.gradcheck(lambda *ps: _call_with(layer, x.detach(), ps), params)


def _call_with(layer, x, params):
    return torch.func.functional_call(
        layer, dict(zip(dict(layer.named_parameters()), params, strict=True)), (x,)
    )


def test_get_set_weights_round_trip_in_keras_layout():
    layer = Conv2D(4, (3, 2), input_shape=(6, 6, 5))
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 2, 5, 4) and bias.shape == (4,)
    np.testing.assert_array_equal(kernel, layer.weight.detach().permute(2, 3, 1, 0).numpy())
    new_kernel = np.arange(kernel.size, dtype=np.float32).reshape(kernel.shape)
    layer.set_weights([new_kernel, np.ones(4, np.float32)])
    np.testing.assert_array_equal(layer.get_weights()[0], new_kernel)
    assert layer.weight.is_contiguous()


def test_lenet5_parameter_counts_and_formulas():
    x = Input(shape=(32, 32, 1))
    c1 = Conv2D(6, 5, activation="tanh")
    y = c1(x)
    assert c1.count_params() == 156
    assert c1.param_formula() == "6 × (5×5×1) + 6 = 156"
    assert c1.output_size_formula(x.shape) == "(32 − 5) / 1 + 1 = 28"
    assert c1.macs(x.shape, y.shape) == 28 * 28 * 6 * 5 * 5 * 1
    c3 = Conv2D(16, 5)
    z = c3(Input(shape=(14, 14, 6)))
    assert c3.count_params() == 2416 and z.shape == (None, 10, 10, 16)


def test_same_stride2_formula_and_unknown_spatial_sizes():
    layer = Conv2D(8, 3, strides=2, padding="same")
    y = layer(Input(shape=(None, None, 3)))
    assert y.shape == (None, None, None, 8)
    assert layer.output_size_formula((None, 7, 7, 3)) == "ceil(7 / 2) = 4"
    assert layer.output_size_formula((None, 7, 9, 3)) == "H: ceil(7 / 2) = 4; W: ceil(9 / 2) = 5"
    assert layer(torch.zeros(1, 7, 9, 3)).shape == (1, 4, 5, 8)


def test_glorot_uniform_default_bounds_and_zero_bias():
    layer = Conv2D(64, 3, input_shape=(8, 8, 32))
    limit = np.sqrt(6 / (3 * 3 * 32 + 3 * 3 * 64))
    kernel, bias = layer.get_weights()
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
    assert not bias.any()


def test_asymmetric_explicit_padding_formula_per_axis():
    layer = Conv2D(2, 3, padding=((0, 2), (1, 0)))
    assert layer(Input(shape=(5, 6, 1))).shape == (None, 5, 5, 2)
    assert layer.output_size_formula((None, 5, 6, 1)) == (
        "H: (5 + 0 + 2 − 3) / 1 + 1 = 5; W: (6 + 1 + 0 − 3) / 1 + 1 = 5"
    )


def test_depthwise_loads_a_torch_grouped_conv_state_dict():
    ref = torch.nn.Conv2d(4, 8, 3, stride=2, padding=1, groups=4, bias=False)
    layer = DepthwiseConv2D(3, strides=2, padding=1, depth_multiplier=2, use_bias=False)
    layer(Input(shape=(9, 9, 4)))
    layer.load_state_dict(ref.state_dict())
    x = torch.randn(2, 9, 9, 4)
    torch.testing.assert_close(layer(x), ref(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1))
