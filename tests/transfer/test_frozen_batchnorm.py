"""Keras pitfall #9214: a frozen body's BatchNormalization must not update its statistics in fit."""

from __future__ import annotations

import torch

from cnnkit.applications import EfficientNetLite0
from cnnkit.layers import BatchNormalization
from cnnkit.transfer import freeze
from tests.transfer._models import SIZE, two_class_images


def _stats(model: torch.nn.Module) -> list[torch.Tensor]:
    return [
        t.clone()
        for m in model.modules()
        if isinstance(m, BatchNormalization)
        for t in (m.running_mean, m.running_var)
    ]


def _fit_one_epoch(frozen: bool) -> tuple[list[torch.Tensor], list[torch.Tensor], torch.nn.Module]:
    torch.manual_seed(0)
    model = EfficientNetLite0(weights=None, input_shape=(SIZE, SIZE, 3), classes=2)
    if frozen:
        freeze(model)
    before = _stats(model)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = two_class_images(16)
    model.fit(x / 127.5 - 1, y, batch_size=8, epochs=1, verbose=0)
    return before, _stats(model), model


def test_frozen_body_keeps_running_statistics_during_fit():
    before, after, model = _fit_one_epoch(frozen=True)
    assert len(before) == 2 * 49  # running mean and variance of all 49 BatchNormalization layers
    for b, a in zip(before, after, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert model.fc.weight.requires_grad and not model.conv_stem.weight.requires_grad


def test_control_an_unfrozen_body_does_update_them():
    before, after, _ = _fit_one_epoch(frozen=False)
    assert any(not torch.equal(b, a) for b, a in zip(before, after, strict=True))
