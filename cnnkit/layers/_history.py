"""Keras' ``layer.input``/``output``/``input_shape``/``output_shape`` from symbolic calls.

Every call of a layer on symbolic tensors (a functional graph, or a
``Sequential`` being built) records a :class:`Node`. The properties below read
the layer's *latest* node, so after ``Sequential([...])`` or ``Model(inputs,
outputs)`` they describe the graph the model runs, and Chollet's feature-map
pattern works::

    activation_model = Model(inputs=model.input,
                             outputs=[layer.output for layer in model.layers[:8]])

Keras 3 reads a layer's *first* call instead; cnnkit reads the latest, so a
``Sequential`` rebuilt for a new input shape reports the graph it now runs.
"""

from __future__ import annotations

from typing import Any

from cnnkit._errors import invalid_value
from cnnkit.layers._symbolic import Node

__all__ = ["NodeHistoryMixin"]


class NodeHistoryMixin:
    """Records symbolic calls and exposes their tensors under Keras' attribute names."""

    name: str
    _inbound_nodes: list[Node]

    def _record_node(self, node: Node) -> None:
        # The list is created lazily so subclasses need no __init__ cooperation.
        nodes = self.__dict__.get("_inbound_nodes")
        if nodes is None:
            nodes = []
            object.__setattr__(self, "_inbound_nodes", nodes)
        nodes.append(node)

    def _latest_node(self, attribute: str) -> Node:
        nodes = self.__dict__.get("_inbound_nodes")
        if not nodes:
            raise invalid_value(
                f"Layer '{self.name}' ({type(self).__name__}) has never been called on a "
                f"symbolic input and thus has no defined `{attribute}`.",
                received={"layer": self.name},
                hint="Use the layer in a Sequential model with a known input shape, or call "
                "it on Input(shape=...) in a functional model, before reading "
                f"`layer.{attribute}`.",
            )
        return nodes[-1]

    @property
    def input(self) -> Any:
        """The symbolic input of the latest call (a list for merge layers)."""
        return self._input_of(self._latest_node("input"))

    @staticmethod
    def _input_of(node: Node) -> Any:
        if not node.inputs:  # an InputLayer: its input is its output
            return node.outputs[0]
        return list(node.inputs) if node.list_input else node.inputs[0]

    @property
    def output(self) -> Any:
        """The symbolic output of the latest call (a list for several outputs)."""
        return self._output_of(self._latest_node("output"))

    @staticmethod
    def _output_of(node: Node) -> Any:
        return node.outputs[0] if len(node.outputs) == 1 else list(node.outputs)

    @property
    def input_shape(self) -> Any:
        """Keras-layout input shape of the latest call, e.g. ``(None, 28, 28, 1)``."""
        tensors = self._input_of(self._latest_node("input_shape"))
        return [t.shape for t in tensors] if isinstance(tensors, list) else tensors.shape

    @property
    def output_shape(self) -> Any:
        """Keras-layout output shape of the latest call, e.g. ``(None, 26, 26, 32)``."""
        tensors = self._output_of(self._latest_node("output_shape"))
        return [t.shape for t in tensors] if isinstance(tensors, list) else tensors.shape
