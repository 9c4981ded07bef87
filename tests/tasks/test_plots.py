"""The task plots draw what they say (boxes kept by score, titles that say so)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from cnnkit.datasets import CanvasBatch
from cnnkit.tasks import _plots


def _one_canvas() -> CanvasBatch:
    boxes = np.zeros((1, 2, 4), np.float32)
    boxes[0, 0] = (4, 4, 20, 20)
    return CanvasBatch(
        images=np.zeros((1, 32, 32, 1), np.uint8),
        boxes=boxes,
        labels=np.array([[3, -1]]),
        masks=np.zeros((1, 32, 32), np.uint8),
        counts=np.array([1]),
    )


def _drawn(monkeypatch, tmp_path, **kwargs):
    figures = []

    def keep(fig, path):
        figures.append(fig)
        return path

    monkeypatch.setattr(_plots, "_save", keep)
    prediction = {
        "boxes": np.array([[5, 5, 19, 19], [0, 0, 8, 8]], np.float32),
        "scores": np.array([0.9, 0.1], np.float32),
        "labels": np.array([3, 7]),
    }
    _plots.plot_boxes(_one_canvas().images, [prediction], _one_canvas(), tmp_path / "b.png",
                      "detections", n=1, **kwargs)  # fmt: skip
    (fig,) = figures
    ax = fig.axes[0]
    return len(ax.patches), [t.get_text() for t in ax.texts], fig._suptitle.get_text()


def test_plot_boxes_draws_every_prediction_by_default(monkeypatch, tmp_path):
    patches, texts, title = _drawn(monkeypatch, tmp_path)
    assert patches == 3  # one true box, two predictions
    assert texts == ["3 0.90", "7 0.10"]
    assert title == "detections"


def test_plot_boxes_leaves_out_predictions_below_min_score(monkeypatch, tmp_path):
    patches, texts, title = _drawn(monkeypatch, tmp_path, min_score=0.3)
    assert patches == 2
    assert texts == ["3 0.90"]
    assert title == "detections (score >= 0.3)"
