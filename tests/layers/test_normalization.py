"""BatchNormalization against torch.nn.BatchNorm2d, Keras momentum, and trainable=False."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from cnnkit.layers import BatchNormalization, Input


def _pair(channels: int = 4) -> tuple[BatchNormalization, nn.BatchNorm2d]:
    layer = BatchNormalization(input_shape=(5, 5, channels))
    ref = nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01)
    with torch.no_grad():
        layer.weight.uniform_(0.5, 1.5)
        layer.bias.uniform_(-1, 1)
        ref.load_state_dict(layer.state_dict())
    return layer, ref


def test_training_and_inference_match_torch_batchnorm2d():
    layer, ref = _pair()
    x = torch.randn(8, 5, 5, 4) * 3 + 1
    y = layer(x)
    torch.testing.assert_close(y, ref(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1))
    assert y.is_contiguous()
    torch.testing.assert_close(layer.running_mean, ref.running_mean)
    torch.testing.assert_close(layer.running_var, ref.running_var)
    layer.eval()
    ref.eval()
    torch.testing.assert_close(layer(x), ref(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1))


def test_keras_momentum_convention():
    layer = BatchNormalization(momentum=0.9, input_shape=(3,))
    x = torch.tensor([[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]])
    layer(x)
    # Keras: moving = 0.9·moving + 0.1·batch_mean (moving starts at 0).
    torch.testing.assert_close(layer.running_mean, 0.1 * x.mean(0))


def test_state_dict_names_match_torch_and_keras_weight_order():
    layer = BatchNormalization(input_shape=(8, 8, 16))
    assert list(layer.state_dict()) == list(nn.BatchNorm2d(16).state_dict())
    gamma, beta, mean, var = layer.get_weights()
    assert [w.shape for w in (gamma, beta, mean, var)] == [(16,)] * 4
    assert gamma.sum() == 16 and var.sum() == 16 and not beta.any() and not mean.any()
    assert layer.count_params() == 32  # moving statistics are buffers
    assert layer.param_formula() == (
        "2 × 16 = 32 trainable (γ, β) + 2 × 16 = 32 moving statistics (buffers)"
    )


def test_trainable_false_freezes_and_uses_moving_statistics_in_train_mode():
    layer, _ = _pair()
    with torch.no_grad():
        layer.running_mean.fill_(0.5)
        layer.running_var.fill_(2.0)
    layer.trainable = False
    layer.train()
    x = torch.randn(8, 5, 5, 4)
    y = layer(x)
    expected = (x - 0.5) / torch.sqrt(torch.tensor(2.0 + 1e-3)) * layer.weight + layer.bias
    torch.testing.assert_close(y, expected)
    assert torch.all(layer.running_mean == 0.5) and int(layer.num_batches_tracked) == 0
    assert not any(p.requires_grad for p in layer.parameters())


def test_trainable_false_before_build_still_freezes():
    layer = BatchNormalization(trainable=False)
    layer(Input(shape=(4, 4, 3)))
    assert not any(p.requires_grad for p in layer.parameters())


def test_channels_first_axis_and_scale_center_off():
    layer = BatchNormalization(axis=1, center=False, scale=False)
    x = torch.randn(6, 3, 4, 4)
    y = layer(x)
    ref = nn.functional.batch_norm(x, None, None, training=True, eps=1e-3)
    torch.testing.assert_close(y, ref)
    assert layer.count_params() == 0 and len(layer.get_weights()) == 2
    np.testing.assert_allclose(layer.get_weights()[0], 0.01 * x.mean((0, 2, 3)).numpy(), atol=1e-6)


def test_keras_weight_lists_follow_trainable():
    layer = BatchNormalization(input_shape=(4, 4, 8))
    assert (len(layer.weights), len(layer.trainable_weights)) == (4, 2)
    assert len(layer.non_trainable_weights) == 2
    layer.trainable = False
    assert (len(layer.trainable_weights), len(layer.non_trainable_weights)) == (0, 4)
