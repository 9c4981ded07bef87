"""The added layers on a CUDA device: same outputs as on the CPU, gradients, adapt, training.

Skipped where no CUDA device exists (CI); run on a GPU machine to check device handling
(random draws made on the CPU generator and moved, index gathers, buffers).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnkit.layers import (
    ELU,
    Conv2D,
    Conv2DTranspose,
    Flatten,
    GlobalMaxPooling1D,
    Input,
    LayerNormalization,
    MaxPooling1D,
    Multiply,
    Normalization,
    PReLU,
    RandomContrast,
    RandomCrop,
    Reshape,
    Resizing,
    Softmax,
    SpatialDropout2D,
    UpSampling2D,
)
from cnnkit.models import Model, clone_model

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def build(data: np.ndarray) -> Model:
    norm = Normalization()
    norm.adapt(data)
    inputs = Input(shape=(12, 12, 3))
    x = RandomCrop(10, 10, seed=0)(RandomContrast(0.3, value_range=(0, 1), seed=0)(inputs))
    x = Conv2D(6, 3, strides=2, padding="same")(Resizing(12, 12)(norm(x)))
    x = SpatialDropout2D(0.2)(PReLU(shared_axes=[1, 2])(x))
    x = ELU()(Conv2DTranspose(4, 3, strides=2, padding="same")(x))
    x = UpSampling2D(interpolation="bilinear")(LayerNormalization()(x))
    x = Multiply()([x, Softmax(axis=[1, 2])(x)])
    x = GlobalMaxPooling1D()(MaxPooling1D(2)(Reshape((24 * 24, 4))(x)))
    return Model(inputs, Flatten()(x))


def test_cuda_matches_cpu_and_trains():
    rng = np.random.default_rng(0)
    data = rng.random((32, 12, 12, 3)).astype(np.float32)
    cpu = build(data)
    gpu = clone_model(cpu)
    gpu.set_weights(cpu.get_weights())
    gpu.to("cuda")
    cpu.eval(), gpu.eval()
    x = torch.from_numpy(data[:8])
    torch.testing.assert_close(gpu(x.cuda()).cpu(), cpu(x), rtol=1e-4, atol=1e-4)
    gpu.train()
    out = gpu(x.cuda(), training=True)  # the random layers draw on the CPU, apply on the GPU
    out.sum().backward()
    assert all(p.grad is not None and p.grad.is_cuda for p in gpu.parameters())
    again = Normalization()
    again.adapt(torch.from_numpy(data).cuda())
    first = next(layer for layer in cpu.layers if isinstance(layer, Normalization))
    torch.testing.assert_close(again.mean, first.mean, rtol=1e-5, atol=1e-6)
    gpu.compile(optimizer="adam", loss="mse", device="cuda")
    history = gpu.fit(data, np.zeros((32, 4), np.float32), epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"][0])
