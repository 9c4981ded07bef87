"""model.summary(): rows, totals, BatchNorm buffers, formulas, cost, renderings, errors."""

from __future__ import annotations

import json

import pytest
import torch

from cnnkit.layers import (
    Add,
    BatchNormalization,
    Conv2D,
    Dense,
    Flatten,
    GlobalAveragePooling2D,
    Input,
)
from cnnkit.models import Model, ModelSummary, Sequential
from tests.models.test_model import TinyNet


def quiet(model, **kwargs) -> ModelSummary:
    return model.summary(show=False, **kwargs)


def bn_model() -> Sequential:
    return Sequential([Conv2D(8, 3, input_shape=(10, 10, 3)), BatchNormalization(), Flatten(),
                       Dense(4)])  # fmt: skip


def test_batchnorm_statistics_are_buffers_with_keras_total():
    summary = quiet(bn_model())
    assert summary.total_params == 224 + 16 + 2052
    assert summary.buffer_values == 16  # moving mean + variance of 8 channels
    assert summary.keras_total_params == summary.total_params + 16
    text = summary.to_text()
    assert "Buffers (statistics, e.g. BatchNorm moving mean/variance): 16 (64.00 B)" in text
    assert "Keras counts these statistics (BatchNormalization moving mean/variance" in text
    assert f"Keras-equivalent total: {summary.total_params + 16:,}" in text


def test_frozen_layers_are_non_trainable():
    model = bn_model()
    model.layers[0].trainable = False
    summary = quiet(model)
    assert summary.trainable_params == 16 + 2052
    assert summary.non_trainable_params == 224
    assert summary.rows[0].trainable_params == 0


def test_functional_summary_has_connected_to_and_shared_rows():
    inputs = Input(shape=(6, 6, 2))
    conv = Conv2D(2, 3, padding="same", name="conv")
    x = Add(name="add")([inputs, conv(inputs)])
    y = conv(x)  # second call of the same layer
    model = Model(inputs, GlobalAveragePooling2D(name="gap")(y))
    summary = quiet(model)
    assert summary.show_connected
    by_name = [(r.name, r.type, r.connected_to, r.params) for r in summary.rows]
    assert by_name == [
        ("input_layer", "InputLayer", [], 0),
        ("conv", "Conv2D", ["input_layer[0][0]"], 38),
        ("add", "Add", ["input_layer[0][0]", "conv[0][0]"], 0),
        ("conv", "Conv2D (shared)", ["add[0][0]"], 0),
        ("gap", "GlobalAveragePooling2D", ["conv[1][0]"], 0),
    ]
    assert "Connected to" in summary.to_text()
    assert summary.total_params == 38
    # both calls of the shared conv cost MACs
    assert summary.total_macs == 2 * 6 * 6 * 2 * (3 * 3 * 2)


def test_subclassed_model_is_traced_without_touching_state():
    model = TinyNet()
    before = model.bn.running_var.clone()
    summary = quiet(model, cost=True)
    assert [r.name for r in summary.rows] == [
        "conv", "bn", "blocks.0", "blocks.1", "pool", "fc",
    ]  # fmt: skip
    assert [r.output_shape for r in summary.rows][:3] == [
        (None, 8, 8, 5), (None, 8, 8, 5), (None, 6, 6, 6),
    ]  # fmt: skip
    assert summary.total_params == model.count_params()
    assert summary.rows[0].macs == 8 * 8 * 5 * 3 * 3 * 3
    assert torch.equal(model.bn.running_var, before)
    assert model.training


def test_nested_model_rows_expand_without_double_counting():
    inner = Sequential([Dense(4, input_shape=(3,)), Dense(2)], name="inner")
    inputs = Input(shape=(3,))
    outer = Model(inputs, Dense(1, name="head")(inner(inputs)))
    expanded = quiet(outer, cost=True)
    names = [(r.name, r.depth, r.counted) for r in expanded.rows]
    assert names == [("input_layer", 0, True), ("inner", 0, False), ("dense", 1, True),
                     ("dense_1", 1, True), ("head", 0, True)]  # fmt: skip
    flat = quiet(outer, cost=True, expand_nested=False)
    assert [r.name for r in flat.rows] == ["input_layer", "inner", "head"]
    assert flat.total_macs == expanded.total_macs == 12 + 8 + 2
    assert flat.activation_values == expanded.activation_values == 3 + 4 + 2 + 1


def test_cost_lines_and_training_memory():
    model = Sequential([Dense(10, input_shape=(5,))])
    summary = quiet(model, cost=True, batch_size=4, optimizer="momentum")
    t = summary.training
    assert (t.weights_bytes, t.gradients_bytes, t.optimizer_bytes) == (240, 240, 240)
    assert t.activations_bytes == (5 + 10) * 4 * 2 * 4
    assert t.total_bytes == 240 * 3 + 480
    text = summary.to_text()
    assert "FLOPs = 2 × MACs" in text
    assert "MACs per image: 50" in text
    assert "optimizer state 1×" in text


def test_renderings_carry_the_same_data():
    summary = quiet(bn_model(), formulas=True, cost=True)
    data = json.loads(summary.to_json())
    assert data["total_params"] == summary.total_params
    assert data["rows"][0]["output_shape"] == [None, 8, 8, 8]
    assert data["flops"] == 2 * summary.total_macs
    assert data["training"]["total_bytes"] == summary.training.total_bytes
    markdown = summary.to_markdown()
    assert "| conv2d (Conv2D) | (None, 8, 8, 8) | 224 |" in markdown
    assert "8 × (3×3×3) + 8 = 224" in markdown
    assert markdown.count("\n|") == len(summary.rows) + 2  # header, rule, one line per row


def test_prints_with_rich_by_default(capsys):
    returned = bn_model().summary()
    out = capsys.readouterr().out
    assert isinstance(returned, ModelSummary)
    assert "┃ Layer (type)" in out and "Total params: 2,292" in out


def test_print_fn_gets_plain_lines():
    lines: list[str] = []
    bn_model().summary(print_fn=lines.append)
    assert any(line.startswith("Total params:") for line in lines)


def test_errors():
    unbuilt = Sequential([Conv2D(4, 3), Dense(2)])
    with pytest.raises(
        ValueError,
        match=r"Cannot summarize model 'sequential': its input shape "
        r"is unknown.*`input_shape=\(H, W, C\)`.*model\.build\(\(None, H, W, C\)\)",
    ):
        unbuilt.summary()
    with pytest.raises(ValueError, match=r"Unknown optimizer 'adamm'.*Did you mean 'adam'"):
        quiet(bn_model(), cost=True, optimizer="adamm")
    with pytest.raises(ValueError, match=r"`batch_size` must be a positive integer"):
        quiet(bn_model(), batch_size=0)
    with pytest.raises(TypeError, match=r"`print_fn` must be callable"):
        bn_model().summary(print_fn="stdout")
    inputs = Input(shape=(None, None, 3))
    any_size = Model(inputs, GlobalAveragePooling2D()(Conv2D(2, 3)(inputs)))
    assert quiet(any_size).rows[1].output_shape == (None, None, None, 2)
    with pytest.raises(
        ValueError,
        match=r"summary\(cost=True\) \(MACs and memory depend on it\) "
        r"of model .* needs a fully known input shape",
    ):
        quiet(any_size, cost=True)


def test_repr_is_short():
    macs = 8 * 8 * 8 * (3 * 3 * 3) + 512 * 4  # conv + dense; BatchNorm counts 0
    assert repr(quiet(bn_model())) == (
        f"<ModelSummary 'sequential': 4 rows, 2,292 params, {macs:,} MACs>"
    )


def test_keras_summary_arguments():
    model = bn_model()
    model.layers[0].trainable = False
    lines: list[str] = []
    summary = model.summary(
        print_fn=lines.append, line_length=120, positions=[0.3, 0.6, 1.0], show_trainable=True,
        layer_range=("batch_normalization", "flatten"),
    )  # fmt: skip
    assert [r.name for r in summary.rows] == ["batch_normalization", "flatten"]
    assert summary.total_params == 2292  # totals still cover the whole model
    assert max(len(line) for line in lines) <= 120
    assert any("Trainable" in line for line in lines)
    assert any("batch_normalization (BatchNormalization)" in line and " Y " in line
               for line in lines)  # fmt: skip
    with pytest.raises(ValueError, match=r"`layer_range` must be two layer names.*'conv2d'"):
        quiet(model, layer_range=("conv2d", "nope"))
