"""Keras' ``layer.add_loss(value)`` and ``layer.losses``.

A layer (or a subclassed model) calls ``self.add_loss(value)`` inside ``call``
to add a term to the training loss, the way a VAE adds its KL divergence. The
terms are those of the latest forward pass: a layer's list is emptied when its
``forward`` starts. ``layer.losses`` lists, for the layer and every sublayer,
the added terms and then the regularization penalties (weights and activity),
as Keras does. ``fit`` adds ``sum(model.losses)`` to the compiled loss, and a
custom ``train_step`` gets it from ``self.compute_loss(...)``.

Layers that ever called ``add_loss`` are marked (``uses_add_loss``), so the
engine sums only their terms each step instead of walking every module.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from cnnkit._errors import invalid_type, invalid_value

__all__ = ["AddedLossesMixin"]


class AddedLossesMixin:
    """``add_loss``, ``losses`` and the per-forward reset for :class:`~cnnkit.layers.Layer`."""

    name: str
    #: True once the layer has called add_loss (read by the training engine).
    uses_add_loss: bool = False
    #: How many layers have ever called add_loss: a cache of those layers is
    #: stale when this has changed since it was built.
    add_loss_layers_seen: ClassVar[int] = 0

    def add_loss(self, loss: Any) -> None:
        """Add a scalar term to the loss of this forward pass (Keras' ``add_loss``).

        Args:
            loss: A 0-d tensor (or a one-element one) that keeps its graph, so
                it is trained; a Python number is accepted as a constant term.
        """
        if isinstance(loss, (int, float)) and not isinstance(loss, bool):
            loss = torch.tensor(float(loss))
        if not isinstance(loss, torch.Tensor):
            raise invalid_type(
                f"Layer '{self.name}': add_loss() takes a scalar tensor.",
                received={"loss": type(loss).__name__},
            )
        if loss.numel() != 1:
            raise invalid_value(
                f"Layer '{self.name}': add_loss() takes a scalar (one number); reduce it first, "
                "e.g. with .mean() or .sum().",
                received={"loss.shape": tuple(loss.shape)},
            )
        if "_added_losses" not in self.__dict__:
            self.__dict__["_added_losses"] = []
        self.__dict__["_added_losses"].append(loss.reshape(()))
        if not self.__dict__.get("uses_add_loss"):
            self.__dict__["uses_add_loss"] = True
            AddedLossesMixin.add_loss_layers_seen += 1

    @property
    def added_losses(self) -> list[torch.Tensor]:
        """This layer's own ``add_loss`` terms from its latest forward pass."""
        return list(self.__dict__.get("_added_losses", ()))

    def _clear_added_losses(self) -> None:
        if self.__dict__.get("_added_losses"):
            self.__dict__["_added_losses"] = []

    @property
    def losses(self) -> list[torch.Tensor]:
        """Added terms, then regularization penalties, of this layer and all sublayers."""
        layers = [m for m in self.modules() if isinstance(m, AddedLossesMixin)]  # type: ignore[attr-defined]
        added = [loss for layer in layers for loss in layer.added_losses]
        penalties = [
            p.float().sum()
            for layer in layers
            if callable(getattr(layer, "regularization_losses", None))
            for p in layer.regularization_losses()
        ]
        return added + penalties
