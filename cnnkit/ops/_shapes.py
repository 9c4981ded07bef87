"""Shape and parameter arithmetic of a convolution, with human-readable derivations.

Padding names follow TensorFlow/Keras:

* ``"valid"``: no padding; the kernel only visits positions where it fits.
* ``"same"``: TensorFlow's rule. The output length is ``ceil(n / s)`` and the
  total padding is ``max((ceil(n / s) - 1)·s + (k - 1)·d + 1 - n, 0)``, split
  with the smaller half *before* (top/left) and the extra pixel *after*
  (bottom/right). PyTorch's ``padding="same"`` differs for even kernels and
  does not allow strides > 1, so this is the rule to use for Keras parity.
* ``"full"``: ``d·(k - 1)`` zeros on both sides, so every partial overlap
  counts (the ``"full"`` mode of ``scipy.signal.convolve2d``).
* an int ``p``: ``p`` on both sides; a pair ``(before, after)``: explicit.
"""

from __future__ import annotations

import operator

from cnnkit._errors import invalid_value
from cnnkit.ops._checks import non_negative_int, pair, positive_int

__all__ = [
    "PADDING_NAMES",
    "conv_output_size",
    "conv_output_size_formula",
    "conv_params",
    "conv_params_formula",
    "resolve_padding",
    "same_padding",
]

PADDING_NAMES = ("valid", "same", "full")

PaddingSpec = str | int | tuple[int, int]


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def same_padding(n: int, kernel_size: int, strides: int = 1, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow/Keras ``"SAME"`` padding of one axis.

    Args:
        n: Input length along the axis.
        kernel_size: Kernel length ``k``.
        strides: Step ``s``; default 1.
        dilation: Dilation ``d``; default 1.

    Returns:
        ``(before, after)``: ``total = max((ceil(n/s) - 1)·s + (k-1)·d + 1 - n, 0)``,
        ``before = total // 2`` and the extra pixel, if any, goes ``after``.
    """
    n = positive_int(n, "n", "same_padding")
    k = positive_int(kernel_size, "kernel_size", "same_padding")
    s = positive_int(strides, "strides", "same_padding")
    d = positive_int(dilation, "dilation", "same_padding")
    total = max((_ceil_div(n, s) - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


def resolve_padding(
    n: int,
    kernel_size: int,
    strides: int = 1,
    padding: PaddingSpec = "valid",
    dilation: int = 1,
    where: str = "conv_output_size",
) -> tuple[int, int]:
    """The ``(before, after)`` zeros that ``padding`` adds to an axis of length ``n``.

    Raises:
        ValueError: For an unknown padding name, negative amounts, or when the
            (dilated) kernel is larger than the padded input.
    """
    k = positive_int(kernel_size, "kernel_size", where)
    d = positive_int(dilation, "dilation", where)
    s = positive_int(strides, "strides", where)
    n = positive_int(n, "n", where)
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0, 0)
        elif padding == "same":
            pads = same_padding(n, k, s, d)
        elif padding == "full":
            pads = ((k - 1) * d, (k - 1) * d)
        else:
            raise invalid_value(
                f"{where}: unknown padding {padding!r}.",
                received={"padding": padding},
                choices=[*PADDING_NAMES, "an int", "(before, after)"],
            )
    elif isinstance(padding, tuple | list):
        pads = pair(padding, "padding", where, positive=False)
    else:
        p = non_negative_int(padding, "padding", where)
        pads = (p, p)
    effective = (k - 1) * d + 1
    if n + pads[0] + pads[1] < effective:
        raise invalid_value(
            f"{where}: the kernel is larger than the padded input.",
            expected=f"a (dilated) kernel of at most {n + pads[0] + pads[1]} pixels "
            f"(input {n} + padding {pads[0]} + {pads[1]})",
            received={"kernel_size": k, "dilation": d, "n": n, "padding": padding},
        )
    return pads


def conv_output_size(
    n: int,
    kernel_size: int,
    strides: int = 1,
    padding: PaddingSpec = "valid",
    dilation: int = 1,
) -> int:
    """Output length of a convolution or pooling along one axis.

    ``floor((n + before + after - (d·(k - 1) + 1)) / s) + 1``; for ``"same"``
    this equals ``ceil(n / s)``.

    Args:
        n: Input length.
        kernel_size: Kernel length ``k``.
        strides: Step ``s``; default 1.
        padding: ``"valid"`` (default), ``"same"``, ``"full"``, an int, or ``(before, after)``.
        dilation: Dilation ``d``; default 1.

    Example:
        >>> conv_output_size(32, 5)
        28
        >>> conv_output_size(7, 3, strides=2, padding="same")
        4
    """
    before, after = resolve_padding(n, kernel_size, strides, padding, dilation)
    # resolve_padding has validated these as integers; operator.index keeps numpy ints exact.
    n, k, s, d = (operator.index(v) for v in (n, kernel_size, strides, dilation))
    return (n + before + after - ((k - 1) * d + 1)) // s + 1


def conv_output_size_formula(
    n: int,
    kernel_size: int,
    strides: int = 1,
    padding: PaddingSpec = "valid",
    dilation: int = 1,
) -> str:
    """The derivation of :func:`conv_output_size` as text.

    Examples:
        ``conv_output_size_formula(6, 3, padding=1)`` -> ``"(6 + 2·1 − 3) / 1 + 1 = 6"``;
        ``conv_output_size_formula(32, 5)`` -> ``"(32 − 5) / 1 + 1 = 28"``;
        ``conv_output_size_formula(7, 3, 2, "same")`` -> ``"ceil(7 / 2) = 4"``;
        a division that does not come out even is written ``floor(...)``.
    """
    out = conv_output_size(n, kernel_size, strides, padding, dilation)
    if padding == "same":
        return f"ceil({n} / {strides}) = {out}"
    before, after = resolve_padding(n, kernel_size, strides, padding, dilation)
    if before == after == 0:
        pad_text = ""
    elif before == after:
        pad_text = f" + 2·{before}"
    else:
        pad_text = f" + {before} + {after}"
    n, k, s, d = (operator.index(v) for v in (n, kernel_size, strides, dilation))
    k_text = str(k) if d == 1 else f"({d}·({k} − 1) + 1)"
    numerator = f"{n}{pad_text} − {k_text}"
    if (n + before + after - ((k - 1) * d + 1)) % s == 0:
        return f"({numerator}) / {s} + 1 = {out}"
    return f"floor(({numerator}) / {s}) + 1 = {out}"


def conv_params(
    kernel_size: int | tuple[int, int],
    in_channels: int,
    filters: int,
    use_bias: bool = True,
) -> int:
    """Trainable parameters of a 2-D convolution: ``filters·(kh·kw·in_channels) + bias``.

    Args:
        kernel_size: ``k`` or ``(kh, kw)``.
        in_channels: Channels of the input.
        filters: Number of output channels.
        use_bias: One bias per filter when True (default).

    Example:
        >>> conv_params(5, 1, 6)
        156
    """
    kh, kw = pair(kernel_size, "kernel_size", "conv_params")
    cin = positive_int(in_channels, "in_channels", "conv_params")
    f = positive_int(filters, "filters", "conv_params")
    return f * kh * kw * cin + (f if use_bias else 0)


def conv_params_formula(
    kernel_size: int | tuple[int, int],
    in_channels: int,
    filters: int,
    use_bias: bool = True,
) -> str:
    """The derivation of :func:`conv_params`, e.g. ``"6 × (5×5×1) + 6 = 156"``."""
    total = conv_params(kernel_size, in_channels, filters, use_bias)
    kh, kw = pair(kernel_size, "kernel_size", "conv_params")
    bias = f" + {filters}" if use_bias else ""
    return f"{filters} × ({kh}×{kw}×{in_channels}){bias} = {total}"
