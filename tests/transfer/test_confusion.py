"""Confusion matrix counts (vs a hand count and scikit-learn) and its PNG."""

from __future__ import annotations

import numpy as np
import pytest

from cnnkit.viz import confusion_matrix, plot_confusion_matrix


def test_counts_by_hand():
    cm = confusion_matrix([0, 0, 1, 1, 2], [0, 1, 1, 1, 0])
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 2, 0], [1, 0, 0]])


def test_matches_scikit_learn_on_scores_and_one_hot():
    from sklearn.metrics import confusion_matrix as sk_confusion

    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 200)
    scores = rng.random((200, 4))
    expected = sk_confusion(y, scores.argmax(1), labels=range(4))
    np.testing.assert_array_equal(confusion_matrix(np.eye(4)[y], scores), expected)


def test_sigmoid_column_is_thresholded():
    cm = confusion_matrix([0, 1, 1], np.array([[0.2], [0.7], [0.4]]))
    np.testing.assert_array_equal(cm, [[1, 0], [1, 1]])


def test_errors():
    with pytest.raises(ValueError, match=r"same number of samples.*Received: len\(y_true\)=2"):
        confusion_matrix([0, 1], [0])
    with pytest.raises(ValueError, match=r"a label is >= `num_classes`.*num_classes >= 3"):
        confusion_matrix([0, 2], [0, 1], num_classes=2)
    with pytest.raises(ValueError, match=r"`y_true` must hold class indices"):
        confusion_matrix([-1, 0], [0, 0])
    with pytest.raises(ValueError, match=r"non-empty square.*Received: matrix.shape=\(2, 3\)"):
        plot_confusion_matrix(np.zeros((2, 3)), "x.png")
    with pytest.raises(ValueError, match=r"one class name per row.*len\(class_names\)=1"):
        plot_confusion_matrix(np.eye(2), "x.png", class_names=["cat"])


def test_png_is_written(tmp_path):
    from PIL import Image

    path = plot_confusion_matrix(
        np.array([[148, 2], [1, 149]]), tmp_path / "cm.png", class_names=["cats", "dogs"]
    )
    with Image.open(path) as image:
        assert image.format == "PNG" and min(image.size) > 200
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
