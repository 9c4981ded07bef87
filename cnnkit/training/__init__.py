"""The training engine: compile/fit/evaluate/predict, losses, metrics, optimizers.

``model.compile(...)`` creates a :class:`Trainer`; it also works on any plain
``torch.nn.Module`` that takes Keras-layout (channels-last) batches::

    trainer = Trainer(module, optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    history = trainer.fit(x_train, y_train, epochs=2, batch_size=64)
"""

from cnnkit.training import distributed, losses, metrics, optimizers
from cnnkit.training._steps import predict
from cnnkit.training._trainer import Trainer

__all__ = [
    "Trainer",
    "distributed",
    "losses",
    "metrics",
    "optimizers",
    "predict",
]
