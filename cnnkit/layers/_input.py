"""``Input`` and ``InputLayer``: where a functional model starts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from cnnkit._errors import invalid_value
from cnnkit.layers._base import KerasTensor, Layer, Node

__all__ = ["Input", "InputLayer"]


class InputLayer(Layer):
    """The layer behind :func:`Input`; passes its input through unchanged.

    Args:
        shape: Shape of one sample without the batch axis, e.g. ``(28, 28, 1)``;
            ``None`` entries are unknown sizes. (``input_shape=`` is accepted too.)
        batch_size: Optional fixed batch size.
        name: Default ``input_layer``, ``input_layer_1``, ...
    """

    def __init__(
        self,
        shape: Sequence[int | None] | None = None,
        batch_size: int | None = None,
        name: str | None = None,
        input_shape: Sequence[int | None] | None = None,
        batch_input_shape: Sequence[int | None] | None = None,
        **kwargs: Any,
    ):
        if batch_input_shape is None:
            sample = shape if shape is not None else input_shape
            if sample is None:
                raise invalid_value(
                    "Input: `shape` is required (the shape of one sample, without the batch axis).",
                    received={"shape": shape},
                    hint="For 28×28 grayscale images use Input(shape=(28, 28, 1)).",
                )
            if isinstance(sample, int):
                sample = (sample,)
            bad = [v for v in sample if v is not None and (not isinstance(v, int) or v < 1)]
            if bad:
                raise invalid_value(
                    "Input: every entry of `shape` must be a positive integer or None.",
                    received={"shape": tuple(sample)},
                )
            batch_input_shape = (batch_size, *tuple(sample))
        super().__init__(name=name, batch_input_shape=batch_input_shape, **kwargs)
        self.built = True
        node = Node(layer=self, inputs=[])
        node.outputs = [KerasTensor(self._batch_input_shape, node, 0, self.name)]
        self._record_node(node)  # `self.output` is then this tensor

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        return inputs


def Input(
    shape: Sequence[int | None] | None = None,
    batch_size: int | None = None,
    name: str | None = None,
    **kwargs: Any,
) -> KerasTensor:
    """A symbolic input of the given sample shape; returns a :class:`KerasTensor`.

    Example:
        >>> x = Input(shape=(28, 28, 1))
        >>> x.shape
        (None, 28, 28, 1)
    """
    return InputLayer(shape=shape, batch_size=batch_size, name=name, **kwargs).output
