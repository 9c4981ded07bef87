"""VGG16 built by hand from layers: 138,357,544 params and the well-known cost figures.

Built once per module (138 M parameters), never trained.

Activation memory: CS231n's VGG16 walk-through lists every layer's output size
(input 150K, 3.2M, 3.2M, 800K, ...) and then states "TOTAL memory: 24M * 4 bytes
~= 93MB / image". Its own list sums to 15.2 M values (~61 MB), not 24 M; the
24 M figure is an arithmetic slip that has been copied widely. This test checks
the per-layer values of that list exactly and the honest sum of them.
"""

from __future__ import annotations

import pytest

from cnnkit.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D
from cnnkit.models import Sequential


def vgg16() -> Sequential:
    """Keras' VGG16 (include_top=True, 1000 classes), layer names as in keras.applications."""
    layers: list = [Input(shape=(224, 224, 3))]
    for block, (filters, convs) in enumerate([(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)], 1):
        for i in range(1, convs + 1):
            layers.append(
                Conv2D(filters, (3, 3), activation="relu", padding="same",
                       name=f"block{block}_conv{i}")
            )  # fmt: skip
        layers.append(MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool"))
    layers += [
        Flatten(name="flatten"),
        Dense(4096, activation="relu", name="fc1"),
        Dense(4096, activation="relu", name="fc2"),
        Dense(1000, activation="softmax", name="predictions"),
    ]
    return Sequential(layers, name="vgg16")


@pytest.fixture(scope="module")
def vgg16_summary():
    return vgg16().summary(formulas=True, cost=True, batch_size=32, optimizer="sgd", show=False)


def test_vgg16_parameter_total(vgg16_summary):
    assert vgg16_summary.total_params == 138_357_544
    assert vgg16_summary.keras_total_params == 138_357_544
    assert vgg16_summary.param_bytes == 138_357_544 * 4  # ≈ 553 MB ("~552 MB" = 138 M × 4)
    assert round(vgg16_summary.param_bytes / 1e6) == 553
    # The printed totals show the decimal figure the published "~552 MB" is quoted in.
    assert "In decimal units: 553.43 MB." in "\n".join(vgg16_summary.totals_lines())


def test_vgg16_macs_match_the_published_15_47_g(vgg16_summary):
    conv_macs = sum(r.macs for r in vgg16_summary.rows if r.type == "Conv2D")
    dense_macs = sum(r.macs for r in vgg16_summary.rows if r.type == "Dense")
    assert dense_macs == 25088 * 4096 + 4096 * 4096 + 4096 * 1000
    assert vgg16_summary.total_macs == conv_macs + dense_macs  # pooling counted as 0 MACs
    assert round(vgg16_summary.total_macs / 1e9, 2) == 15.47


def test_vgg16_activation_values_follow_the_cs231n_list(vgg16_summary):
    rows = {r.name: r.activations for r in vgg16_summary.rows}
    # CS231n's per-layer "memory" column
    assert rows["block1_conv1"] == 224 * 224 * 64  # 3.2M
    assert rows["block1_pool"] == 112 * 112 * 64  # 800K
    assert rows["block3_conv1"] == 56 * 56 * 256  # 800K
    assert rows["block5_pool"] == 7 * 7 * 512  # 25K
    assert rows["fc1"] == 4096
    assert vgg16_summary.input_values == 224 * 224 * 3  # 150K
    # input 150,528 + 13 conv outputs 13,547,520 + 5 pools 1,530,368 + flatten 25,088
    # + fc 9,192 = 15,262,696 ≈ 15.3 M values
    assert vgg16_summary.activation_values == 15_262_696
    assert round(vgg16_summary.activation_bytes / 1e6, 1) == 61.1  # MB per image, forward


def test_vgg16_training_memory_is_the_stated_sum(vgg16_summary):
    t = vgg16_summary.training
    assert t.optimizer == "sgd" and t.optimizer_bytes == 0
    assert t.weights_bytes == t.gradients_bytes == 138_357_544 * 4
    assert t.activations_bytes == 15_262_696 * 4 * 2 * 32
    assert t.total_bytes == 2 * 138_357_544 * 4 + 15_262_696 * 4 * 2 * 32


def test_vgg16_formulas(vgg16_summary):
    first = vgg16_summary.rows[0]
    assert first.param_formula == "64 × (3×3×3) + 64 = 1,792"
    fc1 = next(r for r in vgg16_summary.rows if r.name == "fc1")
    assert fc1.param_formula == "25,088 × 4,096 + 4,096 = 102,764,544"
    pool = next(r for r in vgg16_summary.rows if r.name == "block1_pool")
    assert pool.output_size_formula == "(224 − 2) / 2 + 1 = 112"
