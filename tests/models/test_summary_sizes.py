"""summary() sizes as Keras 3 prints them (1 KB = 1024 bytes); buffer lines only with buffers."""

from __future__ import annotations

import pytest

from cnnkit.layers import BatchNormalization, Conv2D, Dense, Flatten, Input, MaxPooling2D
from cnnkit.models import Sequential
from cnnkit.models._summary import format_bytes


def lenet5() -> Sequential:
    return Sequential(
        [
            Input(shape=(32, 32, 1)),
            Conv2D(6, 5, activation="tanh"),
            MaxPooling2D(),
            Conv2D(16, 5, activation="tanh"),
            MaxPooling2D(),
            Flatten(),
            Dense(120, activation="tanh"),
            Dense(84, activation="tanh"),
            Dense(10, activation="softmax"),
        ]
    )


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0.00 B"),
        (400, "400.00 B"),
        (1023, "1,023.00 B"),
        (1024, "1.00 KB"),
        (61_706 * 4, "241.04 KB"),
        (138_357_544 * 4, "527.79 MB"),
        (3 * 1024**3, "3.00 GB"),
    ],
)
def test_format_bytes_is_keras_readable_memory_size(n, text):
    assert format_bytes(n) == text


def test_lenet5_totals_read_exactly_like_keras():
    lines = lenet5().summary(show=False).to_text().splitlines()
    assert "Total params: 61,706 (241.04 KB)" in lines
    assert "Trainable params: 61,706 (241.04 KB)" in lines
    assert "Non-trainable params: 0 (0.00 B)" in lines
    assert not any("Buffers" in line or "BatchNormalization" in line for line in lines)


def test_frozen_part_and_buffers_are_sized():
    model = Sequential([Input(shape=(6, 6, 2)), Conv2D(4, 3), BatchNormalization(), Dense(3)])
    model.layers[0].trainable = False  # 76 params frozen
    text = model.summary(show=False).to_text()
    assert "Total params: 99 (396.00 B)" in text  # 76 + 8 + 15
    assert "Trainable params: 23 (92.00 B)" in text
    assert "Non-trainable params: 76 (304.00 B)" in text
    assert "Buffers (statistics, e.g. BatchNorm moving mean/variance): 8 (32.00 B)" in text
    assert "Keras-equivalent total: 107." in text


def test_cost_mode_states_the_binary_units():
    text = lenet5().summary(show=False, cost=True).to_text(width=400)
    assert "Parameter memory: 241.04 KB. In decimal units: 246.82 KB." in text
    assert "1 KB = 1024 B, 1 MB = 1024 KB, 1 GB = 1024 MB" in text
