"""NumPy reference image operations: padding, convolution, pooling, and their arithmetic.

This package imports NumPy only (never torch), so it is quick to import and
every result can be checked by hand.
"""

from cnnkit.ops._shapes import (
    PADDING_NAMES,
    conv_output_size,
    conv_output_size_formula,
    conv_params,
    conv_params_formula,
    same_padding,
)

__all__ = [
    "PADDING_NAMES",
    "conv_output_size",
    "conv_output_size_formula",
    "conv_params",
    "conv_params_formula",
    "same_padding",
]
