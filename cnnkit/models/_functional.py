"""Functional models: ``Model(inputs, outputs)`` over a DAG of layer calls.

:class:`FunctionalGraph` is everything a functional model does; the class users
meet, ``Functional``, is ``FunctionalGraph`` plus :class:`~cnnkit.models.Model`
and lives in ``_model.py`` beside ``Model`` (whose ``__new__`` returns one), so
this module needs nothing from ``_model.py``.

Branches, merges (residual and inception blocks), several inputs and outputs,
and layers called more than once (shared weights) all work. Layers are
registered as sub-modules under their own names, in topological order, so
``state_dict()`` keys read ``conv2d.weight``, ``dense_1.bias``, ...
"""

from __future__ import annotations

from typing import Any

from torch import nn

from cnnkit._errors import format_error, invalid_value
from cnnkit.layers import InputLayer, KerasTensor, Layer
from cnnkit.models._graph import build_graph, flatten_tensors
from cnnkit.models._serialization import deserialize_layer, serialize_layer

__all__ = ["FunctionalGraph"]


class FunctionalGraph:
    """The functional-model behaviour, mixed in before ``Model`` by ``Functional``.

    Expects ``Model``'s ``__init__``, ``name``, ``trainable``, ``_trainable``,
    ``_register_layer`` and ``_apply_trainable``.
    """

    name: str
    trainable: bool
    _trainable: bool
    _summary_shows_connections = True

    def __init__(
        self,
        inputs: Any,
        outputs: Any,
        name: str | None = None,
        trainable: bool = True,
        **kwargs: Any,
    ):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._inputs = flatten_tensors(inputs, "inputs")
        self._outputs = flatten_tensors(outputs, "outputs")
        self._inputs_are_list = isinstance(inputs, (list, tuple, dict))
        self._outputs_are_list = isinstance(outputs, (list, tuple, dict))
        graph = build_graph(self._inputs, self._outputs)
        self._graph = graph
        for layer in graph.layers:
            self._register(layer)
        shapes = [t.shape for t in self._inputs]
        self._build_input_shape = shapes if self._inputs_are_list else shapes[0]
        self.built = True
        if not self._trainable:
            self._apply_trainable()

    def _register(self, layer: Layer) -> None:
        existing = self._modules.get(layer.name)
        if existing is not None and existing is not layer:
            raise invalid_value(
                f"Model '{self.name}': layer names must be unique; two different layers "
                f"are named '{layer.name}'.",
                received={"name": layer.name},
            )
        self._register_layer(layer)

    # ------------------------------------------------------------------ structure
    @property
    def layers(self) -> list[nn.Module]:
        """Layers in topological order, input layers first (as Keras lists them)."""
        return list(self._graph.layers)

    @property
    def inputs(self) -> list[KerasTensor]:
        """The symbolic input tensors."""
        return list(self._inputs)

    @property
    def outputs(self) -> list[KerasTensor]:
        """The symbolic output tensors."""
        return list(self._outputs)

    @property
    def input(self) -> Any:
        """The input tensor, or the list of them for a multi-input model (Keras)."""
        return list(self._inputs) if self._inputs_are_list else self._inputs[0]

    @property
    def output(self) -> Any:
        """The output tensor, or the list of them for a multi-output model (Keras)."""
        return list(self._outputs) if self._outputs_are_list else self._outputs[0]

    def node_label(self, tensor: KerasTensor) -> str:
        """Keras' ``layer_name[node_index][tensor_index]`` label of a tensor in this graph."""
        node = tensor.node
        if node is None:
            return tensor.name
        k = self._graph.node_index.get(id(node), 0)
        return f"{node.layer.name}[{k}][{tensor.index}]"

    def _summary_records(self, depth: int) -> list[tuple[Any, ...]]:
        """One summary record per layer call, input layers first (``_summary_rows.Record``)."""
        out: list[tuple[Any, ...]] = [
            (t.node.layer, t.shape, t.shape, [], depth, False)
            for t in self._inputs
            if t.node is not None
        ]
        for node in self._graph.nodes:
            shapes_in = [t.shape for t in node.inputs]
            out.append(
                (
                    node.layer,
                    shapes_in if node.list_input else shapes_in[0],
                    [t.shape for t in node.outputs] if len(node.outputs) > 1
                    else node.outputs[0].shape,
                    [self.node_label(t) for t in node.inputs],
                    depth,
                    self._graph.node_index[id(node)] > 0,
                )
            )  # fmt: skip
        return out

    # ------------------------------------------------------------------ shapes
    def compute_output_shape(self, input_shape: Any) -> Any:
        """Output shape(s) for ``input_shape`` by propagating shapes through the graph."""
        shapes_in = input_shape if self._inputs_are_list else [input_shape]
        shapes: dict[int, Any] = {
            id(t): (None, *tuple(s)[1:]) for t, s in zip(self._inputs, shapes_in, strict=True)
        }
        for node in self._graph.nodes:
            given = [shapes[id(t)] for t in node.inputs]
            out = node.layer.compute_output_shape(given if node.list_input else given[0])
            outs = out if isinstance(out, list) else [out]
            for t, s in zip(node.outputs, outs, strict=True):
                shapes[id(t)] = s
        result = [shapes[id(t)] for t in self._outputs]
        return result if self._outputs_are_list else result[0]

    def check_input_shape(self, input_shape: Any) -> None:
        """Each input must have the rank and the known sizes of its ``Input``."""
        given = input_shape if isinstance(input_shape, list) else [input_shape]
        if len(given) != len(self._inputs):
            raise invalid_value(
                f"Model '{self.name}' expects {len(self._inputs)} input(s) but was called "
                f"with {len(given)}.",
                received={"input_shapes": given},
            )
        for i, (t, shape) in enumerate(zip(self._inputs, given, strict=True)):
            expected = t.shape
            ok = len(shape) == len(expected) and all(
                e is None or g is None or e == g
                for e, g in zip(expected[1:], shape[1:], strict=True)
            )
            if not ok:
                raise ValueError(
                    format_error(
                        f"Input {i} of model '{self.name}' ('{t.name}') is incompatible with "
                        "the model.",
                        expected=f"shape {expected}",
                        received={"input_shape": tuple(shape)},
                    )
                )

    # ------------------------------------------------------------------ running
    def call(self, inputs: Any, training: bool | None = None) -> Any:
        """Run every layer call in topological order; frees activations after last use."""
        flat = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        values: dict[int, Any] = {id(t): x for t, x in zip(self._inputs, flat, strict=True)}
        for node, free in zip(self._graph.nodes, self._graph.free_after, strict=True):
            args = [values[id(t)] for t in node.inputs]
            kwargs = dict(node.call_kwargs)
            kwargs.setdefault("training", training)
            out = node.layer(args if node.list_input else args[0], **kwargs)
            outs = out if isinstance(out, (list, tuple)) else [out]
            for t, o in zip(node.outputs, outs, strict=True):
                values[id(t)] = o
            for tensor_id in free:
                values.pop(tensor_id, None)
        result = [values[id(t)] for t in self._outputs]
        return result if self._outputs_are_list else result[0]

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict[str, Any]:
        """Layer configs plus graph edges, like Keras' functional config."""
        inbound: dict[int, list[dict[str, Any]]] = {id(layer): [] for layer in self._graph.layers}
        for node in self._graph.nodes:
            inbound[id(node.layer)].append(
                {
                    "args": [self._ref(t) for t in node.inputs],
                    "list_input": node.list_input,
                    "kwargs": dict(node.call_kwargs),
                }
            )
        return {
            "name": self.name,
            "trainable": self.trainable,
            "layers": [
                {**serialize_layer(layer), "inbound_nodes": inbound[id(layer)]}
                for layer in self._graph.layers
            ],
            "input_layers": [self._ref(t) for t in self._inputs],
            "output_layers": [self._ref(t) for t in self._outputs],
            "inputs_are_list": self._inputs_are_list,
            "outputs_are_list": self._outputs_are_list,
        }

    def _ref(self, tensor: KerasTensor) -> list[Any]:
        node = tensor.node
        k = self._graph.node_index.get(id(node), 0) if node is not None else 0
        return [node.layer.name if node is not None else tensor.name, k, tensor.index]

    @classmethod
    def from_config(
        cls, config: dict[str, Any], custom_objects: dict[str, type] | None = None
    ) -> Any:
        """Rebuild layers and re-run their calls on symbolic tensors (fresh weights)."""
        tensors: dict[tuple[str, int, int], KerasTensor] = {}
        pending: list[tuple[Layer, int, dict[str, Any]]] = []
        for entry in _as_list(config.get("layers"), "layers"):
            layer = deserialize_layer(entry, custom_objects)
            if isinstance(layer, InputLayer):
                tensors[(layer.name, 0, 0)] = layer.output
            for k, call in enumerate(_as_list(entry.get("inbound_nodes", []), "inbound_nodes")):
                pending.append((layer, k, call))
        next_call: dict[int, int] = {}
        while pending:
            waiting = []
            for layer, k, call in pending:
                refs = [_ref_key(r) for r in _as_list(call.get("args"), "args")]
                if next_call.get(id(layer), 0) != k or any(r not in tensors for r in refs):
                    waiting.append((layer, k, call))
                    continue
                args = [tensors[r] for r in refs]
                out = layer(args if call.get("list_input") else args[0], **call.get("kwargs", {}))
                for i, t in enumerate(out if isinstance(out, list) else [out]):
                    tensors[(layer.name, k, i)] = t
                next_call[id(layer)] = k + 1
            if len(waiting) == len(pending):
                raise invalid_value(
                    "Corrupted functional config: some layer calls refer to tensors that "
                    "no layer produces.",
                    received={"unresolved": [f"{lay.name}[{k}]" for lay, k, _ in waiting]},
                )
            pending = waiting

        def pick(key: str) -> list[KerasTensor]:
            refs = [_ref_key(r) for r in _as_list(config.get(key), key)]
            missing = [r for r in refs if r not in tensors]
            if missing:
                raise invalid_value(
                    f"Corrupted functional config: `{key}` names unknown tensors.",
                    received={key: missing},
                )
            return [tensors[r] for r in refs]

        inputs, outputs = pick("input_layers"), pick("output_layers")
        return cls(
            inputs if config.get("inputs_are_list") else inputs[0],
            outputs if config.get("outputs_are_list") else outputs[0],
            name=config.get("name"),
            trainable=config.get("trainable", True),
        )


def _as_list(value: Any, key: str) -> list[Any]:
    if not isinstance(value, list):
        raise invalid_value(
            f"Corrupted model config: `{key}` must be a list.", received={key: type(value).__name__}
        )
    return value


def _ref_key(ref: Any) -> tuple[str, int, int]:
    if (
        not isinstance(ref, list)
        or len(ref) != 3
        or not isinstance(ref[0], str)
        or not all(isinstance(v, int) for v in ref[1:])
    ):
        raise invalid_value(
            "Corrupted functional config: a tensor reference must be [layer_name, node, index].",
            received={"ref": ref},
        )
    return (ref[0], ref[1], ref[2])
