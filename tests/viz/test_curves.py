"""plot_history: the PNG, the stage markers, and its errors."""

from __future__ import annotations

import matplotlib.axes
import pytest
from PIL import Image

from cnnkit.viz import plot_history

HISTORY = {
    "loss": [0.9, 0.5, 0.3, 0.2],
    "val_loss": [1.0, 0.6, 0.4, 0.35],
    "accuracy": [0.6, 0.8, 0.9, 0.95],
    "val_accuracy": [0.55, 0.75, 0.85, 0.9],
}


def test_two_panels_and_a_stage_line_before_its_first_epoch(tmp_path, monkeypatch):
    lines: list[float] = []
    original = matplotlib.axes.Axes.axvline

    def spy(self, x=0, *args, **kwargs):
        lines.append(x)
        return original(self, x, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "axvline", spy)
    path = plot_history(HISTORY, tmp_path / "curves.png", title="t", stages={"fine-tune": 3})
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] > image.size[1]
    assert lines == [2.5, 2.5]  # loss and accuracy panels, between epochs 2 and 3


def test_without_stages_nothing_is_marked(tmp_path, monkeypatch):
    lines: list[float] = []
    monkeypatch.setattr(matplotlib.axes.Axes, "axvline", lambda self, x=0, **k: lines.append(x))
    plot_history({"loss": [1.0, 0.5]}, tmp_path / "loss.png")
    assert lines == []


def test_errors(tmp_path):
    with pytest.raises(TypeError, match=r"`history` must be a History or a dict"):
        plot_history([0.1], tmp_path / "a.png")
    with pytest.raises(ValueError, match=r"no 'loss' curve.*Received: keys=\['accuracy'\]"):
        plot_history({"accuracy": [0.5]}, tmp_path / "a.png")
    with pytest.raises(
        ValueError, match=r"stage 'fine-tune' must start at an epoch between 2 and 4"
    ):
        plot_history(HISTORY, tmp_path / "a.png", stages={"fine-tune": 5})
    with pytest.raises(TypeError, match=r"`stages` must be a dict"):
        plot_history(HISTORY, tmp_path / "a.png", stages=[3])
    assert not (tmp_path / "a.png").exists()
