"""fit trains GoogLeNet's auxiliary heads: their loss (weight 0.3 each) joins the main loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnkit.applications import GoogLeNet
from cnnkit.losses import SparseCategoricalCrossentropy

SHAPE = (96, 96, 3)  # the smallest size whose auxiliary heads' 5x5 pooling has input left


def _googlenet(aux: bool) -> GoogLeNet:
    torch.manual_seed(0)
    return GoogLeNet(aux_logits=aux, weights=None, classes=3, input_shape=SHAPE)


def _data(n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.uniform(0, 255, (n, *SHAPE)).astype(np.float32), np.arange(n) % 3


def test_fit_updates_the_auxiliary_heads_and_they_stay_out_of_predictions():
    model = _googlenet(aux=True)
    before = {k: v.clone() for k, v in model.state_dict().items() if k.startswith("aux")}
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, y = _data()
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    after = model.state_dict()
    changed = [k for k, v in before.items() if not torch.equal(v, after[k])]
    assert any(k.startswith("aux1.") for k in changed) and any(
        k.startswith("aux2.") for k in changed
    )
    probs = model.predict(x[:2], verbose=0)
    assert probs.shape == (2, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert model.aux_outputs is None  # inference does not run the auxiliary heads


def test_the_training_loss_is_main_plus_0_3_times_each_auxiliary_loss():
    model = _googlenet(aux=True)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    trainer = model._trainer
    x, y = _data(4)
    xb, yb = torch.from_numpy(x), torch.from_numpy(y)
    model.train()
    torch.manual_seed(1)
    y_pred = trainer._forward_for_loss(xb)  # logits: the final softmax is switched off
    total = trainer._loss_value(yb, y_pred, None).detach()
    cross = SparseCategoricalCrossentropy(from_logits=True)
    main = cross(yb, y_pred).mean().detach()
    aux1, aux2 = (cross(yb, out).mean().detach() for out in model.aux_outputs)
    assert float(aux1) > 0 and float(aux2) > 0
    assert float(total) == pytest.approx(float(main + 0.3 * (aux1 + aux2)), rel=1e-6)


def test_without_auxiliary_heads_the_loss_is_the_main_loss():
    model = _googlenet(aux=False)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    trainer = model._trainer
    x, y = _data(4)
    xb, yb = torch.from_numpy(x), torch.from_numpy(y)
    y_pred = trainer._forward_for_loss(xb)
    main = SparseCategoricalCrossentropy(from_logits=True)(yb, y_pred).mean()
    total = trainer._loss_value(yb, y_pred, None).detach()
    assert float(total) == pytest.approx(float(main.detach()), rel=1e-6)
