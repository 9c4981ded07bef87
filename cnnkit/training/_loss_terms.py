"""The training loss of one batch: the compiled loss plus every extra term the model asks for.

Terms, in order: the compiled loss over the batch (sample weights applied,
reduced to the batch mean, or in a distributed run to this rank's share of
the global-batch mean), times ``loss_weight``; the weight and activity
penalties of regularized layers; and the losses of training-only auxiliary
heads (GoogLeNet's two, weight 0.3 each, as in the paper), computed with the
same loss against the same labels; then the ``add_loss`` terms of the latest
forward pass (of the layers that ever called ``add_loss``, found once per fit).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from cnnkit.layers._added_losses import AddedLossesMixin

__all__ = ["LossTermsMixin"]


class LossTermsMixin:
    """Loss of one training batch; expects the attributes that :class:`Trainer` sets up."""

    model: nn.Module
    #: Layers whose add_loss() terms join the loss (None: look them up at the next step).
    _added_loss_layers: list[Any] | None = None
    #: ``AddedLossesMixin.add_loss_layers_seen`` when that list was built.
    _added_loss_count: int = -1

    def _reduce(self, per_sample: torch.Tensor, wb: Any, scale: float | None) -> torch.Tensor:
        if wb is not None:
            per_sample = per_sample * wb.reshape(per_sample.shape)
        # Distributed: this rank's sum times world_size / global batch, so DDP's average
        # over the ranks is the global batch mean (and an empty slice contributes 0).
        return per_sample.mean() if scale is None else per_sample.sum() * scale

    def _loss_value(self, yb, y_pred, wb, scale: float | None = None) -> torch.Tensor:
        # With the final softmax/sigmoid switched off for the loss, every head (auxiliary
        # ones included, which share that activation) returns logits.
        logits = True if self._final is not None else None
        loss = self._reduce(self.loss.unreduced(yb, y_pred, logits=logits), wb, scale)
        if self.loss_weight != 1.0:
            loss = loss * self.loss_weight
        penalties = self.penalty_terms()
        if penalties:
            loss = loss + torch.stack(penalties).sum()
        for term in self.added_loss_terms():
            loss = loss + term
        for model in self._aux_models:
            loss = loss + model.auxiliary_loss(
                lambda y, out: self._reduce(self.loss.unreduced(y, out, logits=logits), wb, scale),
                yb,
            )
        return loss

    def penalty_terms(self) -> list[torch.Tensor]:
        """The regularized layers' weight and activity penalties, each a float32 0-d tensor."""
        return [
            p.float().sum() for layer in self._reg_layers() for p in layer.regularization_losses()
        ]

    def added_loss_terms(self) -> list[torch.Tensor]:
        """The ``add_loss`` terms of the latest forward pass (float32), of every layer."""
        seen = AddedLossesMixin.add_loss_layers_seen
        if self._added_loss_layers is None or self._added_loss_count != seen:
            # Rebuilt when a layer calls add_loss for the first time: a custom step may run
            # a GAN's generator after the discriminator has already been looked through.
            self._added_loss_layers = [
                m for m in self.model.modules() if getattr(m, "uses_add_loss", False)
            ]
            self._added_loss_count = seen
        return [term.float() for layer in self._added_loss_layers for term in layer.added_losses]

    def _reg_layers(self) -> list[Any]:
        """cnnkit layers with a weight or activity regularizer (asked for penalties each step)."""
        if self._reg_cache is None:
            self._scan_layers()
        return self._reg_cache

    def _scan_layers(self) -> None:
        # Asking every layer for (empty) penalties each step costs ~4% of a LeNet step.
        from cnnkit.layers import Layer

        layers = [m for m in self.model.modules() if isinstance(m, Layer)]
        self._reg_cache = [
            m
            for m in layers
            if getattr(m, "_regularizers", None) or getattr(m, "activity_regularizer", None)
        ]
        self._constrained = [m for m in layers if getattr(m, "_constraints", None)]
        self._added_loss_layers = None  # layers that call add_loss(): looked up after a forward
        self._aux_models = [
            m
            for m in self.model.modules()
            if getattr(m, "aux_logits", False) and callable(getattr(m, "auxiliary_loss", None))
        ]
