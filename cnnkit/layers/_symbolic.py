"""Symbolic tensors and nodes of the functional API, and Keras-style automatic names.

Calling a layer on a :class:`KerasTensor` records a :class:`Node` (the layer,
its inputs and outputs) instead of computing anything; ``cnnkit.models``
walks these nodes to build a functional model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "CalledLayer",
    "KerasTensor",
    "Node",
    "Shape",
    "reset_layer_names",
    "snake_case",
    "unique_name",
]

Shape = tuple[int | None, ...]
"""A Keras-layout shape with the batch axis first, ``None`` where unknown."""

_NAME_COUNTS: dict[str, int] = {}


def reset_layer_names() -> None:
    """Restart automatic naming (``conv2d``, ``conv2d_1``, ...) from scratch."""
    _NAME_COUNTS.clear()


def snake_case(class_name: str) -> str:
    """``MaxPooling2D`` -> ``max_pooling2d``, as Keras names layers."""
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", class_name)
    s = re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", s)
    return s.lower().replace("2_d", "2d").replace("1_d", "1d").replace("3_d", "3d")


def unique_name(prefix: str) -> str:
    """Keras-style automatic name: first ``prefix``, then ``prefix_1``, ``prefix_2``..."""
    count = _NAME_COUNTS.get(prefix, 0)
    _NAME_COUNTS[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


class CalledLayer(Protocol):
    """What a :class:`Node` needs of the layer it records (``Layer`` is one).

    A protocol rather than ``Layer`` itself keeps the imports one way:
    ``_base`` builds nodes, this module never imports ``_base``.
    """

    name: str

    def compute_output_shape(self, input_shape: Any) -> Any:
        """Output shape(s) for ``input_shape``."""
        ...


@dataclass
class Node:
    """One call of a layer on symbolic inputs: the edges of the functional graph.

    Attributes:
        layer: The layer that was called.
        inputs: The symbolic inputs, flattened to a list.
        outputs: The symbolic outputs, flattened to a list.
        list_input: True when the layer was called with a list (merge layers).
        call_kwargs: Extra keyword arguments of the call (e.g. ``training``).
    """

    layer: CalledLayer
    inputs: list[KerasTensor]
    outputs: list[KerasTensor] = field(default_factory=list)
    list_input: bool = False
    call_kwargs: dict[str, Any] = field(default_factory=dict)


class KerasTensor:
    """A symbolic tensor: a Keras-layout shape and the node that produced it.

    Args:
        shape: Shape with the batch axis first (``None`` when unknown).
        node: The :class:`Node` that produced it; ``None`` only for raw inputs.
        index: Which output of ``node`` this is.
        name: Display name, e.g. ``"input_layer"``.
    """

    def __init__(self, shape: Shape, node: Node | None = None, index: int = 0, name: str = ""):
        self.shape: Shape = tuple(shape)
        self.node = node
        self.index = index
        self.name = name

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape} name={self.name!r}>"
