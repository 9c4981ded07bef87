"""The generative examples run end to end on a few batches of real MNIST (quality: benchmarks/)."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TINY = ["--limit", "384", "--epochs", "1", "--batch-size", "64", "--verbose", "0"]


@pytest.fixture
def example(shared_data, monkeypatch):
    """``example(name)`` imports ``examples/<name>.py`` with MNIST read from the shared data."""
    monkeypatch.setenv("CNNKIT_DATA", str(shared_data))
    monkeypatch.syspath_prepend(str(EXAMPLES))  # the examples import their _mnist helper

    def load(name: str):
        spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    yield load
    sys.modules.pop("_mnist", None)


def _png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5_000


def test_denoising_autoencoder_scores_psnr_and_writes_its_grid(example, tmp_path):
    module = example("denoising_autoencoder")
    out = tmp_path / "denoise.png"
    scores = module.main([*TINY, "--out", str(out)])
    # Gaussian noise of std 0.5 clipped to [0, 1] on MNIST: about 9.4 dB
    assert 9.0 < scores["psnr_noisy_db"] < 10.0
    assert math.isfinite(scores["psnr_denoised_db"])
    assert scores["gain_db"] == pytest.approx(scores["psnr_denoised_db"] - scores["psnr_noisy_db"])
    assert _png(out)


def test_psnr_is_the_mean_per_image_decibels():
    ref = np.zeros((2, 2, 2, 1), np.float32)
    est = ref.copy()
    est[0] += 0.1  # MSE 0.01 -> 20 dB
    est[1] += 0.01  # MSE 1e-4 -> 40 dB
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec = importlib.util.spec_from_file_location(
            "dae_psnr", EXAMPLES / "denoising_autoencoder.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(EXAMPLES))
    assert module.psnr(ref, est) == pytest.approx(30.0, abs=1e-4)


def test_vae_reports_bounds_better_than_a_coin_per_pixel(example, tmp_path):
    module = example("vae")
    out = tmp_path / "vae.png"
    scores = module.main([*TINY, "--importance-samples", "4", "--out", str(out)])
    coin = 784 * math.log(2)  # 543.4 nats: every pixel a fair coin
    assert scores["test_neg_elbo"] < coin and scores["test_nll"] < coin
    # the importance-weighted bound is the tighter one (Burda et al.): never above the ELBO
    assert scores["test_nll"] <= scores["test_neg_elbo"] + 1e-3
    assert _png(out)


def test_dcgan_trains_two_optimizers_and_generates_digit_shaped_images(example, tmp_path):
    module = example("dcgan")
    out = tmp_path / "dcgan.png"
    gan = module.main([*TINY, "--out", str(out)])
    history = gan.history.history
    assert len(history["d_loss"]) == 1 and all(
        math.isfinite(history[k][0]) for k in ("d_loss", "g_loss")
    )
    for optimizer in (gan.d_optimizer, gan.g_optimizer):
        assert optimizer.learning_rate == pytest.approx(2e-4)
    images = module.generate(gan, 8, seed=1)
    assert images.shape == (8, 28, 28, 1) and np.isfinite(images).all()
    assert np.array_equal(images, module.generate(gan, 8, seed=1))  # seeded
    assert _png(out)
