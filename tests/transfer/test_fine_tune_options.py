"""fine_tune options: augment="flip", schedule, precision, folder inputs, callbacks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from cnnkit.callbacks import CosineDecay, ModelCheckpoint
from cnnkit.models import load_model
from cnnkit.transfer import fine_tune, freeze, model_units, replace_head
from cnnkit.transfer._extract import inference_layout, run_units
from cnnkit.transfer._tune_data import MirroredBatches, cache_cuts
from tests.transfer._models import small_lite0, two_class_images


def test_mirrored_cache_rows_are_the_prefix_of_mirrored_images():
    torch.manual_seed(0)
    model = replace_head(small_lite0(), 2)
    freeze(model)
    units = model_units(model)
    x, y = two_class_images(6)
    x[:, :, : x.shape[2] // 2] *= 0.5  # left half darker: mirroring changes the image
    early, late, labels, used = cache_cuts(model, units, (10, 14), (x, y), 4, mirrored=True)
    assert used == "float32"  # the default: exact
    assert early.shape[0] == late.shape[0] == 12
    np.testing.assert_array_equal(labels, np.concatenate([y, y]))
    with inference_layout(model), torch.no_grad():
        flipped = torch.from_numpy(np.ascontiguousarray(x[:, :, ::-1]))
        expected = run_units(units[:10], flipped).numpy()
        plain = run_units(units[:10], torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(early[6:], expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(early[:6], plain, rtol=1e-4, atol=1e-5)
    assert np.abs(early[6:] - early[:6]).max() > 1e-3


def test_fine_tune_reports_mirrored_rows_and_none_turns_them_off():
    x, y = two_class_images(8)
    common = {"classes": 2, "head_epochs": 1, "epochs": 1, "batch_size": 4, "verbose": 0}
    flipped = fine_tune(small_lite0(), (x, y), (x, y), **common)
    assert "cached: 8 training images and their mirror images" in str(flipped)
    assert flipped.head_history.params["steps"] == 4  # 16 cached rows / batch 4
    plain = fine_tune(small_lite0(), (x, y), (x, y), augment=None, **common)
    assert "cached: 8 training images →" in str(plain)
    assert plain.head_history.params["steps"] == 2


def test_mirrored_batches_flip_about_half_of_the_images_repeatably():
    x = np.arange(40 * 2 * 3 * 1, dtype=np.float32).reshape(40, 2, 3, 1)
    y = np.arange(40)
    torch.manual_seed(0)
    batches = list(MirroredBatches((x, y), batch_size=16))
    assert [len(b[1]) for b in batches] == [16, 16, 8]
    flips = 0
    for xb, yb in batches:
        for image, label in zip(xb.numpy(), yb.numpy(), strict=True):
            original = x[label]
            if np.array_equal(image, original[:, ::-1]):
                flips += 1
            else:
                np.testing.assert_array_equal(image, original)
    assert 10 <= flips <= 30
    torch.manual_seed(0)
    again = list(MirroredBatches((x, y), batch_size=16))
    for (a, ya), (b, yb) in zip(batches, again, strict=True):
        assert torch.equal(a, b) and torch.equal(ya, yb)


def test_unknown_augment_is_a_template_error():
    x, y = two_class_images(4)
    with pytest.raises(ValueError, match=r"augment.*'rotate'.*flip"):
        fine_tune(small_lite0(), (x, y), classes=2, augment="rotate", verbose=0)


def _write_folder(root, x, y) -> None:
    for i, (image, label) in enumerate(zip(x, y, strict=True)):
        folder = root / ("bright" if label else "dark")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image.astype(np.uint8)).save(folder / f"{i:03d}.png")


@pytest.mark.parametrize("cache", [True, False])
def test_folders_are_read_as_datasets(tmp_path, cache):
    x, y = two_class_images(8)
    _write_folder(tmp_path / "train", x, y)
    _write_folder(tmp_path / "val", x[:4], y[:4])
    result = fine_tune(
        small_lite0(),
        str(tmp_path / "train"),
        tmp_path / "val",
        head_epochs=1,
        epochs=1,
        batch_size=4,
        cache=cache,
        verbose=0,
    )
    assert result.val_predictions.shape == (4, 2)
    # files are read class folder by class folder, ["bright", "dark"]: 2 bright, then 2 dark
    np.testing.assert_array_equal(result.val_labels, [0, 0, 1, 1])


def test_callbacks_see_the_stage_optimizer_and_checkpoints_save_the_whole_model(tmp_path):
    torch.manual_seed(0)
    x, y = two_class_images(8)
    path = tmp_path / "best.cnnkit"
    callbacks = [CosineDecay(1e-2), ModelCheckpoint(str(path))]
    result = fine_tune(
        small_lite0(),
        (x, y),
        (x, y),
        classes=2,
        head_epochs=2,
        epochs=1,
        lr=1e-2,
        batch_size=8,
        callbacks=callbacks,
        verbose=0,
    )
    rates = result.head_history.history["learning_rate"]
    assert rates[-1] < rates[0] <= 1e-2  # the schedule moved the rate of the cached stage
    restored = load_model(path)
    restored.eval()
    result.model.eval()
    with torch.no_grad():
        images = torch.from_numpy(x)
        np.testing.assert_allclose(
            restored(images).numpy(), result.model(images).numpy(), rtol=1e-4, atol=1e-5
        )


def test_constant_schedule_and_a_bf16_caching_pass():
    x, y = two_class_images(8)
    result = fine_tune(
        small_lite0(),
        (x, y),
        (x, y),
        classes=2,
        head_epochs=1,
        epochs=2,
        lr=1e-2,
        schedule=None,
        precision="bf16",
        batch_size=8,
        verbose=0,
    )
    assert result.history["learning_rate"] == pytest.approx([1e-2, 1e-3, 1e-3])
    assert "bf16)" in result.lines[0]
    assert "cosine" not in str(result)


def test_unknown_schedule_and_precision_are_template_errors():
    x, y = two_class_images(4)
    with pytest.raises(ValueError, match=r"schedule.*'linear'.*cosine"):
        fine_tune(small_lite0(), (x, y), classes=2, schedule="linear", verbose=0)
    with pytest.raises(ValueError, match=r"precision.*'fp8'"):
        fine_tune(small_lite0(), (x, y), classes=2, precision="fp8", verbose=0)


def test_a_bf16_caching_pass_runs_a_batchnorm_folded_copy(monkeypatch):
    import cnnkit.transfer._folding as folding

    folds: list[int] = []
    original = folding.folded_copy

    def spy(model, run, **kwargs):
        copy, count = original(model, run, **kwargs)
        folds.append(count)
        return copy, count

    monkeypatch.setattr(folding, "folded_copy", spy)
    torch.manual_seed(0)
    model = replace_head(small_lite0(), 2)
    freeze(model)
    units = model_units(model)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = two_class_images(6)
    exact = cache_cuts(model, units, (10, 14), (x, y), 4, precision="float32")
    fast = cache_cuts(model, units, (10, 14), (x, y), 4, precision="bf16")
    assert folds and folds[0] > 0 and fast[3] == "bf16"
    for a, b in zip(fast[:2], exact[:2], strict=True):
        relative = np.linalg.norm(a - b) / np.linalg.norm(b)
        assert 0 < relative < 0.3  # bf16 rounding, amplified by this random-weight body
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_a_cache_larger_than_the_memory_budget_is_refused_before_it_fills(monkeypatch):
    import cnnkit.transfer._tune_data as tune_data

    x, y = two_class_images(16)
    calls: list[int] = []
    real = tune_data.run_units

    def counting(units, inputs, training=None):
        calls.append(inputs.shape[0])
        return real(units, inputs, training)

    monkeypatch.setattr(tune_data, "run_units", counting)
    monkeypatch.setattr(tune_data, "cache_budget_bytes", lambda: 10_000)
    with pytest.raises(ValueError, match=r"would not fit in memory.*cache=False") as error:
        fine_tune(small_lite0(), (x, y), classes=2, batch_size=4, precision="float32", verbose=0)
    assert "for 16 images" in str(error.value)
    assert len(calls) <= 4  # stopped after the first batch (2 views x 2 cuts), not 4 batches
    monkeypatch.undo()
    assert tune_data.cache_budget_bytes() > 10**8  # half of this machine's memory
