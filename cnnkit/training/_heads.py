"""Find a model's final softmax/sigmoid so the loss can be computed from logits.

Keras course models end in ``Dense(10, activation="softmax")`` and train with
``categorical_crossentropy``; ``log(softmax(z))`` rounds small probabilities
to zero, while ``log_softmax(z)`` does not. So when the *last operation* of the
model is a softmax (or a sigmoid with binary crossentropy), the engine runs
the forward pass with that activation switched off and hands the loss the
logits. Detection is structural: the last layer of a ``Sequential``-like
container (``model.layers[-1]`` or ``nn.Sequential[-1]``) or a zoo model's
``output_activation``, followed down nested containers. Anything else is left alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

__all__ = ["FinalActivation", "find_final_activation"]


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


def _kind(fn: Any) -> str | None:
    """``"softmax"``/``"sigmoid"`` when ``fn`` is that activation over the last axis."""
    if isinstance(fn, nn.Softmax):
        return "softmax" if fn.dim in (None, -1) else None
    if isinstance(fn, nn.Sigmoid):
        return "sigmoid"
    if isinstance(fn, nn.Module):
        return None
    name = getattr(getattr(fn, "func", fn), "__name__", None)
    return name if name in ("softmax", "sigmoid") else None


def _last_child(module: nn.Module) -> tuple[nn.Module, str] | None:
    """The last layer of a sequential container with its attribute name, else None."""
    final = getattr(module, "output_activation", None)
    if isinstance(final, nn.Module):  # zoo models apply this after their classifier
        return final, "output_activation"
    layers = getattr(module, "layers", None)
    if isinstance(layers, (list, tuple)) and layers and isinstance(layers[-1], nn.Module):
        last = layers[-1]
        for name, child in module.named_children():
            if child is last:
                return last, name
        return last, ""
    if isinstance(module, nn.Sequential) and len(module):
        name = list(module._modules)[-1]
        return module[-1], name
    return None


class FinalActivation:
    """The model's last activation and how to switch it off temporarily.

    Attributes:
        kind: ``"softmax"`` or ``"sigmoid"``.
    """

    def __init__(self, owner: nn.Module, attr: str, kind: str, as_module: bool) -> None:
        self._owner, self._attr = owner, attr
        self.kind = kind
        self._replacement: Any = nn.Identity() if as_module else _identity

    @contextmanager
    def disabled(self) -> Iterator[None]:
        """Within the block the model returns logits instead of probabilities."""
        original = getattr(self._owner, self._attr)
        setattr(self._owner, self._attr, self._replacement)
        try:
            yield
        finally:
            setattr(self._owner, self._attr, original)


def find_final_activation(model: nn.Module) -> FinalActivation | None:
    """Locate a final softmax/sigmoid (see the module docstring); None when there is none."""
    parent, attr, node = None, "", model
    while True:
        found = _last_child(node)
        if found is None:
            break
        parent, (node, attr) = node, found
    # A layer whose own activation is last (Dense(..., activation="softmax"), Activation).
    act = getattr(node, "activation", None)
    is_bare = isinstance(node, (nn.Softmax, nn.Sigmoid))
    kind = _kind(act) if act is not None and not is_bare else None
    if kind is not None:
        return FinalActivation(node, "activation", kind, isinstance(act, nn.Module))
    # A bare activation module at the end of a container (nn.Softmax(dim=-1)).
    kind = _kind(node)
    # Only nn.Sequential runs its children by attribute; a list-based container keeps its own.
    if kind is not None and isinstance(parent, nn.Sequential) and attr:
        return FinalActivation(parent, attr, kind, as_module=True)
    return None
