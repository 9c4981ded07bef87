"""fit/evaluate/predict on arrays, Sequences, datasets and generators; determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnkit.callbacks import Callback
from cnnkit.training import Trainer, predict
from cnnkit.training.losses import SparseCategoricalCrossentropy
from cnnkit.training.optimizers import SGD
from cnnkit.utils import set_random_seed
from tests.training._models import TinyNHWC, blobs, cnnkit_mlp


def _trainer(model=None, **kwargs) -> Trainer:
    # TinyNHWC outputs logits; the cnnkit models end in a softmax.
    logits = model is None or isinstance(model, TinyNHWC)
    kwargs.setdefault("loss", SparseCategoricalCrossentropy(from_logits=logits))
    kwargs.setdefault("metrics", ["accuracy"])
    return Trainer(model or TinyNHWC(), **kwargs)


def test_fit_learns_and_history_has_keras_keys():
    set_random_seed(1)
    x, y = blobs(192)
    trainer = _trainer(optimizer=SGD(0.1, momentum=0.9))
    history = trainer.fit(x, y, batch_size=32, epochs=4, validation_split=0.25, verbose=0)
    assert list(history.history) == [
        "accuracy", "loss", "val_accuracy", "val_loss", "learning_rate",
    ]  # fmt: skip
    assert history.epoch == [0, 1, 2, 3]
    assert history.history["learning_rate"] == [0.1] * 4
    assert history.history["val_accuracy"][-1] > 0.9
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, acc = trainer.evaluate(x, y, verbose=0)
    assert acc > 0.9 and loss < 0.5
    logs = trainer.evaluate(x, y, verbose=0, return_dict=True)
    assert logs == {"accuracy": acc, "loss": loss}


def test_same_seed_gives_bit_identical_weights():
    """Shuffling, dropout and initialisation all follow set_random_seed."""

    def run(seed: int) -> list[torch.Tensor]:
        set_random_seed(seed)
        x, y = blobs(64)
        model = TinyNHWC()  # has dropout, so the global torch generator matters too
        _trainer(model, optimizer="adam").fit(x, y, batch_size=16, epochs=2, verbose=0)
        return [v.clone() for v in model.state_dict().values()]

    first, second, other = run(123), run(123), run(124)
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True))


class _Batches:
    """A Keras-Sequence-like object: len() batches, [i] is batch i."""

    def __init__(self, x, y, batch_size):
        self.x, self.y, self.bs = x, y, batch_size
        self.epochs_ended = 0

    def __len__(self):
        return -(-len(self.x) // self.bs)

    def __getitem__(self, i):
        sl = slice(i * self.bs, (i + 1) * self.bs)
        return self.x[sl], self.y[sl]

    def on_epoch_end(self):
        self.epochs_ended += 1


class _Dataset:
    """A re-iterable dataset with a length (like image_dataset_from_directory's)."""

    def __init__(self, seq):
        self.seq = seq

    def __len__(self):
        return len(self.seq)

    def __iter__(self):
        return (self.seq[i] for i in range(len(self.seq)))


def test_sequence_dataset_and_generator_inputs():
    set_random_seed(0)
    x, y = blobs(96)
    seq = _Batches(x, y, 32)
    trainer = _trainer()
    history = trainer.fit(seq, epochs=2, verbose=0, validation_data=_Dataset(seq))
    assert seq.epochs_ended == 2  # the Sequence is told about each training epoch
    assert len(history.history["val_loss"]) == 2

    def forever():
        while True:
            for i in range(len(seq)):
                yield seq[i]

    steps = []

    class CountSteps(Callback):
        def on_train_batch_end(self, batch, logs=None):
            steps.append(batch)

    trainer.fit(forever(), steps_per_epoch=5, epochs=2, verbose=0, callbacks=[CountSteps()])
    assert steps == [0, 1, 2, 3, 4] * 2
    assert trainer.evaluate(forever(), steps=3, verbose=0)[1] >= 0.0
    out = trainer.predict(_Dataset(seq), verbose=0)
    assert out.shape == (96, 3)


def test_batch_logs_and_stop_training():
    set_random_seed(0)
    x, y = blobs(96)
    seen = []

    class StopAfterTwo(Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(sorted(logs))
            if batch == 1:
                self.model.stop_training = True

    history = _trainer().fit(x, y, batch_size=16, epochs=3, verbose=0, callbacks=[StopAfterTwo()])
    assert seen == [["accuracy", "loss"]] * 2
    assert history.epoch == [0]


def test_sample_and_class_weights_scale_the_loss():
    set_random_seed(0)
    x, y = blobs(16)
    trainer = _trainer()
    plain = trainer.evaluate(x, y, verbose=0)[0]
    w = np.zeros(16)
    w[:8] = 2.0
    weighted = trainer.evaluate(x, y, sample_weight=w, verbose=0)[0]
    outputs = torch.from_numpy(trainer.predict(x, verbose=0))
    per_sample = trainer.loss.unreduced(torch.from_numpy(y), outputs, logits=True).numpy()
    assert plain == pytest.approx(per_sample.mean(), rel=1e-5)
    assert weighted == pytest.approx((per_sample * w).mean(), rel=1e-5)
    before = [p.detach().clone() for p in trainer.model.parameters()]
    trainer.fit(x, y, class_weight={0: 0.0, 1: 0.0, 2: 0.0}, epochs=1, verbose=0)
    # Zero class weights give zero gradients; Adam then leaves the weights unchanged.
    assert all(torch.equal(a, b) for a, b in zip(before, trainer.model.parameters(), strict=True))


def test_train_test_predict_on_batch_and_uncompiled_predict():
    set_random_seed(0)
    x, y = blobs(32)
    model = cnnkit_mlp()
    trainer = _trainer(model)
    loss, acc = trainer.train_on_batch(x, y)
    assert loss > 0 and 0 <= acc <= 1
    assert set(trainer.test_on_batch(x, y, return_dict=True)) == {"loss", "accuracy"}
    probs = trainer.predict_on_batch(x)
    np.testing.assert_allclose(probs, predict(model, x, batch_size=5), rtol=1e-6)
    assert probs.shape == (32, 3) and probs.dtype == np.float32


def test_lazily_built_model_gets_its_optimizer_at_the_first_batch():
    from cnnkit.layers import Dense, Flatten
    from cnnkit.models import Sequential

    set_random_seed(0)
    x, y = blobs(32)
    model = Sequential([Flatten(), Dense(3, activation="softmax")])
    trainer = _trainer(model)
    trainer.fit(x / 255.0, y, epochs=1, verbose=0)
    assert len(trainer.optimizer.param_groups[0]["params"]) == 2


def test_one_hot_labels_with_categorical_crossentropy_and_top_k():
    set_random_seed(0)
    x, y = blobs(64)
    trainer = _trainer(loss="categorical_crossentropy", metrics=["accuracy", "top_2_accuracy"])
    trainer.fit(x, np.eye(3)[y], epochs=1, verbose=0)
    _, acc, top2 = trainer.evaluate(x, np.eye(3)[y], verbose=0)
    assert top2 >= acc


def test_mixed_precision_bf16_runs_on_cpu():
    set_random_seed(0)
    x, y = blobs(32)
    trainer = _trainer(mixed_precision="bf16")
    history = trainer.fit(x, y, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_fp16_uses_a_grad_scaler_and_jit_compile_runs_eagerly_on_cpu():
    set_random_seed(0)
    x, y = blobs(32)
    trainer = _trainer(mixed_precision="fp16")
    assert trainer._scaler is not None
    assert np.isfinite(trainer.fit(x, y, epochs=1, verbose=0).history["loss"][0])
    # On a CPU compiling cannot pay for itself: eager, said in one line (test_compile.py).
    with pytest.warns(UserWarning, match="running eagerly on the CPU"):
        compiled = _trainer(jit_compile=True)
    assert compiled._forward is compiled.model
    assert np.isfinite(compiled.fit(x, y, batch_size=16, epochs=1, verbose=0).history["loss"][0])


def test_regularization_penalties_join_the_loss_and_constraints_hold():
    from cnnkit.layers import Dense, Flatten, Input, MaxNorm, Rescaling, l2
    from cnnkit.models import Sequential

    set_random_seed(0)
    x, y = blobs(32)
    head = Dense(
        3, activation="softmax", kernel_regularizer=l2(0.1), kernel_constraint=MaxNorm(0.5)
    )
    model = Sequential([Input((8, 8, 1)), Rescaling(1 / 255), Flatten(), head])
    trainer = Trainer(model, optimizer=SGD(1.0), loss="sparse_categorical_crossentropy")
    plain = trainer.loss(torch.from_numpy(y), torch.from_numpy(trainer.predict(x, verbose=0)))
    penalty = 0.1 * float(head.weight.detach().square().sum())
    assert trainer.evaluate(x, y, verbose=0) == pytest.approx(
        plain.mean().item() + penalty, rel=1e-4
    )
    trainer.fit(x, y, epochs=2, verbose=0)
    kernel = head.get_weights()[0]  # Keras layout (in, out): MaxNorm bounds each column
    assert np.linalg.norm(kernel, axis=0).max() <= 0.5 + 1e-5
