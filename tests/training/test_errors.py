"""Bad input to compile/fit/evaluate: every message is checked (acceptance 4, engine part)."""

from __future__ import annotations

import numpy as np
import pytest

from cnnkit.training import Trainer
from cnnkit.training.losses import SparseCategoricalCrossentropy
from cnnkit.training.optimizers import SGD, Adam
from tests.training._models import TinyNHWC, blobs, cnnkit_mlp

X, Y = blobs(32)


def _trainer(**kwargs) -> Trainer:
    kwargs.setdefault("loss", SparseCategoricalCrossentropy(from_logits=True))
    return Trainer(TinyNHWC(), **kwargs)


def _gen():
    while True:
        yield X[:8], Y[:8]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"y": Y[:-1]}, ValueError, r"same number of samples.*Received: x.shape=\(32, 8, 8, 1\), "
         r"y.shape=\(31,\)"),
        ({"sample_weight": np.ones(5)}, ValueError, r"`x` and `sample_weight` must have the same"),
        ({"batch_size": 0}, ValueError, r"`batch_size` must be an integer >= 1.*batch_size=0"),
        ({"batch_size": 2.5}, ValueError, r"`batch_size` must be an integer"),
        ({"epochs": -1}, ValueError, r"`epochs` must be an integer >= 0.*epochs=-1"),
        ({"verbose": 3}, ValueError, r"`verbose` must be 0.*Valid choices: 'auto', 0, 1, 2"),
        ({"validation_split": 1.0}, ValueError, r"`validation_split` must be a fraction"),
        ({"validation_data": (X,)}, ValueError, r"`validation_data` must be \(x_val, y_val\)"),
        ({"class_weight": [1, 2]}, TypeError, r"`class_weight` must be a dict"),
        ({"y": None}, ValueError, r"`y` \(the labels\) is required when `x` is an array"),
        ({"x": np.array([["a"]] * 32), "y": Y}, TypeError, r"`x` must hold numbers.*x.dtype='<U1'"),
    ],
)  # fmt: skip
def test_fit_argument_errors(kwargs, error, match):
    args = {"x": X, "y": Y, "verbose": 0} | kwargs
    with pytest.raises(error, match=match):
        _trainer().fit(**args)


def test_labels_out_of_range_for_the_loss():
    match = r"Labels out of range for sparse_categorical_crossentropy: the model has 3 outputs"
    with pytest.raises(ValueError, match=match + r".*\[0, 2\].*max\(y\)=7"):
        _trainer().fit(X, np.where(Y == 2, 7, Y), verbose=0)


def test_binary_labels_out_of_range():
    trainer = Trainer(cnnkit_mlp(classes=1, activation="sigmoid"), loss="binary_crossentropy")
    with pytest.raises(ValueError, match=r"Labels out of range for binary_crossentropy.*\[0, 1\]"):
        trainer.fit(X, Y, verbose=0)


def test_one_hot_labels_given_to_sparse_loss_names_the_loss_that_fits():
    with pytest.raises(ValueError, match=r"labels look one-hot.*loss='categorical_crossentropy'"):
        _trainer().fit(X, np.eye(3)[Y], verbose=0)


def test_integer_labels_given_to_categorical_loss_names_the_loss_that_fits():
    trainer = Trainer(cnnkit_mlp(), loss="categorical_crossentropy")
    with pytest.raises(ValueError, match=r"look like integer class indices.*"
                       r"loss='sparse_categorical_crossentropy'.*to_categorical"):  # fmt: skip
        trainer.fit(X, Y, verbose=0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"optimizer": "adamm"}, r"Unknown optimizer 'adamm'.*Did you mean 'adam', 'nadam'"),
        ({"loss": "sparse_categorical_crossentropi"},
         r"Unknown loss.*Did you mean 'sparse_categorical_crossentropy'"),
        ({"metrics": ["acuracy"]}, r"Unknown metric 'acuracy'.*Did you mean 'accuracy'"),
        ({"device": "tpu"}, r"unknown `device`.*Valid choices: 'auto', 'cpu', 'cuda', 'mps'"),
        ({"mixed_precision": "fp8"}, r"unknown `mixed_precision`.*'bf16', 'fp16'"),
        ({"loss_weights": [1.0, 2.0]}, r"`loss_weights` must be one number"),
    ],
)  # fmt: skip
def test_compile_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _trainer(**kwargs)


def test_compile_type_errors():
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['optimiser'\]"):
        _trainer(optimiser="adam")
    with pytest.raises(ValueError, match=r"Adam: `learning_rate` must be a positive number"):
        Adam(learning_rate=-1)
    with pytest.raises(ValueError, match=r"SGD: `momentum` must be in \[0, 1\)"):
        SGD(momentum=1.5)
    with pytest.raises(TypeError, match=r"`model` must be a torch.nn.Module"):
        Trainer("model")


def test_nan_in_inputs_warns_with_a_count():
    x = X.astype(np.float32)
    x[0, 0, 0, 0] = np.nan
    with pytest.warns(RuntimeWarning, match=r"`x` contains 1 NaN or infinite value\(s\)"):
        _trainer().fit(x, Y, epochs=1, verbose=0)


def test_generator_errors():
    with pytest.raises(ValueError, match=r"`validation_split` only works with in-memory arrays"):
        _trainer().fit(_gen(), validation_split=0.2, steps_per_epoch=2, verbose=0)
    with pytest.raises(ValueError, match=r"fit\(\): `x` is a generator.*`steps_per_epoch` must"):
        _trainer().fit(_gen(), verbose=0)
    with pytest.raises(ValueError, match=r"`y` must not be given when `x` is a dataset"):
        _trainer().fit(_gen(), Y, steps_per_epoch=2, verbose=0)
    finite = iter([(X[:8], Y[:8])])
    with pytest.raises(ValueError, match=r"generator ran out of data before `steps_per_epoch`"):
        _trainer().fit(finite, steps_per_epoch=3, verbose=0)
    unlabeled = ((X[:8],) for _ in range(9))
    with pytest.raises(ValueError, match=r"batches without labels"):
        _trainer().fit(unlabeled, steps_per_epoch=2, verbose=0)


def test_fit_without_loss_and_fit_before_compile():
    with pytest.raises(ValueError, match=r"compiled without a loss"):
        Trainer(TinyNHWC()).fit(X, Y, verbose=0)
    with pytest.raises(ValueError, match=r"is not compiled: call model.compile\(...\) before "
                       r"model.fit\(\)"):  # fmt: skip
        cnnkit_mlp().fit(X, Y)
