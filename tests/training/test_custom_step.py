"""Overridden train_step / test_step / predict_step, add_loss, compute_loss, several optimizers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnkit import layers, losses, metrics, optimizers
from cnnkit import random as krandom
from cnnkit.callbacks import BackupAndRestore, Callback
from cnnkit.models import Model, Sequential
from cnnkit.utils import set_random_seed

RNG = np.random.default_rng(0)
X = RNG.normal(size=(64, 6)).astype(np.float32)
Y = (X @ RNG.normal(size=(6, 1))).astype(np.float32)


def _dense_net(cls: type = Model) -> Model:
    inputs = layers.Input(shape=(6,))
    return cls(inputs, layers.Dense(1)(inputs))


class StepModel(Model):
    """Keras' torch idiom, with sample weights."""

    calls = 0

    def train_step(self, data):
        x, y, sample_weight = data if len(data) == 3 else (*data, None)
        StepModel.calls += 1
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
        loss.backward()
        self.optimizer.apply([v.value.grad for v in self.trainable_weights], self.trainable_weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
        return {m.name: m.result() for m in self.metrics}


def test_overridden_train_step_drives_fit_history_and_learns():
    set_random_seed(0)
    model = _dense_net(StepModel)
    model.compile(optimizer=optimizers.Adam(0.05), loss="mse", metrics=["mae"])
    history = model.fit(X, Y, batch_size=16, epochs=6, verbose=0)
    assert StepModel.calls == 6 * 4
    assert set(history.history) >= {"loss", "mae"}
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
    # metrics are reset every epoch: the last epoch's mae is that epoch's mean only
    assert model.metrics[1].result().item() == pytest.approx(history.history["mae"][-1])


def test_compute_loss_weights_samples_and_adds_add_loss_terms():
    model = _dense_net()
    model.compile(loss="mse")
    y_pred = torch.zeros(4, 1)
    y = torch.tensor([[1.0], [2.0], [0.0], [1.0]])
    w = torch.tensor([1.0, 0.5, 3.0, 0.0])
    expected = ((y[:, 0] ** 2) * w).mean()
    assert model.compute_loss(y=y, y_pred=y_pred, sample_weight=w).item() == pytest.approx(
        expected.item()
    )
    model.layers[-1].add_loss(torch.tensor(0.25))
    assert model.losses[0].item() == 0.25
    assert model.compute_loss(y=y, y_pred=y_pred).item() == pytest.approx(
        (y**2).mean().item() + 0.25
    )


def test_compute_loss_adds_the_weight_penalties_and_later_add_loss_layers():
    inputs = layers.Input(shape=(6,))
    hidden = layers.Dense(3, kernel_regularizer="l2")(inputs)
    model = Model(inputs, layers.Dense(1)(hidden))
    model.compile(loss="mse")
    y_pred, y = torch.zeros(2, 1), torch.ones(2, 1)
    kernel = model.layers[1].kernel
    penalty = 0.01 * kernel.detach().square().sum()
    assert model.compute_loss(y=y, y_pred=y_pred).item() == pytest.approx(1.0 + penalty.item())
    # a layer that calls add_loss only now (a GAN's second sub-model) still joins
    model.layers[-1].add_loss(torch.tensor(2.0))
    total = model.compute_loss(y=y, y_pred=y_pred)
    assert total.item() == pytest.approx(3.0 + penalty.item())
    total.backward()
    assert kernel.grad is not None  # the penalty keeps its graph


class Penalty(layers.Layer):
    """Adds 0.5·mean(x²) of its inputs with add_loss and passes them through."""

    def call(self, inputs, training=None):
        self.add_loss(0.5 * inputs.square().mean())
        return inputs


def test_add_loss_joins_the_built_in_fit_and_evaluate():
    set_random_seed(1)
    model = Sequential([layers.Input(shape=(6,)), Penalty(), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    plain = ((model.predict(X, verbose=0) - Y) ** 2).mean()
    evaluated = model.evaluate(X, Y, batch_size=64, verbose=0)
    assert evaluated == pytest.approx(plain + 0.5 * (X**2).mean(), rel=1e-5)
    model.fit(X, Y, epochs=1, verbose=0)
    assert len(model.losses) == 1  # the terms of the latest forward pass only


class EvalModel(Model):
    def test_step(self, data):
        x, y = data
        error = (self(x, training=False) - y).abs().mean()
        self.tracker.update_state(error)
        return {"abs_error": self.tracker.result()}

    def predict_step(self, data):
        return self(data, training=False) * 2


def test_overridden_test_and_predict_steps():
    model = _dense_net(EvalModel)
    model.tracker = metrics.Mean(name="abs_error")
    model.compile(loss="mse")
    expected = np.abs(model(torch.from_numpy(X)).detach().numpy() - Y).mean()
    assert model.evaluate(X, Y, batch_size=64, verbose=0) == pytest.approx(expected, rel=1e-5)
    assert model.evaluate(X, Y, verbose=0, return_dict=True)["abs_error"] == pytest.approx(
        expected, rel=1e-5
    )
    doubled = model.predict(X, verbose=0)
    np.testing.assert_allclose(doubled, 2 * model(torch.from_numpy(X)).detach().numpy(), rtol=1e-6)


def test_the_built_in_step_is_not_rerouted():
    seen = []

    class Look(Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append("_train_step" in vars(self.model._trainer))

    model = _dense_net()
    model.compile(loss="mse")
    model.fit(X, Y, epochs=1, batch_size=32, verbose=0, callbacks=[Look()])
    assert seen == [False, False]


class BadStep(Model):
    result: object = None

    def train_step(self, data):
        return self.result


@pytest.mark.parametrize(
    ("result", "error", "match"),
    [
        ([1.0], TypeError, r"must return a dict of metric names to numbers.*type='list'"),
        ({"loss": torch.ones(3)}, ValueError, r"'loss' must be one number.*shape=\(3,\)"),
        ({"loss": "low"}, TypeError, r"'loss' must be a number.*loss='str'"),
    ],
)
def test_a_bad_train_step_result_is_refused(result, error, match):
    model = _dense_net(BadStep)
    model.result = result
    model.compile()
    with pytest.raises(error, match=match):
        model.fit(X, Y, epochs=1, verbose=0)


def test_non_scalar_add_loss_and_missing_optimizer_are_clear_errors():
    with pytest.raises(ValueError, match=r"add_loss\(\) takes a scalar.*loss.shape=\(2, 2\)"):
        layers.Dense(2).add_loss(torch.ones(2, 2))

    class ForgotSuper(StepModel):
        def compile(self, g_optimizer):
            self.g_optimizer = g_optimizer  # super().compile() missing

    model = _dense_net(ForgotSuper)
    model.compile(optimizers.Adam())
    with pytest.raises(ValueError, match=r"is not compiled: call model.compile\(...\) before"):
        model.fit(X, Y, verbose=0)
    with pytest.raises(TypeError, match=r"`optimizer` must be a name.*optimizer=None"):
        _dense_net(StepModel).compile(optimizer=None, loss="mse")
    with pytest.raises(ValueError, match=r"compute_loss\(\): there is no loss"):
        no_loss = _dense_net()
        no_loss.compile()
        no_loss.compute_loss(y=torch.ones(1, 1), y_pred=torch.ones(1, 1))


class TinyGAN(Model):
    """Two sub-models, two optimizers, two trackers and a seed generator."""

    def __init__(self):
        super().__init__()
        self.generator = Sequential([layers.Input(shape=(3,)), layers.Dense(6)])
        self.discriminator = Sequential([layers.Input(shape=(6,)), layers.Dense(1)])
        self.d_tracker = metrics.Mean(name="d_loss")
        self.g_tracker = metrics.Mean(name="g_loss")
        self.seeds = krandom.SeedGenerator(5)

    def compile(self, d_optimizer, g_optimizer):
        super().compile()
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        self.loss_fn = losses.BinaryCrossentropy(from_logits=True)

    def train_step(self, real):
        n = real.shape[0]
        fake = self.generator(krandom.normal((n, 3), seed=self.seeds))
        labels = torch.cat([torch.ones(n, 1), torch.zeros(n, 1)])
        self.zero_grad()
        d_loss = self.loss_fn(labels, self.discriminator(torch.cat([fake.detach(), real])))
        d_loss.backward()
        self.d_optimizer.apply(None, self.discriminator.trainable_weights)
        self.zero_grad()
        fake = self.generator(krandom.normal((n, 3), seed=self.seeds))
        g_loss = self.loss_fn(torch.zeros(n, 1), self.discriminator(fake))
        g_loss.backward()
        self.g_optimizer.apply(None, self.generator.trainable_weights)
        self.d_tracker.update_state(d_loss)
        self.g_tracker.update_state(g_loss)
        return {"d_loss": self.d_tracker.result(), "g_loss": self.g_tracker.result()}

    @property
    def metrics(self):
        return [self.d_tracker, self.g_tracker]


class Interrupt(Callback):
    def __init__(self, at: int):
        super().__init__()
        self.at, self.seen = at, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.at:
            raise KeyboardInterrupt


def _gan_run(backup_dir, interrupt_at=None):
    set_random_seed(3)
    gan = TinyGAN()
    gan.compile(optimizers.Adam(1e-2), optimizers.Adam(2e-2))
    callbacks = [BackupAndRestore(backup_dir, save_freq=2)]
    if interrupt_at is not None:
        callbacks.append(Interrupt(interrupt_at))
    history = gan.fit(X, batch_size=16, epochs=3, verbose=0, callbacks=callbacks)
    return gan, history


def test_backup_and_restore_resumes_a_two_optimizer_step_exactly(tmp_path):
    reference, ref_history = _gan_run(tmp_path / "straight")
    with pytest.raises(KeyboardInterrupt):
        _gan_run(tmp_path / "resumed", interrupt_at=7)  # epoch 2, batch 3: backup at batch 2
    resumed, history = _gan_run(tmp_path / "resumed")
    for (name, a), b in zip(reference.state_dict().items(), resumed.state_dict().values(),
                            strict=True):  # fmt: skip
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)
    for name in ("d_optimizer", "g_optimizer"):
        ref_state = getattr(reference, name).state_dict()["state"]
        new_state = getattr(resumed, name).state_dict()["state"]
        for key in ref_state:
            torch.testing.assert_close(ref_state[key]["exp_avg"], new_state[key]["exp_avg"])
    assert history.history["d_loss"] == pytest.approx(ref_history.history["d_loss"])
