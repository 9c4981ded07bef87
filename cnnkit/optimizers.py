"""Keras' ``keras.optimizers`` path: ``keras.optimizers.Adam(learning_rate=1e-3)``.

Re-exports the optimizer specs of :mod:`cnnkit.training.optimizers`; each builds
the matching ``torch.optim`` optimizer once ``compile`` knows the parameters.
"""

from cnnkit.training.optimizers import (
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    AdamW,
    Nadam,
    Optimizer,
    RMSprop,
)

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Nadam", "Optimizer", "RMSprop"]
