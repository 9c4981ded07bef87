"""The ``Layer`` base class, symbolic tensors and the one central input check.

Layout convention (see DESIGN.md "Shapes"): every layer takes and returns
tensors in the Keras layout, ``(batch, height, width, channels)`` for images.
Convolution-like layers take the NCHW *view* of that memory inside their
``call`` (``x.permute(0, 3, 1, 2)`` is free and is exactly torch's
``channels_last`` memory format), so no copy is made at any boundary and
``Flatten``, ``Dense``, ``Concatenate(axis=-1)`` mean what they mean in Keras.

A layer is *built* (its weights created) as soon as its input shape is known:
from ``input_shape=`` on construction, from a symbolic :class:`KerasTensor`
(the functional API), or from the first real tensor it sees.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from cnnkit._errors import close_matches, format_error, invalid_type, invalid_value
from cnnkit.layers._added_losses import AddedLossesMixin
from cnnkit.layers._call_args import call_with_flags
from cnnkit.layers._history import NodeHistoryMixin
from cnnkit.layers._regularizers import get_regularizer, serialize_regularizer
from cnnkit.layers._symbolic import (
    KerasTensor,
    Node,
    Shape,
    reset_layer_names,
    snake_case,
    unique_name,
)
from cnnkit.layers._weights import WeightsMixin

__all__ = [
    "InputSpec",
    "KerasTensor",
    "Layer",
    "Node",
    "Shape",
    "reset_layer_names",
    "unique_name",
]


@dataclass
class InputSpec:
    """What a layer accepts: a rank, a minimum rank, and fixed sizes on some axes.

    Args:
        ndim: Exact rank including the batch axis, or None.
        min_ndim: Minimum rank including the batch axis, or None.
        axes: ``{axis: size}`` that must match, e.g. ``{-1: 3}`` once a
            convolution has been built for 3 input channels.
        layout: Human description used in messages, e.g.
            ``"(batch, height, width, channels)"``.
    """

    ndim: int | None = None
    min_ndim: int | None = None
    axes: dict[int, int] = field(default_factory=dict)
    layout: str = ""


class Layer(AddedLossesMixin, NodeHistoryMixin, WeightsMixin, nn.Module):
    """Base class of every cnnkit layer; a real :class:`torch.nn.Module`.

    Subclasses implement :meth:`build` (create weights for an input shape),
    :meth:`compute_output_shape` and :meth:`call`, and may override the
    explanation hooks :meth:`param_formula`, :meth:`output_size_formula` and
    :meth:`macs` used by ``summary``.

    Args:
        name: Layer name; automatic (``conv2d``, ``conv2d_1``, ...) when None.
        trainable: Whether the weights are updated by training. Setting it to
            False also makes BatchNormalization use its moving statistics.
        input_shape: Shape of one sample, without the batch axis, e.g.
            ``(28, 28, 1)``. Builds the layer at once.
        batch_input_shape: Full shape including the batch axis.
        batch_size: Fixed batch size to go with ``input_shape``.
        dtype: Accepted for Keras compatibility; only ``"float32"`` is supported.
        activity_regularizer: Penalty on the layer's output (name or callable),
            divided by the batch size as in Keras; see :meth:`regularization_losses`.
        weights: Initial weights in Keras order and layout (Keras 2's ``weights=``),
            set as soon as the layer is built.
    """

    input_spec: InputSpec | None = None
    #: Extra keyword arguments of Keras' constructor that cnnkit accepts and ignores.
    _ignored_keras_kwargs: ClassVar[frozenset[str]] = frozenset({"autocast", "input_dim"})

    def __init__(
        self,
        *,
        name: str | None = None,
        trainable: bool = True,
        input_shape: Sequence[int | None] | None = None,
        batch_input_shape: Sequence[int | None] | None = None,
        batch_size: int | None = None,
        dtype: Any = None,
        activity_regularizer: Any = None,
        weights: Sequence[np.ndarray] | None = None,
        **kwargs: Any,
    ):
        super().__init__()
        unknown = set(kwargs) - self._ignored_keras_kwargs
        if unknown:
            known = _constructor_arguments(type(self))
            close = [m for u in sorted(unknown) for m in close_matches(u, known, n=1)]
            raise invalid_type(
                f"{type(self).__name__}: unexpected keyword argument(s) {sorted(unknown)}.",
                received={k: kwargs[k] for k in sorted(unknown)},
                suggestion=", ".join(repr(m) for m in close) or None,
            )
        if name is not None and not isinstance(name, str):
            raise invalid_type(
                f"{type(self).__name__}: `name` must be a string.", received={"name": name}
            )
        if dtype not in (None, "float32", torch.float32):
            raise invalid_value(
                f"{type(self).__name__}: only float32 layers are supported.",
                received={"dtype": dtype},
                hint="Use mixed_precision= in compile() for bf16/fp16 training.",
            )
        self.name: str = name or unique_name(snake_case(type(self).__name__))
        self.built = False
        self._trainable = bool(trainable)
        self._build_input_shape: Any = None
        if batch_input_shape is not None:
            self._batch_input_shape: Shape | None = tuple(batch_input_shape)
        elif input_shape is not None:
            if isinstance(input_shape, int):
                input_shape = (input_shape,)
            self._batch_input_shape = (batch_size, *tuple(input_shape))
        else:
            self._batch_input_shape = None
        #: Activity-regularization losses from the latest forward pass.
        self._activity_losses: list[torch.Tensor] = []
        self._regularizers: dict[str, Any] = {}
        self._constraints: dict[str, Any] = {}
        self.activity_regularizer = get_regularizer(
            activity_regularizer, argument="activity_regularizer"
        )
        #: Keras 2's ``weights=``: initial values (Keras layout), set once the layer is built.
        self._initial_weights = None if weights is None else list(weights)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:
            cls.build = _finishing_build(cls.__dict__["build"])

    # ------------------------------------------------------------------ API to override
    def build(self, input_shape: Any) -> None:
        """Create the weights for ``input_shape`` (Keras layout, batch axis first)."""
        self.built = True

    def _finish_build(self, input_shape: Any) -> None:
        """Mark built and apply what waited for the weights (freezing, ``weights=``)."""
        self.built = True
        if self._build_input_shape is None:
            self._build_input_shape = input_shape
        # Freezing before build must still freeze the weights created now.
        self._apply_trainable()
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def compute_output_shape(self, input_shape: Any) -> Any:
        """Output shape for ``input_shape``; the default keeps the shape."""
        return input_shape

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        """The forward computation on Keras-layout tensors."""
        raise NotImplementedError(f"{type(self).__name__} must implement call().")

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this layer (JSON-serialisable)."""
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = serialize_regularizer(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """Rebuild a layer from :meth:`get_config` output."""
        return cls(**config)

    # Explanation hooks used by summary(formulas=True, cost=True).
    def param_formula(self) -> str | None:
        """Derivation of the parameter count, e.g. ``"6 × (5×5×1) + 6 = 156"``."""
        return None

    def output_size_formula(self, input_shape: Any) -> str | None:
        """Derivation of the output size, e.g. ``"(32 − 5 + 0)/1 + 1 = 28"``."""
        return None

    def macs(self, input_shape: Any, output_shape: Any) -> int:
        """Multiply-accumulates for one sample (batch axis excluded)."""
        return 0

    # ------------------------------------------------------------------ shape checking
    def check_input_shape(self, input_shape: Shape) -> None:
        """The central check of what this layer accepts; raises a ``ValueError``.

        The message names the layer, says expected vs received, and shows the
        full input shape.
        """
        spec = self.input_spec
        if spec is None or not isinstance(input_shape, tuple):
            return
        # Runs on every call: the passing path only compares numbers; messages are built on
        # failure (formatting them each call cost ~10 us per layer).
        rank = len(input_shape)
        if spec.ndim is not None and rank != spec.ndim:
            raise self._incompatible(f"rank {spec.ndim}", f"rank {rank}", input_shape)
        if spec.min_ndim is not None and rank < spec.min_ndim:
            raise self._incompatible(f"rank >= {spec.min_ndim}", f"rank {rank}", input_shape)
        for axis, size in spec.axes.items():
            got = input_shape[axis]
            if got is not None and got != size:
                raise self._incompatible(
                    f"axis {axis} of the input to have size {size}",
                    str(got),
                    input_shape,
                    hint="The layer was built for a different input; build a new layer.",
                )

    def _incompatible(
        self, expected: str, found: str, input_shape: Shape, hint: str | None = None
    ) -> ValueError:
        """The input-check error: layer name and type, what was expected, the full shape."""
        spec = self.input_spec
        # The layout ("(batch, height, width, channels)") explains a rank, not one axis size.
        layout = f" {spec.layout}" if spec and spec.layout and hint is None else ""
        return ValueError(
            format_error(
                f"Input 0 of layer '{self.name}' ({type(self).__name__}) is incompatible with "
                f"the layer: expected {expected}{layout}, found {found}.",
                received={"input_shape": input_shape},
                hint=hint,
            )
        )

    def _maybe_build(self, input_shape: Any) -> None:
        if not self.built:
            self.check_input_shape(input_shape)
            self.build(input_shape)
            self._finish_build(input_shape)

    def build_from_config_shape(self) -> None:
        """Build now if the layer was given ``input_shape``/``batch_input_shape``."""
        if self._batch_input_shape is not None:
            self._maybe_build(self._batch_input_shape)

    # ------------------------------------------------------------------ calling
    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(inputs, torch.Tensor):  # the hot path: one real tensor
            return super().__call__(inputs, *args, **kwargs)
        flat = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if flat and all(isinstance(t, KerasTensor) for t in flat):
            return self._symbolic_call(inputs, kwargs)
        if any(isinstance(t, KerasTensor) for t in flat):
            raise invalid_type(
                f"Layer '{self.name}' was called with a mix of symbolic and real tensors.",
                received={"inputs": inputs},
            )
        return super().__call__(inputs, *args, **kwargs)

    def forward(self, inputs: Any, training: bool | None = None) -> Any:
        """Run :meth:`call`, building the layer from the first real input seen."""
        inputs = _as_tensor(inputs)
        shape = _shape_of(inputs)
        if not self.built:
            self._maybe_build(shape)
        else:
            self.check_input_shape(shape)
        self._clear_added_losses()  # add_loss terms are those of the latest pass
        outputs = call_with_flags(self, inputs, training)
        if self.activity_regularizer is not None:
            # Keras divides the activity penalty by the batch size.
            self._activity_losses = [self.activity_regularizer(outputs) / max(1, outputs.shape[0])]
        return outputs

    def _symbolic_call(self, inputs: Any, kwargs: dict[str, Any]) -> Any:
        list_input = isinstance(inputs, (list, tuple))
        flat: list[KerasTensor] = list(inputs) if list_input else [inputs]
        shape = [t.shape for t in flat] if list_input else flat[0].shape
        if self.built:
            self.check_input_shape(shape)
        else:
            self._maybe_build(shape)
        out_shape = self.compute_output_shape(shape)
        node = Node(layer=self, inputs=flat, list_input=list_input, call_kwargs=dict(kwargs))
        self._record_node(node)  # for layer.input / layer.output (Keras)
        if isinstance(out_shape, list):
            node.outputs = [
                KerasTensor(s, node, i, f"{self.name}_{i}") for i, s in enumerate(out_shape)
            ]
            return list(node.outputs)
        node.outputs = [KerasTensor(out_shape, node, 0, self.name)]
        return node.outputs[0]

    # ------------------------------------------------------------------ trainable
    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        self._apply_trainable()

    def _apply_trainable(self) -> None:
        fixed = self.__dict__.get("_fixed_weights", ())  # add_weight(trainable=False)
        for name, p in self.named_parameters(recurse=False):
            p.requires_grad_(self._trainable and name not in fixed)
        for child in self.children():
            if isinstance(child, Layer):
                child.trainable = self._trainable
            else:
                for p in child.parameters():
                    p.requires_grad_(self._trainable)

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


def _constructor_arguments(cls: type) -> list[str]:
    """Keyword arguments accepted along the class's constructors (for suggestions)."""
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is not None and klass is not nn.Module:
            names.update(p for p in inspect.signature(init).parameters if p != "self")
    return sorted(names - {"args", "kwargs"})


def _as_tensor(inputs: Any) -> Any:
    if isinstance(inputs, np.ndarray):
        if not np.issubdtype(inputs.dtype, np.number):
            raise invalid_type(
                "Layer inputs must be numeric arrays.", received={"dtype": str(inputs.dtype)}
            )
        return torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32))
    if isinstance(inputs, (list, tuple)):
        return [_as_tensor(t) for t in inputs]
    return inputs


def _shape_of(inputs: Any) -> Any:
    if isinstance(inputs, (list, tuple)):
        return [_shape_of(t) for t in inputs]
    return (None, *tuple(inputs.shape[1:]))


def _finishing_build(build: Any) -> Any:
    """Wrap a subclass's ``build`` so that calling it directly also finishes the build.

    Keras marks a layer built after *any* ``build`` call, so course code may call
    ``layer.build(shape)`` and then ``set_weights``; without this the first call
    would build again and re-initialise the weights. Only the outermost ``build``
    of a ``super().build()`` chain finishes, once every weight exists.
    """

    @functools.wraps(build)
    def wrapper(self: Any, input_shape: Any, *args: Any, **kwargs: Any) -> Any:
        depth = self.__dict__.get("_build_depth", 0)
        object.__setattr__(self, "_build_depth", depth + 1)
        try:
            result = build(self, input_shape, *args, **kwargs)
        finally:
            object.__setattr__(self, "_build_depth", depth)
        if depth == 0:
            self._finish_build(input_shape)
        return result

    return wrapper
