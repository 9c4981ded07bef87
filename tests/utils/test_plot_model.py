"""``plot_model``: a real diagram of Sequential and functional graphs, drawn with matplotlib."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PIL import Image

from cnnkit import layers
from cnnkit.models import Model, Sequential
from cnnkit.utils import plot_model
from cnnkit.utils._plot_model import _boxes, _layout

pytest.importorskip("matplotlib")

OPTIONS = dict.fromkeys(
    ("show_shapes", "show_dtype", "show_layer_names", "expand_nested",
     "show_layer_activations", "show_trainable"), False,
)  # fmt: skip


def lenet5() -> Sequential:
    return Sequential([
        layers.Input((28, 28, 1)), layers.Conv2D(6, 5, padding="same", activation="tanh"),
        layers.AveragePooling2D(), layers.Conv2D(16, 5, activation="tanh"),
        layers.AveragePooling2D(), layers.Flatten(), layers.Dense(120, activation="tanh"),
        layers.Dense(84, activation="tanh"), layers.Dense(10, activation="softmax"),
    ])  # fmt: skip


def small_resnet() -> Model:
    inputs = layers.Input((32, 32, 3))
    x = layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
    branch = layers.Conv2D(16, 3, padding="same", activation="relu")(x)
    branch = layers.Conv2D(16, 3, padding="same")(branch)
    x = layers.Activation("relu")(layers.add([x, branch]))
    x = layers.GlobalAveragePooling2D()(x)
    return Model(inputs, layers.Dense(10, activation="softmax")(x))


def _dark_fraction(path) -> float:
    pixels = np.asarray(Image.open(path).convert("L"))
    return float((pixels < 128).mean())


def test_sequential_is_a_chain_under_an_input_box_with_shapes(tmp_path):
    model = lenet5()
    boxes = _boxes(model, {**OPTIONS, "show_shapes": True, "show_layer_names": True})
    assert [b.lines[0] for b in boxes[:2]] == ["input (InputLayer)", "conv2d (Conv2D)"]
    assert boxes[1].lines[1:] == ["input:  (None, 28, 28, 1)", "output: (None, 28, 28, 6)"]
    assert all(b.inputs == [a.key] for a, b in itertools.pairwise(boxes))
    path = tmp_path / "lenet.png"
    plot_model(model, to_file=path, show_shapes=True, dpi=60)
    image = Image.open(path)
    assert image.format == "PNG" and image.height > 3 * image.width  # a tall chain
    assert 0.005 < _dark_fraction(path) < 0.3  # text and boxes, not blank, not a blot


def test_functional_branch_and_merge_sit_side_by_side(tmp_path):
    model = small_resnet()
    boxes = _boxes(model, {**OPTIONS, "show_shapes": True})
    by_key = {b.key: b for b in boxes}
    add = next(b for b in boxes if b.lines[0] == "Add")
    assert len(add.inputs) == 2
    assert add.lines[1] == "input:  (None, 32, 32, 16), (None, 32, 32, 16)"
    paths = _layout(boxes)
    shortcut = next(p for p in paths if p[-1] is add and p[0].key == add.inputs[0])
    assert len(shortcut) == 4 and all(b.virtual for b in shortcut[1:-1])  # skips 2 ranks
    branch = [by_key[k] for k in by_key if k.startswith("conv2d_")]
    for waypoint, conv in zip(shortcut[1:-1], branch, strict=True):
        assert waypoint.rank == conv.rank
        apart = abs(waypoint.x - conv.x) - (waypoint.size[0] + conv.size[0]) / 2
        assert apart > 0  # the shortcut runs beside the branch, not through it
    for rankdir in ("TB", "LR"):
        path = tmp_path / f"resnet_{rankdir}.png"
        plot_model(model, to_file=path, show_shapes=True, rankdir=rankdir, dpi=60)
        width, height = Image.open(path).size
        assert (height > width) == (rankdir == "TB")


def test_options_add_their_lines(tmp_path):
    boxes = _boxes(lenet5(), {**OPTIONS, "show_layer_activations": True, "show_dtype": True,
                              "show_trainable": True})  # fmt: skip
    assert boxes[1].lines == ["Conv2D", "activation: tanh", "dtype: float32", "trainable: yes"]
    assert plot_model(lenet5(), to_file=tmp_path / "m.svg") is None
    assert (tmp_path / "m.svg").read_text().lstrip().startswith("<?xml")


def test_bad_arguments_are_refused_by_the_template(tmp_path):
    with pytest.raises(ValueError, match=r"rankdir.*Received: rankdir='BT'"):
        plot_model(lenet5(), to_file=tmp_path / "m.png", rankdir="BT")
    with pytest.raises(ValueError, match=r"unsupported file type.*'\.png', '\.pdf', '\.svg'"):
        plot_model(lenet5(), to_file=tmp_path / "m.dot")
    with pytest.raises(TypeError, match=r"must be a cnnkit model.*Received: model='str'"):
        plot_model("model", to_file=tmp_path / "m.png")
