"""Keras-named optimizer specs: ``from cnnkit.training.optimizers import Adam``."""

from cnnkit.training._optimizers import (
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    AdamW,
    Nadam,
    Optimizer,
    RMSprop,
    get_optimizer,
)

__all__ = [
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "get_optimizer",
]
