"""layer_features, embed_features, plot_embedding and plot_tsne."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from PIL import Image

from cnnkit.applications import LeNet5
from cnnkit.layers import Conv2D, Dense, Dropout, Flatten, Input, MaxPooling2D
from cnnkit.models import Sequential
from cnnkit.viz import embed_features, layer_features, plot_embedding, plot_tsne


def _model() -> Sequential:
    return Sequential(
        [
            Input((8, 8, 1)),
            Conv2D(3, 3, activation="relu"),
            MaxPooling2D(2),
            Flatten(),
            Dense(5, activation="relu"),
            Dropout(0.5),
            Dense(2, activation="softmax"),
        ]
    )


def _blobs(n_per: int = 20, dim: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 10, (3, dim))
    labels = np.repeat(np.arange(3), n_per)
    return centres[labels] + rng.normal(0, 1, (len(labels), dim)), labels


def _neighbour_agreement(points: np.ndarray, labels: np.ndarray) -> float:
    d = ((points[:, None] - points[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    return float((labels[d.argmin(1)] == labels).mean())


def test_default_features_are_what_the_classifier_reads_and_batching_does_not_matter():
    model = _model()
    x = np.random.default_rng(0).random((7, 8, 8, 1), dtype=np.float32)
    features = layer_features(model, x, batch_size=3)
    with torch.no_grad():
        out = torch.from_numpy(x)
        for layer in model.layers[:4]:  # up to Dense(5); Dropout is identity in eval mode
            out = layer(out)
    assert features.shape == (7, 5) and features.dtype == np.float32
    np.testing.assert_allclose(features, out.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(features, layer_features(model, x, batch_size=100), rtol=1e-5)


def test_a_named_layer_is_flattened_per_sample():
    model = _model()
    x = np.random.default_rng(1).random((4, 8, 8), dtype=np.float32)  # channel axis added
    features = layer_features(model, x, layer="max_pooling2d")
    with torch.no_grad():
        expected = model.layers[1](model.layers[0](torch.from_numpy(x[..., None])))
    np.testing.assert_allclose(features, expected.reshape(4, -1).numpy(), rtol=1e-5)


@pytest.mark.parametrize(
    ("model", "x", "kwargs", "match"),
    [
        (_model, np.zeros((0, 8, 8, 1)), {}, r"no images were given"),
        (_model, np.zeros((2, 8, 8, 1)), {"batch_size": 0}, r"`batch_size` must be a positive"),
        (_model, np.zeros((2, 8, 8, 1)), {"layer": "dense_5"}, r"Unknown layer"),
        (_model, np.zeros((2, 9, 9, 1)), {}, r"does not match the model's input"),
        (
            lambda: Sequential([Input((8, 8, 1)), MaxPooling2D(2), Flatten()]),
            np.zeros((2, 8, 8, 1)),
            {},
            r"no layer with weights",
        ),
    ],
)
def test_extract_errors(model, x, kwargs, match):
    with pytest.raises(ValueError, match=match):
        layer_features(model(), x, **kwargs)


def test_pca_is_the_projection_on_the_two_leading_components():
    x, _ = _blobs()
    points = embed_features(x, method="pca")
    centred = x - x.mean(0)
    components = np.linalg.svd(centred, full_matrices=False)[2][:2]
    expected = centred @ components.T
    np.testing.assert_allclose(np.abs(points), np.abs(expected), rtol=1e-4, atol=1e-4)
    one_d = embed_features(np.arange(5.0)[:, None], method="pca")
    assert one_d.shape == (5, 2) and (one_d[:, 1] == 0).all()


def test_tsne_keeps_separated_classes_apart_and_is_seeded():
    x, labels = _blobs()
    points = embed_features(x, perplexity=10, seed=3)
    assert points.shape == (60, 2) and points.dtype == np.float32
    assert _neighbour_agreement(points, labels) == 1.0
    np.testing.assert_array_equal(points, embed_features(x, perplexity=10, seed=3))


@pytest.mark.parametrize(
    ("features", "kwargs", "match"),
    [
        (np.zeros((5, 3)), {"method": "tnse"}, r"Unknown embedding method 'tnse'.*'tsne'"),
        (np.zeros(5), {}, r"must be \(N, D\)"),
        (np.zeros((2, 3)), {}, r"tsne needs at least 3 samples"),
        (np.full((4, 2), np.nan), {}, r"NaN or infinity"),
        (np.zeros((4, 2)), {"perplexity": 4}, r"0 < perplexity < 4"),
        (np.zeros((4, 2)), {"n_threads": 0}, r"`n_threads` must be a positive integer"),
    ],
)
def test_embed_errors(features, kwargs, match):
    with pytest.raises(ValueError, match=match):
        embed_features(features, **kwargs)


def test_missing_scikit_learn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.decomposition", None)
    with pytest.raises(ImportError, match=r"needs scikit-learn.*pip install 'cnnkit\[viz\]'"):
        embed_features(np.zeros((4, 2)), method="pca")


def test_plot_embedding_colours_each_class_and_names_it(tmp_path):
    points, labels = np.random.default_rng(2).random((30, 2)), np.arange(30) % 3
    one_hot = np.eye(3)[labels]
    fig = plot_embedding(points, one_hot, ["cat", "dog", "bird"], tmp_path / "e.png")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["cat", "dog", "bird"]
    assert [len(c.get_offsets()) for c in ax.collections] == [10, 10, 10]
    colours = {tuple(c.get_facecolor()[0][:3]) for c in ax.collections}
    assert len(colours) == 3
    with Image.open(tmp_path / "e.png") as png:
        png.verify()


@pytest.mark.parametrize(
    ("points", "labels", "names", "match"),
    [
        (np.zeros((3, 3)), [0, 1, 2], None, r"`points` must have the shape \(N, 2\)"),
        (np.zeros((3, 2)), [0, 1], None, r"one label per sample"),
        (np.zeros((3, 2)), [0, -1, 2], None, r"class indices \(integers >= 0\)"),
        (np.zeros((3, 2)), [0.5, 1, 2], None, r"class indices"),
        (np.zeros((3, 2)), [0, 1, 2], ["a", "b"], r"at least 3 names"),
    ],
)
def test_plot_embedding_errors(points, labels, names, match):
    with pytest.raises(ValueError, match=match):
        plot_embedding(points, labels, names)


def test_plot_tsne_end_to_end(tmp_path):
    model = _model()
    x = np.random.default_rng(3).random((12, 8, 8, 1), dtype=np.float32)
    y = np.arange(12) % 2
    fig = plot_tsne(model, x, y, perplexity=4, path=tmp_path / "tsne.png", class_names=["a", "b"])
    assert "penultimate features (5-D), 12 images" in fig.axes[0].get_title()
    fig = plot_tsne(model, x, y, layer="conv2d", method="pca")
    assert fig.axes[0].get_title().startswith("PCA of sequential layer 'conv2d' (108-D)")
    with Image.open(tmp_path / "tsne.png") as png:
        png.verify()


def test_lenet5_features_are_the_84_values_its_last_dense_layer_reads():
    lenet = LeNet5(variant="relu")
    x = np.random.default_rng(4).random((6, 28, 28, 1), dtype=np.float32)
    features = layer_features(lenet, x)
    with torch.no_grad():
        expected = lenet.forward_head(lenet.forward_features(torch.from_numpy(x)), pre_logits=True)
    np.testing.assert_allclose(features, expected.numpy(), rtol=1e-5, atol=1e-6)
