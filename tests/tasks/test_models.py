"""Task models: tiny trainings that beat chance, decoding, losses against formulas, save/load."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnkit.datasets import DigitCanvases
from cnnkit.models import load_model
from cnnkit.optimizers import Adam
from cnnkit.preprocessing._transform import augment_batch
from cnnkit.tasks import (
    CanvasSequence,
    ContrastiveLoss,
    Detector,
    TripletLoss,
    TwoViewBatches,
    build_detector,
    build_embedding,
    build_fcn,
    build_localizer,
    build_unet,
    detection_targets,
    evaluate_localizer,
    evaluate_segmenter,
    localization_loss,
    localization_targets,
    segmentation_loss,
    segmentation_targets,
    train_task,
)
from cnnkit.tasks._siamese import VIEW_AUGMENT


def _bars(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Two classes of 28×28 glyphs: horizontal bars (0) and vertical bars (1)."""
    rng = np.random.default_rng(0)
    images = np.zeros((n, 28, 28), np.uint8)
    labels = np.arange(n) % 2
    for i in range(n):
        a, b = rng.integers(4, 8), rng.integers(14, 24)
        if labels[i]:
            images[i, a : a + b, 10:16] = 255
        else:
            images[i, 10:16, a : a + b] = 255
    return images, labels


def _canvases(**kwargs) -> DigitCanvases:
    base = {"size": 48, "num_objects": 1, "scale": (0.5, 0.8), "batch_size": 32}
    return DigitCanvases(*_bars(), **(base | kwargs))


def test_tiny_localizer_beats_chance_and_round_trips(tmp_path):
    torch.manual_seed(0)
    model = build_localizer((48, 48, 1), num_classes=2, filters=(16, 16))
    model.compile(optimizer=Adam(5e-3), loss=localization_loss)
    canvases = _canvases(num_canvases=256, seed=0)
    targets = CanvasSequence(canvases, lambda b: localization_targets(b, 2))
    history = model.fit(targets, epochs=3, verbose=0).history["loss"]
    test = _canvases(num_canvases=128, seed=99).take(128)
    scores = evaluate_localizer(model, test)
    # Chance is 0.5. (Boxes need far more steps than a test can afford: the
    # benchmark's 1,000-canvas figure is where mean IoU is measured.)
    assert scores["class_accuracy"] > 0.8, scores
    assert history[-1] < 0.7 * history[0], history
    model.save(tmp_path / "loc.cnnkit")
    again = evaluate_localizer(load_model(tmp_path / "loc.cnnkit"), test)
    assert again == scores


def test_detector_decodes_its_own_targets_exactly():
    batch = DigitCanvases(*_bars(), size=64, num_objects=(1, 4), scale=(0.6, 1.0), seed=3).batch(0)
    grid = torch.from_numpy(detection_targets(batch, 2))
    # Targets as if predicted: heat 1 -> logit +20, elsewhere a large negative logit.
    logits = torch.where(grid[..., :2] == 1, 20.0, -20.0)
    fake = torch.cat([logits, grid[..., 2:]], dim=-1)
    detector = Detector(model=None)
    for i in range(8):
        found = detector._decode(fake[i])
        n = batch.counts[i]
        order = np.lexsort((found["boxes"][:, 1], found["boxes"][:, 0]))
        truth = np.lexsort((batch.boxes[i, :n, 1], batch.boxes[i, :n, 0]))
        np.testing.assert_allclose(found["boxes"][order], batch.boxes[i, :n][truth], atol=1e-4)
        assert (found["labels"][order] == batch.labels[i, :n][truth]).all()


def test_siamese_losses_match_their_formulas():
    rng = np.random.default_rng(0)
    e = torch.from_numpy(rng.normal(size=(6, 4)).astype(np.float32))
    y = torch.tensor([0, 0, 1, 1, 2, 2])
    n = torch.nn.functional.normalize(e, dim=-1).numpy()
    d = np.linalg.norm(n[:, None] - n[None], axis=-1)
    same = (y[:, None] == y[None]).numpy()
    trip = TripletLoss(margin=0.3).per_sample(y, e, False).numpy()
    want = [max(0, d[i][same[i]].max() - d[i][~same[i]].min() + 0.3) for i in range(6)]
    np.testing.assert_allclose(trip, want, rtol=1e-5, atol=1e-6)
    con = ContrastiveLoss(margin=1.0).per_sample(y, e, False).numpy()
    pair = np.where(same, d**2, np.maximum(0, 1 - d) ** 2)
    np.fill_diagonal(pair, 0)
    np.testing.assert_allclose(con, pair.sum(1) / 5, rtol=1e-4, atol=1e-6)


def test_triplet_instance_term_treats_each_image_as_its_own_class():
    rng = np.random.default_rng(1)
    e = torch.from_numpy(rng.normal(size=(8, 5)).astype(np.float32))
    y = torch.tensor([0, 0, 1, 1, 0, 0, 1, 1])
    n = torch.nn.functional.normalize(e, dim=-1).numpy()
    d = np.linalg.norm(n[:, None] - n[None], axis=-1)

    def batch_hard(labels):
        same = labels[:, None] == labels[None]
        return np.array(
            [max(0, d[i][same[i]].max() - d[i][~same[i]].min() + 0.3) for i in range(8)]
        )

    image = np.arange(8) % 4  # rows i and i + 4 are two views of one image
    got = TripletLoss(margin=0.3, instance_weight=2.0).per_sample(y, e, False).numpy()
    want = batch_hard(y.numpy()) + 2.0 * batch_hard(image)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert TripletLoss(instance_weight=2.0).get_config()["instance_weight"] == 2.0
    with pytest.raises(ValueError, match="even size"):
        TripletLoss(instance_weight=1.0).per_sample(y[:7], e[:7], False)


def test_two_view_batches_pair_views_and_label_turns():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(40, 28, 28, 1)).astype(np.float32)
    labels = np.arange(40) % 5
    views = TwoViewBatches(images, labels, batch_size=8, seed=3)
    assert len(views) == 5
    x, y = views[1]
    assert x.shape == (16, 28, 28, 1) and y.shape == (16,)
    assert (y[:8] == y[8:]).all()
    # Each label is 4 * class + turns, a half turn of a 0 or 1 being the same class.
    rows = views._order[8:16]
    assert (y[:8] // 4 == labels[rows]).all()
    assert (y[:8][np.isin(labels[rows], (0, 1))] % 4 < 2).all()
    assert not np.array_equal(x[:8], x[8:])  # two independent warps
    again = TwoViewBatches(images, labels, batch_size=8, seed=3)[1]
    np.testing.assert_array_equal(again[0], x)
    first = views._order.copy()
    views.on_epoch_end()
    assert not np.array_equal(views._order, first)
    plain = TwoViewBatches(images, labels, batch_size=8, quarter_turns=False)
    assert (plain[0][1][:8] == labels[plain._order[:8]]).all()  # labels kept as they are
    # Rebuilt from the same seeded draws: turn each image on its own, then warp twice.
    rng = np.random.default_rng((3, 0, 1))
    turns = rng.integers(0, 4, 8)
    raw = torch.from_numpy(images[rows])
    turned = torch.stack(
        [torch.rot90(im, int(k), dims=(0, 1)) for im, k in zip(raw, turns, strict=True)]
    )
    want = torch.cat([augment_batch(turned, VIEW_AUGMENT, rng) for _ in range(2)])
    np.testing.assert_array_equal(x, want.numpy())
    alike = np.isin(labels[rows], (0, 1))
    assert (y[:8] % 4 == np.where(alike, turns % 2, turns)).all()
    with pytest.raises(ValueError, match="batch_size=64"):
        TwoViewBatches(images, labels)
    with pytest.raises(ValueError, match="square"):
        TwoViewBatches(images[:, :, :20], labels, batch_size=8)


def test_segmentation_loss_prefers_the_truth():
    batch = _canvases(num_objects=2, size=48, seed=1).batch(0)
    target = torch.from_numpy(segmentation_targets(batch, 3))
    right = segmentation_loss(target, target * 20.0)
    wrong = segmentation_loss(target, target.roll(1, dims=-1) * 20.0)
    assert (right < 0.05).all() and (wrong > 1).all()


def test_segmenters_start_at_the_background_prior():
    x = np.zeros((1, 32, 32, 1), np.float32)
    for build in (build_unet, build_fcn):
        probs = torch.as_tensor(build(input_shape=(32, 32, 1)).predict(x, verbose=0)).softmax(-1)
        # Random weights move the logits a little; the bias prior dominates.
        assert 0.8 < float(probs[..., 0].mean()) < 1.0, build.__name__


def test_tiny_unet_segments_both_classes_well_above_chance():
    torch.manual_seed(0)
    model = build_unet((48, 48, 1), num_classes=3, filters=(8, 16, 16))
    model.compile(optimizer=Adam(3e-3), loss=segmentation_loss)
    canvases = _canvases(num_canvases=384, seed=0, scale=(0.9, 1.2), batch_size=16)
    model.fit(CanvasSequence(canvases, lambda b: segmentation_targets(b, 3)), epochs=2, verbose=0)
    test = _canvases(num_canvases=64, seed=99, scale=(0.9, 1.2)).take(64)
    scores = evaluate_segmenter(model, test, num_classes=3)
    # All-background scores IoU 0 on both bar classes (mean ~0.32); a coin per stroke pixel ~0.3.
    assert min(scores["iou"][1:]) > 0.5, scores


@pytest.mark.parametrize(
    ("build", "shape", "out"),
    [
        (build_unet, (64, 64, 1), (64, 64, 11)),
        (build_fcn, (64, 64, 1), (64, 64, 11)),
        (build_detector, (64, 64, 1), (16, 16, 14)),
        (build_embedding, (28, 28, 1), (128,)),
    ],
)
def test_builders_output_shapes_and_round_trip(build, shape, out, tmp_path):
    model = build(input_shape=shape)
    x = np.random.default_rng(0).integers(0, 255, (2, *shape)).astype(np.float32)
    y = model.predict(x, verbose=0)
    assert y.shape == (2, *out)
    model.save(tmp_path / "m.cnnkit")
    np.testing.assert_allclose(load_model(tmp_path / "m.cnnkit").predict(x, verbose=0), y, 1e-5)


def test_unknown_task_is_refused():
    with pytest.raises(ValueError, match=r"Unknown task 'segmnet'.*Did you mean 'segment'"):
        train_task("segmnet")
