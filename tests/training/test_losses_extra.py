"""Keras' extra losses against hand-worked values and SciPy/scikit-learn, and Keras' call."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import special
from scipy.spatial import distance
from sklearn.metrics import hinge_loss

from cnnkit import losses
from cnnkit.training import Trainer

RNG = np.random.default_rng(3)
A = RNG.normal(size=(5, 4)).astype(np.float32)
B = RNG.normal(size=(5, 4)).astype(np.float32)


def _t(a) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float32))


def _per_sample(loss, y, p) -> np.ndarray:
    return loss.unreduced(_t(y), _t(p)).numpy()


def test_huber_hand_value_and_scipy():
    # |e| = 0.5 -> 0.5 * 0.25 = 0.125; |e| = 3 -> 1 * 3 - 0.5 = 2.5; mean 1.3125
    assert losses.Huber()(_t([[0.0, 0.0]]), _t([[0.5, 3.0]])).item() == pytest.approx(1.3125)
    expected = special.huber(0.7, A - B).mean(-1)
    np.testing.assert_allclose(_per_sample(losses.Huber(delta=0.7), A, B), expected, rtol=1e-5)


def test_log_cosh_hand_value_and_large_errors_do_not_overflow():
    np.testing.assert_allclose(
        _per_sample(losses.LogCosh(), A, B), np.log(np.cosh(B - A)).mean(-1), rtol=1e-5
    )
    # log cosh 100 = 100 - log 2 (cosh itself overflows float32 there)
    big = losses.LogCosh()(_t([[0.0]]), _t([[100.0]])).item()
    assert big == pytest.approx(100.0 - np.log(2.0), rel=1e-6)


def test_kl_divergence_matches_scipy_relative_entropy():
    p = special.softmax(A, axis=-1)
    q = special.softmax(B, axis=-1)
    expected = special.rel_entr(p, q).sum(-1)
    np.testing.assert_allclose(_per_sample(losses.KLDivergence(), p, q), expected, rtol=1e-5)
    # identical distributions: zero
    assert losses.KLDivergence()(_t(p), _t(p)).item() == pytest.approx(0.0, abs=1e-6)


def test_poisson_hand_value():
    # rate 2, count 3: 2 - 3·log 2 = -0.07944
    assert losses.Poisson()(_t([[3.0]]), _t([[2.0]])).item() == pytest.approx(2 - 3 * np.log(2))


def test_cosine_similarity_is_the_negative_of_scipys_similarity():
    expected = np.array([distance.cosine(a, b) - 1.0 for a, b in zip(A, B, strict=True)])
    got = _per_sample(losses.CosineSimilarity(), A, B)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_hinge_matches_scikit_learn_and_maps_zero_one_labels():
    labels = np.array([1, 0, 1, 1, 0])
    scores = A[:, 0]
    expected = hinge_loss(labels * 2 - 1, scores)
    got = losses.Hinge()(_t(labels[:, None]), _t(scores[:, None])).item()
    assert got == pytest.approx(expected, rel=1e-6)
    margins = np.maximum(1 - (labels * 2 - 1) * scores, 0)
    squared = losses.SquaredHinge()(_t(labels[:, None]), _t(scores[:, None])).item()
    assert squared == pytest.approx((margins**2).mean(), rel=1e-6)


def test_binary_focal_crossentropy_hand_value_logits_and_balancing():
    # y = 1, p = 0.9: bce = -log 0.9; (1 - 0.9)^2 = 0.01
    focal = losses.BinaryFocalCrossentropy()(_t([[1.0]]), _t([[0.9]])).item()
    assert focal == pytest.approx(-0.01 * np.log(0.9), rel=1e-5)
    balanced = losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.25)
    assert balanced(_t([[1.0]]), _t([[0.9]])).item() == pytest.approx(
        -0.25 * 0.01 * np.log(0.9), rel=1e-5
    )
    y = (A > 0).astype(np.float32)
    from_probs = _per_sample(losses.BinaryFocalCrossentropy(gamma=1.5), y, special.expit(B))
    from_logits = _per_sample(losses.BinaryFocalCrossentropy(gamma=1.5, from_logits=True), y, B)
    np.testing.assert_allclose(from_probs, from_logits, rtol=1e-4)
    # gamma = 0 is plain binary crossentropy
    plain = _per_sample(losses.BinaryCrossentropy(from_logits=True), y, B)
    zero = _per_sample(losses.BinaryFocalCrossentropy(gamma=0.0, from_logits=True), y, B)
    np.testing.assert_allclose(zero, plain, rtol=1e-5)


def test_keras_call_reduces_weights_and_none_keeps_samples():
    mse = losses.MeanSquaredError()
    per = ((A - B) ** 2).mean(-1)
    assert mse(_t(A), _t(B)).ndim == 0
    assert mse(_t(A), _t(B)).item() == pytest.approx(per.mean(), rel=1e-5)
    w = np.array([1.0, 0.0, 2.0, 0.5, 1.0], np.float32)
    assert mse(_t(A), _t(B), sample_weight=w).item() == pytest.approx((per * w).mean(), rel=1e-5)
    kept = losses.MeanSquaredError(reduction=None)(_t(A), _t(B))
    np.testing.assert_allclose(kept.numpy(), per, rtol=1e-5)
    # Keras' functions keep the unreduced (batch, H, W) shape for image outputs
    images = torch.rand(2, 3, 3, 1)
    assert losses.binary_crossentropy(images, images.clamp(0.1, 0.9)).shape == (2, 3, 3)
    assert losses.huber(_t(A), _t(B)).shape == (5,)


@pytest.mark.parametrize(
    "name", ["huber", "log_cosh", "kld", "poisson", "cosine_similarity", "hinge", "squared_hinge",
             "binary_focal_crossentropy"],
)  # fmt: skip
def test_losses_resolve_by_keras_name_and_round_trip_their_config(name):
    loss = losses.get(name)
    rebuilt = type(loss)(**loss.get_config())
    np.testing.assert_allclose(
        _per_sample(rebuilt, special.expit(A), special.expit(B)),
        _per_sample(loss, special.expit(A), special.expit(B)),
    )


def test_bad_arguments_raise_template_errors():
    with pytest.raises(ValueError, match=r"Huber: `delta` must be > 0.*Received: delta=0"):
        losses.Huber(delta=0)
    with pytest.raises(ValueError, match=r"Huber takes no `from_logits`.*from_logits=True"):
        losses.Huber(from_logits=True)
    with pytest.raises(ValueError, match=r"`gamma` must be >= 0.*gamma=-1"):
        losses.BinaryFocalCrossentropy(gamma=-1)
    with pytest.raises(ValueError, match=r"loss 'hubber'.*Did you mean 'huber'"):
        losses.get("hubber")


def test_fit_with_huber_learns_a_linear_map():
    torch.manual_seed(0)
    x = RNG.normal(size=(256, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)
    model = torch.nn.Linear(3, 1)
    trainer = Trainer(model, optimizer="adam", loss="huber", metrics=["mae"])
    before = trainer.evaluate(x, y, verbose=0)
    trainer.optimizer.param_groups[0]["lr"] = 0.05
    trainer.fit(x, y, batch_size=32, epochs=15, verbose=0)
    loss, mae = trainer.evaluate(x, y, verbose=0)
    assert loss < 0.1 * before[0] and mae < 0.2
