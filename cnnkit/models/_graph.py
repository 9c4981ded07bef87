"""The functional graph: walk ``KerasTensor.node`` back from the outputs to the inputs.

``Layer._symbolic_call`` records one :class:`~cnnkit.layers.Node` per call of a
layer on symbolic tensors. A functional model is the set of nodes between its
input and output tensors, run in a topological order. Nothing here is
recursive, so very deep graphs (ResNet-152) do not hit Python's recursion limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.layers import KerasTensor, Layer, Node

__all__ = ["Graph", "build_graph", "flatten_tensors"]


def flatten_tensors(value: Any, argument: str) -> list[KerasTensor]:
    """``value`` (one tensor, or a list/tuple/dict of them) as a flat list of KerasTensors."""
    if isinstance(value, dict):
        value = list(value.values())
    flat = list(value) if isinstance(value, (list, tuple)) else [value]
    if not flat:
        raise invalid_value(f"Model: `{argument}` is empty.", received={argument: value})
    for t in flat:
        if not isinstance(t, KerasTensor):
            raise invalid_type(
                f"Model: every entry of `{argument}` must be a symbolic tensor, such as "
                "Input(...) or the result of calling a layer on one.",
                received={argument: type(t).__name__},
            )
    return flat


@dataclass
class Graph:
    """A functional model's graph.

    Attributes:
        nodes: Layer calls in a topological order (input layers excluded).
        layers: Distinct layers, input layers first, then by first call.
        node_index: ``id(node) -> k``: the node is the layer's k-th call in this graph.
        free_after: For each node, ids of tensors no later node needs (freed early
            so inference does not hold every activation).
    """

    nodes: list[Node]
    layers: list[Layer]
    node_index: dict[int, int]
    free_after: list[list[int]]


def _visit_order(inputs: Sequence[KerasTensor], outputs: Sequence[KerasTensor]) -> list[Node]:
    """Post-order DFS from the outputs; raises on tensors not reachable from ``inputs``."""
    sources = {id(t) for t in inputs}
    order: list[Node] = []
    done: set[int] = set()
    stack: list[tuple[KerasTensor, bool]] = [(t, False) for t in reversed(outputs)]
    while stack:
        tensor, expanded = stack.pop()
        if id(tensor) in sources:
            continue
        node = tensor.node
        if node is None or not node.inputs:
            names = ", ".join(t.name or repr(t.shape) for t in inputs)
            raise invalid_value(
                f"Graph disconnected: cannot reach tensor '{tensor.name}' "
                f"{tensor.shape} from the model inputs [{names}].",
                received={"tensor": tensor.name},
                hint="Pass every Input(...) the outputs depend on in `inputs=`.",
            )
        if id(node) in done:
            continue
        if expanded:
            done.add(id(node))
            order.append(node)
            continue
        stack.append((tensor, True))
        stack.extend((t, False) for t in reversed(node.inputs) if id(t.node) not in done)
    return order


def build_graph(inputs: Sequence[KerasTensor], outputs: Sequence[KerasTensor]) -> Graph:
    """Order the nodes between ``inputs`` and ``outputs`` and index them per layer."""
    for t in inputs:
        if t.node is not None and t.node.inputs:
            raise invalid_value(
                f"Model: input tensor '{t.name}' is the output of layer "
                f"'{t.node.layer.name}', not of Input(...).",
                received={"inputs": t.name},
                hint="Model inputs must be the tensors returned by Input(...).",
            )
    nodes = _visit_order(inputs, outputs)
    layers: list[Layer] = []
    seen: set[int] = set()
    for t in inputs:
        if t.node is not None and id(t.node.layer) not in seen:
            seen.add(id(t.node.layer))
            layers.append(t.node.layer)
    node_index: dict[int, int] = {}
    calls: dict[int, int] = {}
    for node in nodes:
        k = calls.get(id(node.layer), 0)
        calls[id(node.layer)] = k + 1
        node_index[id(node)] = k
        if id(node.layer) not in seen:
            seen.add(id(node.layer))
            layers.append(node.layer)
    return Graph(nodes, layers, node_index, _free_schedule(nodes, outputs))


def _free_schedule(nodes: list[Node], outputs: Sequence[KerasTensor]) -> list[list[int]]:
    keep = {id(t) for t in outputs}
    last_use: dict[int, int] = {}
    for i, node in enumerate(nodes):
        for t in node.inputs:
            last_use[id(t)] = i
    free: list[list[int]] = [[] for _ in nodes]
    for tensor_id, i in last_use.items():
        if tensor_id not in keep:
            free[i].append(tensor_id)
    return free
