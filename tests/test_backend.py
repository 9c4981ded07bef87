"""``keras.backend`` through ``import cnnkit as keras``: the calls course code makes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cnnkit as keras
from cnnkit import backend as K
from cnnkit.layers import Conv2D, Dense, Input
from cnnkit.models import Sequential


@pytest.fixture
def restore_format():
    yield
    K.set_image_data_format("channels_last")


def test_keras_backend_resolves_to_cnnkit_backend():
    assert keras.backend is K
    assert K.backend() == "torch"
    assert (K.epsilon(), K.floatx(), K.image_data_format()) == (1e-7, "float32", "channels_last")


def test_clear_session_restarts_layer_names():
    Dense(2), Dense(2)
    assert Dense(2).name == "dense_2"
    K.clear_session()
    assert Dense(2).name == "dense"


def test_channels_first_becomes_the_layers_default(restore_format):
    K.set_image_data_format("channels_first")
    assert K.image_data_format() == "channels_first"
    model = Sequential([Input((1, 28, 28)), Conv2D(6, 5)])
    assert model.layers[-1].data_format == "channels_first"
    out = model.predict(np.zeros((2, 1, 28, 28), np.float32), verbose=0)
    assert out.shape == (2, 6, 24, 24)
    K.set_image_data_format("channels_last")
    assert Conv2D(6, 5).data_format == "channels_last"


def test_bad_data_format_and_floatx_are_refused_by_the_template():
    with pytest.raises(ValueError, match=r"data_format.*Received: data_format='channels_middle'"):
        K.set_image_data_format("channels_middle")
    with pytest.raises(ValueError, match=r"keeps weights in float32.*Received: value='float64'"):
        K.set_floatx("float64")
    K.set_floatx("float32")


def test_count_params_and_int_shape():
    model = Sequential([Input((28, 28, 1)), Conv2D(6, 5)])
    kernel, bias = model.layers[-1].weights
    assert K.count_params(kernel) + K.count_params(bias) == 156
    assert K.int_shape(np.zeros((3, 4))) == (3, 4)
    assert K.int_shape(Input((8, 8, 3))) == (None, 8, 8, 3)
    with pytest.raises(ValueError, match="unknown sizes"):
        K.count_params(Input((8, 8, 3)))
    with pytest.raises(TypeError, match=r"Received: x='str'"):
        K.int_shape("kernel")


def test_get_and_set_value_write_a_weight_in_place():
    w = torch.nn.Parameter(torch.zeros(2, 3))
    K.set_value(w, np.ones((2, 3)))
    np.testing.assert_array_equal(K.get_value(w), np.ones((2, 3)))
    assert K.get_value(0.5) == 0.5
    with pytest.raises(TypeError, match=r"model.optimizer.learning_rate = value"):
        K.set_value(0.001, 0.01)
