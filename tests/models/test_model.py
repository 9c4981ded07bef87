"""Model base: subclass mode, weights, trainable, get_layer, training delegation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cnnkit.layers import BatchNormalization, Conv2D, Dense, Flatten, GlobalAveragePooling2D
from cnnkit.models import Model, Sequential


class TinyNet(Model):
    """A subclassed model the way the zoo writes them: layers as attributes, call by hand."""

    def __init__(self, input_shape=(8, 8, 3), classes=4, **kwargs):
        super().__init__(input_shape=input_shape, **kwargs)
        self.classes = classes
        self.conv = Conv2D(5, 3, padding="same")
        self.bn = BatchNormalization()
        self.blocks = nn.Sequential(Conv2D(6, 3), BatchNormalization())
        self.pool = GlobalAveragePooling2D()
        self.fc = Dense(classes)
        self.build_from_config_shape()

    def call(self, x, training=None):
        x = torch.relu(self.bn(self.conv(x), training=training))
        x = self.blocks(x)
        return self.fc(self.pool(x))

    def get_config(self):
        return {"input_shape": list(self._batch_input_shape[1:]), "classes": self.classes}


def test_subclass_model_builds_from_its_input_shape():
    model = TinyNet()
    assert model.built
    # conv 3*3*3*5+5, bn 2*5, conv 3*3*5*6+6, bn 2*6, dense 6*4+4
    assert model.count_params() == 140 + 10 + 276 + 12 + 28
    assert model.input_shape == (None, 8, 8, 3)
    assert model.output_shape == (None, 4)
    out = model(np.zeros((2, 8, 8, 3), dtype=np.float64))
    assert out.shape == (2, 4) and out.dtype == torch.float32
    assert isinstance(model, nn.Module)
    assert len(list(model.parameters())) == 10


def test_building_does_not_touch_batchnorm_statistics_or_leave_eval_mode():
    model = TinyNet()
    assert model.training
    assert torch.equal(model.bn.running_mean, torch.zeros(5))
    assert int(model.bn.num_batches_tracked) == 0


def test_subclass_layers_look_through_plain_containers():
    model = TinyNet()
    names = [layer.name for layer in model.layers]
    assert names == ["conv2d", "batch_normalization", "conv2d_1", "batch_normalization_1",
                     "global_average_pooling2d", "dense"]  # fmt: skip
    assert model.get_layer("dense") is model.fc
    assert model.get_layer(index=-1) is model.fc


def test_get_set_weights_round_trip_in_keras_layout():
    model, other = TinyNet(), TinyNet()
    weights = model.get_weights()
    assert weights[0].shape == (3, 3, 3, 5)  # HWIO
    assert weights[-2].shape == (6, 4)  # Dense (in, out)
    # BN contributes gamma, beta, moving mean, moving variance (Keras order)
    assert [w.shape for w in weights[2:6]] == [(5,), (5,), (5,), (5,)]
    other.set_weights(weights)
    x = torch.randn(2, 8, 8, 3)
    model.eval(), other.eval()
    torch.testing.assert_close(model(x), other(x))


def test_set_weights_checks_every_shape_before_writing_any():
    model = TinyNet()
    before = [w.copy() for w in model.get_weights()]
    bad = [w + 1 for w in before]
    bad[-2] = np.zeros((4, 6), np.float32)
    with pytest.raises(
        ValueError,
        match=r"array 12 for layer 'dense', weight 'weight'.*"
        r"Expected shape \(6, 4\).*Received: weights\[12\]\.shape=\(4, 6\)",
    ):
        model.set_weights(bad)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_set_weights_wrong_count_and_type():
    model = TinyNet()
    with pytest.raises(ValueError, match=r"set_weights got 1 arrays but the model has 14"):
        model.set_weights([np.zeros(3)])
    with pytest.raises(TypeError, match=r"expects a list of arrays"):
        model.set_weights(np.zeros(3))


def test_freezing_a_model_freezes_layers_inside_plain_containers():
    model = TinyNet()
    model.trainable = False
    assert not any(p.requires_grad for p in model.parameters())
    assert model.blocks[1].trainable is False  # BN inside nn.Sequential heard it
    model.trainable = True
    assert all(p.requires_grad for p in model.parameters())


def test_get_layer_errors():
    model = TinyNet()
    with pytest.raises(ValueError, match=r"Unknown layer in model .* 'dens'.*Did you mean 'dense'"):
        model.get_layer("dens")
    with pytest.raises(ValueError, match=r"layer index out of range.*Received: index=6"):
        model.get_layer(index=6)
    with pytest.raises(ValueError, match=r"exactly one of `name` or `index`"):
        model.get_layer()


def test_fit_before_compile_says_to_compile():
    model = TinyNet()
    with pytest.raises(
        ValueError,
        match=r"not compiled: call model\.compile\(\.\.\.\) before "
        r"model\.fit\(\)",
    ):
        model.fit(np.zeros((2, 8, 8, 3)), np.zeros(2))
    with pytest.raises(ValueError, match=r"before model\.train_on_batch\(\)"):
        model.train_on_batch(np.zeros((2, 8, 8, 3)), np.zeros(2))
    assert model.optimizer is None and model.stop_training is False


def test_unknown_input_shape_errors_say_how_to_fix():
    model = Sequential([Dense(3)])
    fix = r"Pass `input_shape=\(H, W, C\)` to the first layer.*Input\(shape=.*model\.build"
    with pytest.raises(
        ValueError, match=r"Cannot count the parameters of model 'sequential'.*" + fix
    ):
        model.count_params()
    with pytest.raises(ValueError, match=r"Cannot get the weights of model.*" + fix):
        model.get_weights()
    with pytest.raises(ValueError, match=r"Cannot read input_shape of model"):
        _ = model.input_shape


def test_plain_torch_modules_count_in_weights():
    class Mixed(Model):
        def __init__(self):
            super().__init__(input_shape=(4,))
            self.lin = nn.Linear(4, 3)
            self.head = Dense(2)
            self.build_from_config_shape()

        def call(self, x, training=None):
            return self.head(self.lin(x))

    model = Mixed()
    assert [w.shape for w in model.get_weights()] == [(3, 4), (3,), (3, 2), (2,)]
    assert model.count_params() == 15 + 8


def test_regularization_losses_collect_every_layer():
    model = Sequential([Dense(3, kernel_regularizer="l2", input_shape=(4,)),
                        Flatten(), Dense(2, kernel_regularizer="l1")])  # fmt: skip
    losses = model.regularization_losses()
    assert len(losses) == 2
    expected = (
        0.01 * model.layers[0].weight.pow(2).sum() + 0.01 * model.layers[2].weight.abs().sum()
    )
    torch.testing.assert_close(sum(losses), expected)


def test_training_methods_delegate_to_the_engine():
    model = Sequential([Flatten(input_shape=(4, 4, 1)), Dense(3, activation="softmax")])
    x = np.random.default_rng(0).random((32, 4, 4, 1), dtype=np.float32)
    y = np.arange(32) % 3
    uncompiled = model.predict(x, verbose=0)  # predict works before compile, like Keras
    assert uncompiled.shape == (32, 3)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    assert isinstance(model.optimizer, torch.optim.SGD)
    assert "_trainer" not in dict(model.named_modules()) and "_trainer" not in str(
        list(model.state_dict())
    )
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 2
    history = model.fit_generator(x, y, epochs=1, batch_size=8, verbose=0)  # Keras 1/2 alias
    assert len(history.history["loss"]) == 1
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert np.isfinite(loss) and 0 <= accuracy <= 1
    np.testing.assert_allclose(model.predict_on_batch(x), model.predict(x, verbose=0), atol=1e-6)
