"""Acceptance 1: standard Keras models give Keras' exact totals in summary().

Each model is written exactly as Keras course code writes it (only imports differ).
The 3×3 ReLU LeNet-5 variant (60,074) is, precisely:
    Input 28×28×1 → Conv2D(6, 3, relu) → MaxPooling2D(2) → Conv2D(16, 3, relu)
    → MaxPooling2D(2) → Flatten → Dense(120, relu) → Dense(84, relu) → Dense(10, softmax)
    params: 60 + 880 + 48,120 + 10,164 + 850 = 60,074 (pooling type does not change the count).
"""

from __future__ import annotations

import pytest

from cnnkit.layers import (
    AveragePooling2D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Input,
    MaxPooling2D,
)
from cnnkit.models import Sequential


def lenet5_classic() -> Sequential:
    return Sequential(
        [
            Conv2D(6, (5, 5), activation="tanh", input_shape=(32, 32, 1)),
            AveragePooling2D(pool_size=(2, 2)),
            Conv2D(16, (5, 5), activation="tanh"),
            AveragePooling2D(pool_size=(2, 2)),
            Flatten(),
            Dense(120, activation="tanh"),
            Dense(84, activation="tanh"),
            Dense(10, activation="softmax"),
        ]
    )


def lenet5_relu() -> Sequential:
    return Sequential(
        [
            Input(shape=(28, 28, 1)),
            Conv2D(6, (3, 3), activation="relu"),
            MaxPooling2D(pool_size=(2, 2)),
            Conv2D(16, (3, 3), activation="relu"),
            MaxPooling2D(pool_size=(2, 2)),
            Flatten(),
            Dense(120, activation="relu"),
            Dense(84, activation="relu"),
            Dense(10, activation="softmax"),
        ]
    )


def keras_mnist_cnn() -> Sequential:
    model = Sequential()
    model.add(Conv2D(32, kernel_size=(3, 3), activation="relu", input_shape=(28, 28, 1)))
    model.add(Conv2D(64, (3, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Flatten())
    model.add(Dense(128, activation="relu"))
    model.add(Dropout(0.5))
    model.add(Dense(10, activation="softmax"))
    return model


def mlp() -> Sequential:
    model = Sequential()
    model.add(Dense(512, activation="relu", input_shape=(784,)))
    model.add(Dropout(0.2))
    model.add(Dense(512, activation="relu"))
    model.add(Dropout(0.2))
    model.add(Dense(10, activation="softmax"))
    return model


@pytest.mark.parametrize(
    ("build", "total", "output"),
    [
        (lenet5_classic, 61_706, (None, 10)),
        (lenet5_relu, 60_074, (None, 10)),
        (keras_mnist_cnn, 1_199_882, (None, 10)),
        (mlp, 669_706, (None, 10)),
    ],
)
def test_exact_totals(build, total, output):
    model = build()
    summary = model.summary(show=False)
    assert summary.total_params == total
    assert summary.trainable_params == total
    assert summary.non_trainable_params == 0
    assert summary.keras_total_params == total  # no BatchNorm: Keras prints the same
    assert sum(row.params for row in summary.rows) == total
    assert model.count_params() == total
    assert summary.output_shape == output


def test_lenet5_relu_layer_by_layer():
    summary = lenet5_relu().summary(print_fn=lambda _: None)
    assert [row.params for row in summary.rows] == [60, 0, 880, 0, 0, 48_120, 10_164, 850]
    assert [row.output_shape for row in summary.rows][:5] == [
        (None, 26, 26, 6), (None, 13, 13, 6), (None, 11, 11, 16), (None, 5, 5, 16), (None, 400),
    ]  # fmt: skip


def test_printed_totals_match_keras_wording():
    lines: list[str] = []
    lenet5_classic().summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Total params: 61,706" in text
    assert "Trainable params: 61,706" in text
    assert "conv2d (Conv2D)" in text and "(None, 28, 28, 6)" in text
