"""``layer.build(shape)`` called by the user marks the layer built, as in Keras."""

from __future__ import annotations

import numpy as np
import torch

from cnnkit.layers import Dense, Input, Layer
from cnnkit.models import Sequential


class Scale(Layer):
    """One weight per feature; its own ``build``, no ``super().build()`` (Keras 3 style)."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="random_normal")

    def call(self, inputs):
        return inputs * self.w


class ScaleAndShift(Scale):
    """A ``super().build()`` chain: only the outermost build may finish."""

    def build(self, input_shape):
        super().build(input_shape)
        self.b = self.add_weight(shape=(input_shape[-1],), initializer="zeros")

    def call(self, inputs):
        return super().call(inputs) + self.b


def test_build_then_set_weights_then_call_keeps_the_weights():
    layer = Scale()
    layer.build((None, 3))
    assert layer.built
    layer.set_weights([np.array([1.0, 2.0, 3.0], dtype=np.float32)])
    out = layer(torch.ones(2, 3))
    np.testing.assert_array_equal(out.detach().numpy(), [[1, 2, 3], [1, 2, 3]])
    assert len(layer.get_weights()) == 1


def test_super_build_chain_finishes_once_with_every_weight():
    layer = ScaleAndShift(weights=[np.full(2, 2.0, np.float32), np.full(2, 0.5, np.float32)])
    layer.build((None, 2))
    assert layer.built and len(layer.get_weights()) == 2
    out = layer(torch.ones(1, 2)).detach().numpy()
    np.testing.assert_array_equal(out, [[2.5, 2.5]])


def test_frozen_before_a_direct_build_stays_frozen():
    layer = Scale(trainable=False)
    layer.build((None, 4))
    assert not any(p.requires_grad for p in layer.parameters())


def test_built_dense_inside_a_model_is_not_rebuilt():
    dense = Dense(2)
    dense.build((None, 3))
    dense.set_weights([np.ones((3, 2), np.float32), np.zeros(2, np.float32)])
    model = Sequential([Input((3,)), dense])
    out = model.predict(np.ones((1, 3), np.float32), verbose=0)
    np.testing.assert_array_equal(out, [[3.0, 3.0]])


class Counter(Layer):
    """Keras 2 style: a name first, keywords after, a non-trainable weight."""

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", shape=(input_shape[-1], 2), initializer="ones")
        self.seen = self.add_weight(name="seen", shape=(), initializer="zeros", trainable=False)

    def call(self, inputs):
        return inputs @ self.kernel


def test_keras_add_weight_signatures_names_and_trainable():
    layer = Counter()
    out = layer(torch.ones(1, 3))
    np.testing.assert_array_equal(out.detach().numpy(), [[3.0, 3.0]])
    assert [n for n, _ in layer.named_parameters()] == ["kernel", "seen"]
    assert layer.kernel.requires_grad and not layer.seen.requires_grad
    layer.trainable = True  # re-applying the flag keeps trainable=False weights fixed
    assert not layer.seen.requires_grad
    default = Scale()
    default.build((None, 2))
    assert [n for n, _ in default.named_parameters()] == ["variable"]


def test_add_weight_bad_arguments_are_clear():
    import pytest

    layer = Layer()
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['shap'\]"):
        layer.add_weight(shap=(2,))
    with pytest.raises(ValueError, match=r"float32 weights only.*dtype='float64'"):
        layer.add_weight(shape=(2,), dtype="float64")
