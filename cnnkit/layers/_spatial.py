"""Shape arithmetic shared by the convolution and pooling layers.

Spatial sizes may be ``None`` (unknown until data arrives); padding may be a
Keras name or explicit ``(before, after)`` pairs. "same" follows TensorFlow
(extra pixel bottom/right) through :func:`cnnkit.ops.same_padding`, and only
asymmetric padding costs an ``F.pad``; symmetric amounts go to the torch op.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from cnnkit._errors import invalid_value
from cnnkit.layers._args import Padding
from cnnkit.ops import conv_output_size, conv_output_size_formula, same_padding

__all__ = [
    "apply_padding",
    "channel_axis",
    "join_shape",
    "output_spatial",
    "pad_pairs",
    "spatial_formula",
    "spatial_of",
    "to_channels_first",
    "to_channels_last",
    "windowed_output_shape",
]

Pairs = tuple[tuple[int, int], ...]


def channel_axis(data_format: str) -> int:
    """Index of the channel axis in a Keras shape (batch axis included)."""
    return -1 if data_format == "channels_last" else 1


def spatial_of(shape: Sequence[int | None], data_format: str) -> tuple[int | None, ...]:
    """The spatial sizes of a full (batch-first) shape."""
    return tuple(shape[1:-1]) if data_format == "channels_last" else tuple(shape[2:])


def join_shape(
    batch: int | None, spatial: Sequence[int | None], channels: int | None, data_format: str
) -> tuple:
    """A full shape from its parts, in the order ``data_format`` puts them."""
    if data_format == "channels_last":
        return (batch, *spatial, channels)
    return (batch, channels, *spatial)


def pad_pairs(
    padding: Padding,
    sizes: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilation: Sequence[int],
) -> Pairs:
    """``(before, after)`` per spatial axis for known ``sizes``."""
    if padding == "valid":
        return tuple((0, 0) for _ in sizes)
    if padding == "same":
        return tuple(
            same_padding(n, k, s, d)
            for n, k, s, d in zip(sizes, kernel, strides, dilation, strict=True)
        )
    if padding == "causal":  # Conv1D: everything before, so output t sees inputs <= t
        return tuple(((k - 1) * d, 0) for k, d in zip(kernel, dilation, strict=True))
    return tuple(padding)  # explicit pairs, already normalised


def _axis_pair(padding: Padding, axis: int, n: int, k: int, s: int, d: int) -> tuple[int, int]:
    """``(before, after)`` of one spatial axis."""
    if isinstance(padding, str):
        return pad_pairs(padding, [n], [k], [s], [d])[0]
    return padding[axis]


def output_spatial(
    layer: str,
    padding: Padding,
    sizes: Sequence[int | None],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilation: Sequence[int],
) -> tuple[int | None, ...]:
    """Output sizes; raises a ValueError naming ``layer`` when the kernel does not fit."""
    out: list[int | None] = []
    for axis, (n, k, s, d) in enumerate(zip(sizes, kernel, strides, dilation, strict=True)):
        if n is None:
            out.append(None)
            continue
        before, after = _axis_pair(padding, axis, n, k, s, d)
        if n + before + after < (k - 1) * d + 1:
            raise invalid_value(
                f"{layer}: the kernel is larger than the (padded) input along spatial axis "
                f"{axis}: {n} + {before + after} padding < {(k - 1) * d + 1}.",
                expected="an input at least as large as the (dilated) kernel",
                received={"input_size": n, "kernel_size": tuple(kernel)},
                hint='Use padding="same", a smaller kernel, or a larger input.',
            )
        out.append(conv_output_size(n, k, s, (before, after), d))
    return tuple(out)


def windowed_output_shape(
    layer: str,
    input_shape: Sequence[int | None],
    data_format: str,
    channels: int | None,
    padding: Padding,
    window: Sequence[int],
    strides: Sequence[int],
    dilation: Sequence[int],
) -> tuple:
    """Output shape of a convolution or pooling layer with ``channels`` output channels."""
    sizes = spatial_of(input_shape, data_format)
    out = output_spatial(layer, padding, sizes, window, strides, dilation)
    return join_shape(input_shape[0], out, channels, data_format)


def spatial_formula(
    padding: Padding,
    sizes: Sequence[int | None],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilation: Sequence[int],
) -> str | None:
    """Per-axis derivation, e.g. ``"(32 − 5) / 1 + 1 = 28"`` once when all axes agree."""
    if any(n is None for n in sizes):
        return None
    parts = []
    for axis, (n, k, s, d) in enumerate(zip(sizes, kernel, strides, dilation, strict=True)):
        pair = "same" if padding == "same" else _axis_pair(padding, axis, n, k, s, d)
        parts.append(conv_output_size_formula(n, k, s, pair, d))
    if len(set(parts)) == 1:
        return parts[0]
    names = ("H", "W") if len(parts) == 2 else tuple(f"axis {i}" for i in range(len(parts)))
    return "; ".join(f"{name}: {p}" for name, p in zip(names, parts, strict=True))


def apply_padding(
    x: torch.Tensor,
    pairs: Pairs,
    value: float = 0.0,
    max_symmetric: Sequence[int] | None = None,
) -> tuple[torch.Tensor, tuple]:
    """Pad a channels-first tensor only where torch's symmetric padding cannot.

    Args:
        x: Channels-first tensor.
        pairs: ``(before, after)`` per spatial axis.
        value: Fill value (``-inf`` for max pooling).
        max_symmetric: Largest symmetric amount the torch op accepts per axis
            (pooling allows at most half the window); None means no limit.

    Returns:
        ``(x, padding)``: ``padding`` is the per-axis symmetric amount to hand to
        the torch op (conv/pool); ``x`` is padded with ``F.pad`` beforehand when
        any axis is asymmetric, in which case ``padding`` is all zeros.
    """
    limits = max_symmetric if max_symmetric is not None else [b for b, _ in pairs]
    if all(b == a and b <= lim for (b, a), lim in zip(pairs, limits, strict=True)):
        return x, tuple(b for b, _ in pairs)
    flat: list[int] = []
    for before, after in reversed(pairs):  # F.pad lists the last axis first
        flat += [before, after]
    return F.pad(x, flat, value=value), tuple(0 for _ in pairs)


def to_channels_first(x: torch.Tensor, data_format: str) -> torch.Tensor:
    """The free NCHW (NCL) view of a channels-last tensor; no copy."""
    if data_format == "channels_first":
        return x
    return x.permute(0, x.ndim - 1, *range(1, x.ndim - 1))


def to_channels_last(x: torch.Tensor, data_format: str) -> torch.Tensor:
    """Inverse of :func:`to_channels_first`; a view again."""
    if data_format == "channels_first":
        return x
    return x.permute(0, *range(2, x.ndim), 1)
