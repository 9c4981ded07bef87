"""NumPy reference image operations: padding, convolution, pooling, and their arithmetic.

This package imports NumPy only (never torch; Pillow only inside
:func:`sample_image`), so it is quick to import and every result can be
checked by hand. Images are ``(H, W)`` or ``(H, W, C)``; kernels ``(kh, kw)``,
``(kh, kw, C)`` or a Keras-layout filter bank ``(kh, kw, C, F)``.

"same" padding follows TensorFlow/Keras exactly: output ``ceil(n / s)``, and
when the total padding is odd (even kernels, strides > 1) the extra pixel goes
bottom/right.
"""

from cnnkit.ops._apply import SCALES, apply_kernel, suggested_scale, to_grayscale
from cnnkit.ops._correlate import convolve2d, correlate2d
from cnnkit.ops._explain import Explanation, Trace, explain, explain_all
from cnnkit.ops._kernels import KERNELS, kernel, kernel_description
from cnnkit.ops._pad import PAD_MODES, pad
from cnnkit.ops._parse import parse_kernel, parse_matrix
from cnnkit.ops._pool import POOL_MODES, POOL_PADDINGS, global_pool, pool2d
from cnnkit.ops._shapes import (
    PADDING_NAMES,
    conv_output_size,
    conv_output_size_formula,
    conv_params,
    conv_params_formula,
    same_padding,
)
from cnnkit.ops._test_card import make_test_card, sample_image
from cnnkit.ops._transpose import (
    TRANSPOSE_PADDINGS,
    TransposeExplanation,
    conv_transpose2d,
    conv_transpose_output_size,
    conv_transpose_output_size_formula,
    explain_transpose,
    render_transpose,
)

__all__ = [
    "KERNELS",
    "PADDING_NAMES",
    "PAD_MODES",
    "POOL_MODES",
    "POOL_PADDINGS",
    "SCALES",
    "TRANSPOSE_PADDINGS",
    "Explanation",
    "Trace",
    "TransposeExplanation",
    "apply_kernel",
    "conv_output_size",
    "conv_output_size_formula",
    "conv_params",
    "conv_params_formula",
    "conv_transpose2d",
    "conv_transpose_output_size",
    "conv_transpose_output_size_formula",
    "convolve2d",
    "correlate2d",
    "explain",
    "explain_all",
    "explain_transpose",
    "global_pool",
    "kernel",
    "kernel_description",
    "make_test_card",
    "pad",
    "parse_kernel",
    "parse_matrix",
    "pool2d",
    "render_transpose",
    "same_padding",
    "sample_image",
    "suggested_scale",
    "to_grayscale",
]
