"""Mixed precision and memory layout in ``compile``: CPU fp32 vs CPU bf16 autocast losses
agree (the course's "stable results between CPU and GPU", checked here on the CPU), and
``channels_last=True`` changes strides, not results.

Tolerance (also in docs/benchmarks.md): over 6 epochs of 4 batches of LeNet-5 (Adam 3e-3)
on 256 real MNIST digits, each epoch's mean loss under bf16 autocast is within 0.05 (absolute,
in nats) of float32's, and both fall below 60% of their first epoch. bf16 keeps 8 significant
bits (relative rounding 2^-9); the per-step error compounds, so the gap is stated in absolute
terms (measured: at most 0.015, at a loss of 0.41 after 24 steps; relative 3.6% there).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnkit.applications import LeNet5
from cnnkit.datasets import mnist
from cnnkit.training import Trainer
from cnnkit.training._engine import fast_precision, native_bf16
from cnnkit.training.optimizers import Adam
from cnnkit.transfer._extract import resolve_precision
from cnnkit.utils import set_random_seed

BF16_ABSOLUTE_TOLERANCE = 0.05


def _losses(x: np.ndarray, y: np.ndarray, **compile_kwargs) -> list[float]:
    set_random_seed(0)
    model = LeNet5(variant="relu", input_shape=(28, 28, 1), classes=10)
    model.compile(
        optimizer=Adam(learning_rate=3e-3),
        loss="sparse_categorical_crossentropy",
        device="cpu",
        **compile_kwargs,
    )
    history = model.fit(x, y, epochs=6, batch_size=64, shuffle=False, verbose=0)
    return history.history["loss"]


@pytest.fixture
def digits(shared_data, monkeypatch):
    monkeypatch.setenv("CNNKIT_DATA", str(shared_data))
    (x, y), _ = mnist.load_data()
    return (x[:256, ..., None] / 255.0).astype(np.float32), y[:256]


def test_bf16_autocast_losses_agree_with_fp32(digits):
    fp32 = _losses(*digits)
    bf16 = _losses(*digits, mixed_precision="bf16")
    gap = np.abs(np.subtract(bf16, fp32))
    print("fp32", np.round(fp32, 4), "bf16", np.round(bf16, 4), "gap", np.round(gap, 4))
    assert fp32[-1] < 0.6 * fp32[0] and bf16[-1] < 0.6 * bf16[0]  # both really learn
    assert gap.max() <= BF16_ABSOLUTE_TOLERANCE


def test_channels_last_changes_strides_not_results(digits):
    plain = _losses(*digits)
    converted = _losses(*digits, channels_last=True)
    np.testing.assert_allclose(converted, plain, rtol=1e-4)


def test_channels_last_weights_and_round_trip(tmp_path):
    from cnnkit.models import load_model

    model = LeNet5(variant="relu", input_shape=(28, 28, 1), classes=10)
    model.compile(loss="sparse_categorical_crossentropy", device="cpu", channels_last=True)
    weight = next(p for p in model.parameters() if p.ndim == 4)
    assert weight.is_contiguous(memory_format=torch.channels_last)
    model.save(tmp_path / "m.cnnkit")
    again = load_model(tmp_path / "m.cnnkit")
    x = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_channels_last_must_be_a_bool():
    with pytest.raises(
        TypeError, match=r"`channels_last` must be True or False.*channels_last='yes'"
    ):
        Trainer(torch.nn.Linear(2, 2), loss="mse", device="cpu", channels_last="yes")


def test_one_bf16_detection_everywhere():
    cpu = torch.device("cpu")
    assert resolve_precision("auto", cpu) == ("bf16" if native_bf16(cpu) else "float32")
    if not torch.cuda.is_available():
        assert fast_precision() == ("bf16" if native_bf16(cpu) else None)
