"""Keras' ``keras.constraints`` path: ``kernel_constraint=keras.constraints.MaxNorm(3)``.

Re-exports the constraints of :mod:`cnnkit.layers` under Keras' class names
and its snake_case aliases of the same classes.
"""

from cnnkit.layers import Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm
from cnnkit.layers import get_constraint as get

# Keras' snake_case spellings are aliases of the classes, not separate objects.
max_norm = MaxNorm
min_max_norm = MinMaxNorm
non_neg = NonNeg
unit_norm = UnitNorm

__all__ = [
    "Constraint",
    "MaxNorm",
    "MinMaxNorm",
    "NonNeg",
    "UnitNorm",
    "get",
    "max_norm",
    "min_max_norm",
    "non_neg",
    "unit_norm",
]
