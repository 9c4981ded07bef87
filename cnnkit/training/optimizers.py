"""Keras-named optimizer specs: ``from cnnkit.training.optimizers import Adam``."""

from cnnkit.training._optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop, get_optimizer

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "get_optimizer"]
