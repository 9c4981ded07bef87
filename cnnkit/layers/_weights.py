"""Weights in torch layout, seen in Keras layout: creation, get/set, penalties, constraints.

Mixed into :class:`cnnkit.layers.Layer`. Weights are stored as torch expects
them (conv ``weight`` OIHW, Dense ``weight`` (out, in)) so torchvision state
dicts load directly; :meth:`to_keras_layout` / :meth:`from_keras_layout`
convert NumPy arrays *and* torch tensors (as views where possible), which is
how initializers and constraints work in Keras' layout and fan conventions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.layers._constraints import get_constraint
from cnnkit.layers._initializers import get_initializer
from cnnkit.layers._regularizers import get_regularizer
from cnnkit.layers._variable import Variable

__all__ = ["WeightsMixin", "permute"]

#: ``add_weight``'s positional order in Keras 3, and in Keras 2 / cnnkit's layers (name first).
_KERAS3_ORDER = (
    "shape",
    "initializer",
    "dtype",
    "trainable",
    "autocast",
    "regularizer",
    "constraint",
    "aggregation",
    "name",
)
_KERAS2_ORDER = ("name", "shape", "initializer", "regularizer", "constraint")

Array = np.ndarray | torch.Tensor


def permute(array: Array, axes: Sequence[int]) -> Array:
    """Reorder axes of a NumPy array or a torch tensor (a view for both)."""
    if isinstance(array, torch.Tensor):
        return array.permute(*axes)
    return np.transpose(array, axes)


class WeightsMixin:
    """Keras-style weight handling for a :class:`torch.nn.Module`."""

    name: str
    _regularizers: dict[str, Callable[[torch.Tensor], torch.Tensor]]
    _constraints: dict[str, Callable[[torch.Tensor], torch.Tensor]]
    _activity_losses: list[torch.Tensor]

    def add_weight(self, *args: Any, **kwargs: Any) -> nn.Parameter:
        """Create and register a weight, with Keras 3's or Keras 2's arguments.

        Keras 3: ``add_weight(shape=None, initializer=None, dtype=None, trainable=True,
        autocast=True, regularizer=None, constraint=None, aggregation="none", name=None)``
        (positional order as listed). A string first is a name, as Keras 2 code writes
        it (``add_weight("kernel", shape=...)``); cnnkit's own layers pass
        ``add_weight(name, shape, initializer, regularizer, constraint)``.
        ``initializer``, ``regularizer`` and ``constraint`` take names or objects;
        the initializer defaults to ``"glorot_uniform"`` as in Keras. The weight becomes
        the attribute ``name`` (default ``"variable"``, numbered when taken), so
        ``self.w = self.add_weight(...)`` and ``self.variable`` both reach it.

        Returns:
            The registered :class:`~cnnkit.layers.Variable` (a ``torch.nn.Parameter``).
        """
        order = _KERAS2_ORDER if args and isinstance(args[0], str) else _KERAS3_ORDER
        if len(args) > len(order):
            raise invalid_type(
                f"Layer '{self.name}': add_weight() takes at most {len(order)} positional "
                "arguments.",
                received={"positional arguments": len(args)},
            )
        for key, value in zip(order, args, strict=False):
            if key in kwargs:
                raise invalid_type(
                    f"Layer '{self.name}': add_weight() got `{key}` twice.",
                    received={key: value},
                )
            kwargs[key] = value
        unknown = sorted(set(kwargs) - set(_KERAS3_ORDER) - {"synchronization"})
        if unknown:
            raise invalid_type(
                f"Layer '{self.name}': add_weight() got unexpected keyword argument(s) {unknown}.",
                received={k: kwargs[k] for k in unknown},
                choices=list(_KERAS3_ORDER),
            )
        if kwargs.get("dtype") not in (None, "float32", torch.float32):
            raise invalid_value(
                f"Layer '{self.name}': add_weight() supports float32 weights only.",
                received={"dtype": kwargs["dtype"]},
                hint="Use mixed_precision= in compile() for bf16/fp16 training.",
            )
        shape = tuple(int(d) for d in kwargs.get("shape") or ())
        init = kwargs.get("initializer")
        name = self._free_weight_name(kwargs.get("name") or "variable")
        param = self._create_weight(
            name,
            shape,
            get_initializer("glorot_uniform" if init is None else init, "initializer"),
            get_regularizer(kwargs.get("regularizer"), "regularizer"),
            get_constraint(kwargs.get("constraint"), "constraint"),
        )
        if not kwargs.get("trainable", True):
            self.__dict__.setdefault("_fixed_weights", set()).add(name)
            param.requires_grad_(False)
        return param

    def _free_weight_name(self, name: str) -> str:
        """``name``, or ``name_1``, ``name_2``, ... when a weight or attribute has it."""
        taken = dict(self.named_parameters(recurse=False))  # type: ignore[attr-defined]
        candidate, n = name, 0
        while candidate in taken or (candidate in self.__dict__) or hasattr(type(self), candidate):
            n += 1
            candidate = f"{name}_{n}"
        return candidate

    def _create_weight(
        self,
        name: str,
        keras_shape: tuple[int, ...],
        initializer: Callable[[tuple[int, ...]], torch.Tensor],
        regularizer: Callable[[torch.Tensor], torch.Tensor] | None = None,
        constraint: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> nn.Parameter:
        """Create and register a parameter (a :class:`Variable`) initialised in Keras layout.

        Args:
            name: Attribute name in torch's convention (``weight``, ``bias``).
            keras_shape: The weight's shape in Keras layout, which sets the fans.
            initializer: ``init(shape) -> tensor`` in Keras layout.
            regularizer: Optional penalty added by :meth:`regularization_losses`.
            constraint: Optional projection applied by :meth:`apply_constraints`.
        """
        value = torch.as_tensor(initializer(tuple(keras_shape)), dtype=torch.float32)
        if tuple(value.shape) != tuple(keras_shape):
            raise invalid_value(
                f"Layer '{self.name}': the initializer for '{name}' returned the wrong shape.",
                expected=f"shape {tuple(keras_shape)}",
                received={"shape": tuple(value.shape)},
            )
        param = Variable(self.from_keras_layout(name, value).contiguous())
        self.register_parameter(name, param)  # type: ignore[attr-defined]
        if regularizer is not None:
            self._regularizers[name] = regularizer
        if constraint is not None:
            self._constraints[name] = constraint
        return param

    # ------------------------------------------------------------------ layouts
    def keras_weight_names(self) -> list[str]:
        """Names (attribute paths) of the weights in Keras order; default: params then buffers."""
        names = [n for n, _ in self.named_parameters(recurse=False)]  # type: ignore[attr-defined]
        names += [
            n
            for n, b in self.named_buffers(recurse=False)  # type: ignore[attr-defined]
            if b.is_floating_point()
        ]
        return names

    def to_keras_layout(self, name: str, array: Array) -> Array:
        """Convert a stored weight to Keras' layout (e.g. OIHW -> HWIO). Default: as is."""
        return array

    def from_keras_layout(self, name: str, array: Array) -> Array:
        """Inverse of :meth:`to_keras_layout`."""
        return array

    def _state(self) -> dict[str, torch.Tensor]:
        return dict(self.named_parameters(recurse=False)) | dict(  # type: ignore[attr-defined]
            self.named_buffers(recurse=False)  # type: ignore[attr-defined]
        )

    def get_weights(self) -> list[np.ndarray]:
        """Weights as NumPy arrays in Keras order and shapes (kernel HWIO, Dense (in, out))."""
        state = self._state()
        return [
            np.array(self.to_keras_layout(n, state[n].detach().cpu().numpy()), order="C")
            for n in self.keras_weight_names()
        ]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Set weights from NumPy arrays in Keras order and shapes; checks every shape first."""
        names = self.keras_weight_names()
        if len(weights) != len(names):
            raise invalid_value(
                f"Layer '{self.name}': set_weights got {len(weights)} arrays but the layer "
                f"has {len(names)} weights ({', '.join(names)}).",
                received={"len(weights)": len(weights)},
            )
        state = self._state()
        converted = []
        for n, w in zip(names, weights, strict=True):
            expected = tuple(self.to_keras_layout(n, np.empty(tuple(state[n].shape))).shape)
            if tuple(np.shape(w)) != expected:
                raise invalid_value(
                    f"Layer '{self.name}': weight '{n}' has the wrong shape.",
                    expected=f"shape {expected} (Keras layout)",
                    received={f"{n}.shape": tuple(np.shape(w))},
                )
            converted.append(self.from_keras_layout(n, np.asarray(w)))
        with torch.no_grad():
            for n, arr in zip(names, converted, strict=True):
                state[n].copy_(torch.as_tensor(np.array(arr, order="C"), dtype=state[n].dtype))

    @property
    def weights(self) -> list[torch.Tensor]:
        """Keras' ``layer.weights``: trainable then non-trainable, sublayers included.

        The tensors are the stored ones (torch layout); use :meth:`get_weights`
        for NumPy copies in Keras layout.
        """
        return self.trainable_weights + self.non_trainable_weights

    @property
    def trainable_weights(self) -> list[torch.Tensor]:
        """Parameters that training updates (``requires_grad``)."""
        return [p for p in self.parameters() if p.requires_grad]  # type: ignore[attr-defined]

    @property
    def non_trainable_weights(self) -> list[torch.Tensor]:
        """Frozen parameters plus floating-point buffers (BatchNorm moving statistics)."""
        frozen = [p for p in self.parameters() if not p.requires_grad]  # type: ignore[attr-defined]
        buffers = [b for b in self.buffers() if b.is_floating_point()]  # type: ignore[attr-defined]
        return frozen + buffers

    def count_params(self) -> int:
        """Number of parameters (trainable and not); BatchNorm statistics are buffers."""
        return sum(p.numel() for p in self.parameters())  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ penalties, constraints
    def regularization_losses(self) -> list[torch.Tensor]:
        """Penalties to add to the training loss: weight regularizers, then activity ones.

        Weight penalties are recomputed on each call (so they carry gradients);
        activity penalties are those of the latest forward pass. The training
        engine adds ``sum(l for m in model.modules() if isinstance(m, Layer)
        for l in m.regularization_losses())`` to the loss.
        """
        if not self._regularizers:  # the common case: skip building the weight dict each step
            return list(self._activity_losses)
        state = self._state()
        losses = [reg(state[n]) for n, reg in self._regularizers.items() if n in state]
        return losses + list(self._activity_losses)

    @torch.no_grad()
    def apply_constraints(self) -> None:
        """Project constrained weights in place (Keras layout); call after each optimizer step."""
        state = self._state()
        for n, constraint in self._constraints.items():
            if n not in state:
                continue
            keras_view = self.to_keras_layout(n, state[n])
            state[n].copy_(self.from_keras_layout(n, constraint(keras_view)))
