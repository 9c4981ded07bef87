"""``Model``: the one base class of every cnnkit model, like ``keras.Model``.

Two ways to make one, as in Keras:

* ``Model(inputs, outputs)`` builds a functional graph (see ``_functional.py``);
  ``Model.__new__`` hands such calls to :class:`Functional`.
* ``class Net(Model)`` with layers as attributes and a hand-written
  ``call(x, training=None)`` (subclass mode; the model zoo works this way).

Every model is a :class:`cnnkit.layers.Layer`, hence a real ``torch.nn.Module``:
``model(x)`` accepts a torch tensor or a NumPy array in Keras layout, and
``.parameters()``/``state_dict()`` work in plain PyTorch code.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnkit._errors import invalid_type, invalid_value, unknown_name
from cnnkit.layers import KerasTensor, Layer, call_with_flags
from cnnkit.models._files import as_path
from cnnkit.models._functional import FunctionalGraph
from cnnkit.models._model_utils import (
    eval_mode,
    model_device,
    unknown_input_shape_error,
    with_batch_none,
    zeros_for,
)
from cnnkit.models._saving import load_weights, save_model, save_weights
from cnnkit.models._serialization import serialize_layer
from cnnkit.models._summary_rows import summarize
from cnnkit.models._training_api import TrainingMixin
from cnnkit.models._weights import get_model_weights, set_model_weights

__all__ = [
    "Functional",
    "Model",
    "check_has_config",
    "eval_mode",
    "model_device",
    "unknown_input_shape_error",
]


class Model(TrainingMixin, Layer):
    """Base class of all models; subclass it and write ``call`` for a custom model.

    Args:
        name: Model name; when None, automatic from the class name like a layer's
            (``tiny_net``, ``tiny_net_1``, ...; ``functional`` and ``sequential``).
        trainable: False freezes every layer (and puts BatchNormalization in
            inference mode).
        input_shape: Shape of one sample, e.g. ``(224, 224, 3)``; subclassed
            models that know it can call :meth:`build_from_config_shape` at the
            end of ``__init__`` to create all weights at once.
        **kwargs: Other :class:`~cnnkit.layers.Layer` arguments.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Model:
        functional_call = bool(args) or "inputs" in kwargs or "outputs" in kwargs
        if cls is Model and functional_call:
            # Keras' own trick: Model(inputs, outputs) is a functional model.
            return super().__new__(Functional)
        if _graph_arguments(args, kwargs) and not issubclass(cls, Functional):
            # A subclass (one that overrides train_step, say) built from (inputs, outputs):
            # Keras 3 mixes Functional in, so the subclass's methods sit on a graph model.
            return super().__new__(_with_functional(cls))
        return super().__new__(cls)

    def __init__(self, *, name: str | None = None, trainable: bool = True, **kwargs: Any):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self.stop_training = False

    # ------------------------------------------------------------------ shapes
    def _known_input_shape(self) -> Any:
        """The batch input shape if known (``None`` batch axis), else None."""
        if self._build_input_shape is not None:
            return self._build_input_shape
        return self._batch_input_shape

    @property
    def input_shape(self) -> Any:
        """Keras-layout input shape with the batch axis, e.g. ``(None, 28, 28, 1)``."""
        shape = self._known_input_shape()
        if shape is None:
            raise unknown_input_shape_error(self.name, "read input_shape of")
        return shape

    @property
    def output_shape(self) -> Any:
        """Keras-layout output shape with the batch axis, e.g. ``(None, 10)``."""
        return self.compute_output_shape(self.input_shape)

    def build(self, input_shape: Any) -> None:
        """Create all weights for ``input_shape`` (batch axis first, e.g. ``(None, 32, 32, 3)``).

        For a subclassed model this runs one forward pass on a zero batch of size
        1 in eval mode under ``torch.no_grad`` (not ``inference_mode``: weights
        created there could never be trained).
        """
        input_shape = with_batch_none(input_shape)
        self._run_on_zeros(input_shape)
        self.built = True
        self._build_input_shape = input_shape

    def _run_on_zeros(self, input_shape: Any) -> Any:
        with eval_mode(self), torch.no_grad():
            return call_with_flags(self, zeros_for(input_shape, model_device(self)), False)

    def compute_output_shape(self, input_shape: Any) -> Any:
        """Output shape of a subclassed model, found by running a zero batch through it."""
        out = self._run_on_zeros(with_batch_none(input_shape))
        if isinstance(out, (list, tuple)):
            return [(None, *o.shape[1:]) for o in out]
        return (None, *out.shape[1:])

    def _require_built(self, action: str) -> None:
        if not self.built:
            shape = self._batch_input_shape
            if shape is None:
                raise unknown_input_shape_error(self.name, action)
            self._maybe_build(shape)

    # ------------------------------------------------------------------ layers
    def _register_layer(self, layer: Layer) -> None:
        """Register ``layer`` as a sub-module under its own name (state-dict keys read
        ``conv2d.weight``); a name that clashes with a model attribute is refused."""
        try:
            self.add_module(layer.name, layer)
        except KeyError as err:
            raise invalid_value(
                f"{type(self).__name__} '{self.name}': layer name '{layer.name}' clashes with "
                "a model attribute; give the layer another name.",
                received={"name": layer.name},
            ) from err

    @property
    def layers(self) -> list[nn.Module]:
        """The model's layers; for a subclassed model its direct sub-layers in
        attribute order, looking through plain ``nn.Sequential``/``nn.ModuleList``."""
        found: list[nn.Module] = []

        def visit(module: nn.Module) -> None:
            for child in module.children():
                if isinstance(child, (nn.Sequential, nn.ModuleList, nn.ModuleDict)):
                    visit(child)
                else:
                    found.append(child)

        visit(self)
        return found

    def get_layer(self, name: str | None = None, index: int | None = None) -> nn.Module:
        """A layer by name or by index in :attr:`layers` (Keras' ``get_layer``).

        Raises:
            ValueError: neither or both given, index out of range, or an unknown name
                (with close-match suggestions).
        """
        layers = self.layers
        if isinstance(name, (int, np.integer)) and not isinstance(name, bool) and index is None:
            name, index = None, int(name)  # get_layer(3): Keras 1 took the index first
        if (name is None) == (index is None):
            raise invalid_value(
                f"Model '{self.name}': get_layer needs exactly one of `name` or `index`.",
                received={"name": name, "index": index},
            )
        if index is not None:
            if not isinstance(index, (int, np.integer)) or not -len(layers) <= index < len(layers):
                raise invalid_value(
                    f"Model '{self.name}': layer index out of range.",
                    expected=f"an integer in [{-len(layers)}, {len(layers) - 1}]",
                    received={"index": index},
                )
            return layers[index]
        for layer in layers:
            if getattr(layer, "name", None) == name:
                return layer
        names = [getattr(layer, "name", type(layer).__name__) for layer in layers]
        raise unknown_name(f"layer in model '{self.name}'", name, names, argument="name")

    # ------------------------------------------------------------------ weights
    def get_weights(self) -> list[np.ndarray]:
        """Every layer's weights in layer order, Keras layout (kernel HWIO, Dense (in, out))."""
        self._require_built("get the weights of")
        return get_model_weights(self)

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Set weights from a list like :meth:`get_weights` returns; shapes checked first."""
        self._require_built("set the weights of")
        set_model_weights(self, weights, self.name)

    def count_params(self) -> int:
        """Number of parameters, trainable and frozen (BatchNorm statistics are buffers)."""
        self._require_built("count the parameters of")
        return sum(p.numel() for p in self.parameters())

    def regularization_losses(self) -> list[torch.Tensor]:
        """Every layer's penalties (weight and activity regularizers) for the training loss."""
        losses: list[torch.Tensor] = []
        for module in self.modules():
            if isinstance(module, Layer) and not isinstance(module, Model):
                losses.extend(module.regularization_losses())
        return losses

    # ------------------------------------------------------------------ trainable
    def _apply_trainable(self) -> None:
        # Look through plain torch containers too, so a BatchNormalization inside an
        # nn.Sequential of a zoo model also hears that it is frozen.
        def visit(module: nn.Module) -> None:
            for p in module.parameters(recurse=False):
                p.requires_grad_(self._trainable)
            for child in module.children():
                if isinstance(child, Layer):
                    child.trainable = self._trainable
                else:
                    visit(child)

        visit(self)

    # ------------------------------------------------------------------ summary / saving
    def summary(self, *args: Any, **kwargs: Any) -> Any:
        """Print the explaining summary and return it as a :class:`ModelSummary`.

        See :func:`cnnkit.models.summarize` for the arguments (``formulas``,
        ``cost``, ``batch_size``, ``optimizer``, ``print_fn``, ``expand_nested``).
        """
        return summarize(self, *args, **kwargs)

    def save(self, filepath: Any) -> None:
        """Write architecture and weights to ONE safetensors file (``.cnnkit``), atomically."""
        path = as_path(filepath)
        self._require_built("save")
        check_has_config(self, "be saved with save()")
        save_model(self, path)

    def save_weights(self, filepath: Any) -> None:
        """Write the state dict to a safetensors file, atomically."""
        save_weights(self, filepath)

    def load_weights(self, filepath: Any, strict: bool = True) -> None:
        """Load weights written by :meth:`save_weights` (or :meth:`save`).

        Raises:
            ValueError: naming the first missing, unexpected or mis-shaped tensor.
        """
        load_weights(self, filepath, strict=strict)

    def to_json(self, **kwargs: Any) -> str:
        """The architecture (no weights) as JSON; rebuild it with ``models.model_from_json``."""
        check_has_config(self, "be written as JSON")
        return json.dumps(serialize_layer(self), **kwargs)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments; subclassed models override this to be savable."""
        return super().get_config()

    @classmethod
    def from_config(
        cls, config: dict[str, Any], custom_objects: dict[str, type] | None = None
    ) -> Model:
        """Rebuild from :meth:`get_config` output: ``cls(**config)`` for subclassed models.

        ``Model.from_config`` itself also accepts a functional config, like Keras.
        """
        if cls is Model and "input_layers" in config:
            return Functional.from_config(config, custom_objects=custom_objects)
        return cls(**config)

    # ------------------------------------------------------------------ summary hooks
    #: Whether ``summary()`` shows a "Connected to" column (functional graphs do).
    _summary_shows_connections = False

    def _summary_records(self, depth: int) -> list[tuple[Any, ...]] | None:
        """Summary records known without running anything; None: trace a forward pass."""
        del depth
        return None


class Functional(FunctionalGraph, Model):
    """A model defined by its input and output tensors (``Model(inputs, outputs)``).

    The graph logic is :class:`~cnnkit.models._functional.FunctionalGraph`; this
    class sits beside :class:`Model` because ``Model(inputs, outputs)`` returns one.

    Args:
        inputs: ``Input(...)`` tensor, or a list of them.
        outputs: Output tensor, or a list of them.
        name: Model name; automatic (``functional``, ...) when None.
        trainable: False freezes every layer.
    """


_FUNCTIONAL_SUBCLASSES: dict[type, type] = {}


def _graph_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether a constructor got symbolic ``(inputs, outputs)``, as ``Model(inputs, outputs)``."""
    first = args[0] if args else kwargs.get("inputs")
    flat = first if isinstance(first, (list, tuple)) else [first]
    return (
        bool(flat)
        and all(isinstance(t, KerasTensor) for t in flat)
        and (len(args) >= 2 or "outputs" in kwargs)
    )


def _with_functional(cls: type) -> type:
    """``cls`` with :class:`Functional` mixed in (cached), named like ``cls``."""
    if cls not in _FUNCTIONAL_SUBCLASSES:
        mixed = type(cls.__name__, (cls, Functional), {"__module__": cls.__module__})
        mixed.__qualname__ = cls.__qualname__
        _FUNCTIONAL_SUBCLASSES[cls] = mixed
    return _FUNCTIONAL_SUBCLASSES[cls]


def check_has_config(model: Any, action: str) -> None:
    """Refuse a subclassed model without its own ``get_config`` (its config would be empty).

    ``Sequential`` and ``Functional`` define ``get_config``, so they always pass.

    Raises:
        TypeError: ``model`` is not a cnnkit model.
        ValueError: a subclassed model that does not define ``get_config()``.
    """
    if not isinstance(model, Model):
        raise invalid_type(f"Cannot {action}: expected a cnnkit model.",
                           received={"model": type(model).__name__})  # fmt: skip
    if type(model).get_config is not Model.get_config:
        return
    raise invalid_value(
        f"Model '{model.name}' ({type(model).__name__}) cannot {action}: a subclassed "
        "model must define get_config() returning its constructor arguments.",
        received={"model": type(model).__name__},
        hint="Or save only the weights with model.save_weights(path).",
    )
