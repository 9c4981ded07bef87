"""Keras-named losses: ``from cnnkit.training.losses import CategoricalCrossentropy``.

Also Keras' loss functions (``categorical_crossentropy(y_true, y_pred)``, ``mse``, ...).
"""

from cnnkit.training._loss_functions import (
    binary_crossentropy,
    categorical_crossentropy,
    mae,
    mean_absolute_error,
    mean_squared_error,
    mse,
    sparse_categorical_crossentropy,
)
from cnnkit.training._losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    FunctionLoss,
    Loss,
    MeanAbsoluteError,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
    get_loss,
)

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "FunctionLoss",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
    "binary_crossentropy",
    "categorical_crossentropy",
    "get_loss",
    "mae",
    "mean_absolute_error",
    "mean_squared_error",
    "mse",
    "sparse_categorical_crossentropy",
]
