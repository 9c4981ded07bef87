"""``Sequential``: a plain stack of layers, built as soon as its input shape is known."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from torch import nn

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.layers import InputLayer, KerasTensor, Layer
from cnnkit.models._model import Model
from cnnkit.models._model_utils import unknown_input_shape_error
from cnnkit.models._serialization import deserialize_layer, serialize_layer

__all__ = ["Sequential"]


class Sequential(Model):
    """A linear stack of layers, like ``keras.Sequential``.

    The input shape comes from ``input_shape=`` on the first layer, from a
    leading ``Input(shape=...)``, from :meth:`build`, or from the first batch;
    every layer is built (weights created, shapes checked) as soon as it is known.

    Args:
        layers: Layers to add in order; may start with ``Input(shape=...)``.
        name: Model name; automatic (``sequential``, ``sequential_1``, ...) when None.
        trainable: False freezes every layer.

    Example:
        >>> model = Sequential([Input(shape=(28, 28, 1)), Conv2D(32, 3, activation="relu")])
        >>> model.output_shape
        (None, 26, 26, 32)
    """

    def __init__(
        self,
        layers: Iterable[Any] | None = None,
        name: str | None = None,
        trainable: bool = True,
        **kwargs: Any,
    ):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._input_layer: InputLayer | None = None
        self._stack: list[nn.Module] = []
        #: Symbolic tensors once built: the input, then each layer's output.
        self._tensors: list[KerasTensor] = []
        if layers is not None:
            if isinstance(layers, (Layer, KerasTensor)):
                layers = [layers]
            for layer in layers:
                self.add(layer)

    # ------------------------------------------------------------------ building the stack
    def add(self, layer: Any) -> None:
        """Append a layer (or a leading ``Input``); builds it at once when shapes are known.

        Raises:
            TypeError: ``layer`` is not a cnnkit layer.
            ValueError: a second ``Input``, a duplicate layer name, or the layer does
                not accept the current output shape (the layer's own check).
        """
        input_layer = _as_input_layer(layer)
        if input_layer is not None:
            if self._stack or self._input_layer is not None:
                raise invalid_value(
                    f"Sequential '{self.name}': an Input can only be the first entry.",
                    received={"layer": input_layer.name, "position": len(self._stack)},
                )
            self._input_layer = input_layer
            return
        if not isinstance(layer, Layer):
            raise invalid_type(
                f"Sequential '{self.name}': add() expects a cnnkit layer (or Input(...)).",
                received={"layer": type(layer).__name__},
                hint="Plain torch modules have no shape inference; wrap them in a "
                "cnnkit.layers.Layer subclass, or subclass cnnkit.models.Model.",
            )
        if layer.name in self._modules or any(layer.name == m.name for m in self._stack):
            raise invalid_value(
                f"Sequential '{self.name}': layer names must be unique; "
                f"'{layer.name}' is already in the model.",
                received={"name": layer.name},
            )
        tensors = list(self._tensors)
        if not tensors and not self._stack:
            shape = self._input_shape_of_input_layer() or layer._batch_input_shape
            if shape is not None:
                tensors = [self._input_tensor(shape)]
        if tensors:
            # Build first so that a layer that rejects the shape is not half-added.
            tensors.append(self._call_symbolic(layer, tensors[-1]))
        self._register_layer(layer)
        self._stack.append(layer)
        self._set_tensors(tensors)
        if not self._trainable:
            layer.trainable = False

    def _set_tensors(self, tensors: list[KerasTensor]) -> None:
        self._tensors = tensors
        if tensors:
            self.built = True
            self._build_input_shape = tensors[0].shape

    def _input_tensor(self, shape: Any) -> KerasTensor:
        """The graph's root: the user's ``Input`` if it has this shape, else a new one."""
        shape = tuple(shape)
        given = self._input_layer
        if given is not None and tuple(given._batch_input_shape)[1:] == shape[1:]:
            return given.output
        return InputLayer(batch_input_shape=(None, *shape[1:]), name=f"{self.name}_input").output

    def _call_symbolic(self, layer: Layer, tensor: KerasTensor) -> KerasTensor:
        out = layer(tensor)
        if not isinstance(out, KerasTensor):
            raise invalid_value(
                f"Sequential '{self.name}': layer '{layer.name}' returns several tensors; "
                "a Sequential model needs one output per layer (use the functional API).",
                received={"layer": layer.name},
            )
        return out

    def _input_shape_of_input_layer(self) -> Any:
        layer = self._input_layer
        return None if layer is None else tuple(layer._batch_input_shape)

    def pop(self) -> nn.Module:
        """Remove and return the last layer.

        Raises:
            ValueError: the model has no layers.
        """
        if not self._stack:
            raise invalid_value(
                f"Sequential '{self.name}': pop() on a model with no layers.",
                received={"len(layers)": 0},
            )
        layer = self._stack.pop()
        del self._modules[layer.name]
        if len(self._tensors) > len(self._stack) + 1:
            self._tensors.pop()
        return layer

    @property
    def _shapes(self) -> list[tuple[Any, Any]]:
        """(input shape, output shape) of every layer once the model is built."""
        t = self._tensors
        return [(t[i].shape, t[i + 1].shape) for i in range(len(t) - 1)]

    def _summary_records(self, depth: int) -> list[tuple[Any, ...]]:
        """One summary record per layer, from the shapes found when building."""
        return [
            (layer, shape_in, shape_out, [], depth, False)
            for layer, (shape_in, shape_out) in zip(self.layers, self._shapes, strict=True)
        ]

    @property
    def inputs(self) -> list[KerasTensor]:
        """The symbolic input tensor (as a list, like Keras) once the model is built."""
        self._require_built("read the inputs of")
        return [self._tensors[0]]

    @property
    def outputs(self) -> list[KerasTensor]:
        """The symbolic output tensor (as a list) once the model is built."""
        self._require_built("read the outputs of")
        return [self._tensors[-1]]

    @property
    def input(self) -> KerasTensor:
        """The symbolic input, e.g. for ``Model(seq.input, ...)``."""
        return self.inputs[0]

    @property
    def output(self) -> KerasTensor:
        """The symbolic output of the last layer."""
        return self.outputs[0]

    @property
    def layers(self) -> list[nn.Module]:
        """The layers in order (a leading ``Input`` is not listed, as in Keras)."""
        return list(self._stack)

    def build(self, input_shape: Any = None) -> None:
        """Build every layer for ``input_shape`` (batch axis first), e.g. ``(None, 28, 28, 1)``."""
        if input_shape is None:
            input_shape = self._known_input_shape()
            if input_shape is None:
                raise unknown_input_shape_error(self.name, "build")
        tensors = [self._input_tensor(input_shape)]
        for layer in self._stack:
            tensors.append(self._call_symbolic(layer, tensors[-1]))
        self._set_tensors(tensors)

    def _known_input_shape(self) -> Any:
        if self._tensors:
            return self._tensors[0].shape
        if self._input_layer is not None:
            return self._input_shape_of_input_layer()
        if self._stack and self._stack[0]._batch_input_shape is not None:
            return self._stack[0]._batch_input_shape
        return super()._known_input_shape()

    def _require_built(self, action: str) -> None:
        if len(self._tensors) != len(self._stack) + 1:
            shape = self._known_input_shape()
            if shape is None:
                raise unknown_input_shape_error(self.name, action)
            self.build(shape)

    def compute_output_shape(self, input_shape: Any) -> Any:
        """Output shape for ``input_shape``, layer by layer."""
        shape: Any = (None, *tuple(input_shape)[1:])
        if self._tensors and self._tensors[0].shape == shape:
            return self._tensors[-1].shape
        for layer in self._stack:
            shape = layer.compute_output_shape(shape)
        return shape

    def check_input_shape(self, input_shape: Any) -> None:
        """Delegate to the first layer's check (the model has no rule of its own)."""
        if self._stack and isinstance(self._stack[0], Layer):
            self._stack[0].check_input_shape(input_shape)

    def _maybe_build(self, input_shape: Any) -> None:
        if len(self._tensors) != len(self._stack) + 1:
            self.build(input_shape)
            self._apply_trainable()

    # ------------------------------------------------------------------ running
    def call(self, inputs: Any, training: bool | None = None) -> Any:
        """Run the layers in order on a Keras-layout batch."""
        x = inputs
        for layer in self._stack:
            x = layer(x, training=training)
        return x

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict[str, Any]:
        """``{"name", "trainable", "layers": [...], "build_input_shape"}``.

        ``layers`` starts with the InputLayer when the model was given one.
        """
        entries = [self._input_layer] if self._input_layer is not None else []
        config: dict[str, Any] = {
            "name": self.name,
            "trainable": self.trainable,
            "layers": [serialize_layer(layer) for layer in [*entries, *self._stack]],
        }
        if self._tensors:
            # Built from build() or a first batch: keep the shape, as Keras does.
            config["build_input_shape"] = list(self._tensors[0].shape)
        return config

    @classmethod
    def from_config(
        cls, config: dict[str, Any], custom_objects: dict[str, type] | None = None
    ) -> Sequential:
        """Rebuild from :meth:`get_config` output (unbuilt weights are freshly initialised)."""
        layers = [deserialize_layer(entry, custom_objects) for entry in config.get("layers", [])]
        model = cls(layers, name=config.get("name"), trainable=config.get("trainable", True))
        shape = config.get("build_input_shape")
        if shape is not None and not model.built:
            model.build(shape)
        return model


def _as_input_layer(layer: Any) -> InputLayer | None:
    if isinstance(layer, InputLayer):
        return layer
    if (
        isinstance(layer, KerasTensor)
        and layer.node is not None
        and isinstance(layer.node.layer, InputLayer)
    ):
        return layer.node.layer
    if isinstance(layer, KerasTensor):
        raise invalid_type(
            "Sequential: only the output of Input(...) can be added as a tensor; "
            "add layers, not tensors of a functional graph.",
            received={"layer": layer},
        )
    return None
