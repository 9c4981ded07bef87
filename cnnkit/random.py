"""Keras 3's ``keras.random`` path: ``normal``, ``uniform``, ``SeedGenerator``."""

from cnnkit.training._random import SeedGenerator, normal, uniform

__all__ = ["SeedGenerator", "normal", "uniform"]
