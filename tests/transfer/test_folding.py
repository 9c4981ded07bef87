"""BatchNorm folding: which pairs fold, the copy matches the original, unsafe folds are refused."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from cnnkit.applications import VGG16, DenseNet121, ResNet18
from cnnkit.layers import BatchNormalization, Conv2D
from cnnkit.transfer import extract_features
from cnnkit.transfer._folding import FoldedBatchNorm, fold_batchnorm, folded_copy
from tests.transfer._models import small_lite0, two_class_images


def _randomise_statistics(model: nn.Module) -> nn.Module:
    """Non-trivial BN statistics and affine terms, so a wrong fold cannot pass."""
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, BatchNormalization):
                m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=gen) - 0.5)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.rand(m.bias.shape, generator=gen) - 0.5)
    return model.eval()


def _runner(shape: tuple[int, ...]):
    probe = torch.rand(2, *shape, generator=torch.Generator().manual_seed(1)) * 2 - 1

    def run(net: nn.Module) -> torch.Tensor:
        with torch.inference_mode():
            return net.forward_features(probe, training=False).float()

    return run


def _count(model: nn.Module, kind: type) -> int:
    return sum(isinstance(m, kind) for m in model.modules())


@pytest.mark.parametrize(
    ("build", "shape", "folds_all"),
    [
        (lambda: small_lite0(), (32, 32, 3), True),
        (lambda: ResNet18(include_top=False, input_shape=(32, 32, 3)), (32, 32, 3), True),
        # pre-activation: most BNs read a concatenation, not a conv output
        (lambda: DenseNet121(include_top=False, input_shape=(32, 32, 3)), (32, 32, 3), False),
    ],
)
def test_folded_copy_matches_and_leaves_the_original_alone(build, shape, folds_all):
    model = _randomise_statistics(build())
    before = {k: v.clone() for k, v in model.state_dict().items()}
    run = _runner(shape)
    bns = _count(model, BatchNormalization)
    folded, count = folded_copy(model, run)
    assert folded is not model and count > 0
    assert _count(folded, FoldedBatchNorm) == count
    assert _count(folded, BatchNormalization) == bns - count
    assert (count == bns) is folds_all
    expected, actual = run(model), run(folded)
    scale = expected.abs().max()
    assert scale > 1e-3  # a non-vacuous comparison
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=float(1e-4 * scale))
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


class _SkipAroundBatchNorm(nn.Module):
    """``bn(conv(x)) + conv(x)``: the conv output is read by the BN *and* by the sum."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = Conv2D(4, 3, padding="same", use_bias=False)
        self.bn = BatchNormalization()

    def forward_features(self, x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        c = self.conv(x)
        return self.bn(c, training=training) + c


def test_a_fold_that_changes_the_output_is_refused():
    model = _SkipAroundBatchNorm()
    model.forward_features(torch.zeros(1, 8, 8, 3))  # build
    _randomise_statistics(model)
    run = _runner((8, 8, 3))
    assert fold_batchnorm(copy.deepcopy(model), run) == 1  # the hooks do pair them...
    folded, count = folded_copy(model, run)
    assert folded is model and count == 0  # ...but the check against the original refuses


def test_a_network_without_batchnorm_is_returned_as_is():
    model = VGG16(include_top=False, input_shape=(32, 32, 3)).eval()
    calls = []
    folded, count = folded_copy(model, lambda net: calls.append(net))
    assert folded is model and count == 0 and calls == []


def test_extract_features_folds_only_when_asked_or_under_bf16():
    torch.manual_seed(0)
    model = _randomise_statistics(small_lite0())
    x, _ = two_class_images(6)
    exact, _ = extract_features(model, x, precision="float32", verbose=False)
    folded, _ = extract_features(model, x, precision="float32", fold_batchnorm=True, verbose=False)
    np.testing.assert_allclose(folded, exact, rtol=1e-4, atol=1e-4 * np.abs(exact).max())
    assert not np.array_equal(folded, exact)  # the folded body really ran
    assert _count(model, FoldedBatchNorm) == 0 and _count(model, BatchNormalization) == 49
