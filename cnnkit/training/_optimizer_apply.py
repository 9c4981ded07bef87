"""Keras 3's ``optimizer.apply(grads, variables)`` for a custom ``train_step``.

Two kinds of optimizer reach a ``train_step``:

* ``self.optimizer``, the torch optimizer ``compile`` built over the model's
  parameters (:class:`TorchApplyMixin` is mixed into its class);
* an optimizer *spec* kept by the model itself, one per sub-model, the way a
  GAN's ``compile(d_optimizer=Adam(3e-4), g_optimizer=Adam(3e-4))`` keeps two
  (:class:`SpecApplyMixin` on :class:`~cnnkit.training.optimizers.Optimizer`).
  A spec builds its torch optimizer over the variables of its first ``apply``
  and keeps it in ``spec.torch_optimizer``, so each sub-model has its own state.

``apply`` writes the given gradients into ``variable.grad`` (no copy when they
are already those tensors, as in ``[v.value.grad for v in weights]``), averages
them over the ranks of a running distributed group (the custom step bypasses
the DDP wrapper, so this is where the all-reduce happens), clips them as the
spec asks, and takes one optimizer step. ``apply_gradients(zip(grads, vars))``
is Keras 2's spelling.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import torch
import torch.distributed as dist

from cnnkit._errors import invalid_value

__all__ = ["SpecApplyMixin", "TorchApplyMixin", "set_gradients"]


def set_gradients(grads: Sequence[Any] | None, variables: Sequence[torch.Tensor]) -> None:
    """Put ``grads`` into ``variables[i].grad`` and average them across a distributed group."""
    if grads is not None:
        grads = list(grads)
        if len(grads) != len(variables):
            raise invalid_value(
                "optimizer.apply(): one gradient per variable is needed.",
                received={"len(grads)": len(grads), "len(variables)": len(variables)},
            )
        for variable, grad in zip(variables, grads, strict=True):
            if grad is not None and grad is not variable.grad:
                variable.grad = grad.detach().to(variable.dtype)
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        world = dist.get_world_size()
        for variable in variables:
            if variable.grad is None:
                variable.grad = torch.zeros_like(variable)  # every rank joins every reduce
            dist.all_reduce(variable.grad)
            variable.grad.div_(world)


def _variables(variables: Iterable[torch.Tensor] | None, owner: Any) -> list[torch.Tensor]:
    if variables is not None:
        return list(variables)
    return [p for group in owner.param_groups for p in group["params"]]


class TorchApplyMixin:
    """``apply``/``apply_gradients`` on the torch optimizer that ``compile`` builds."""

    param_groups: list[dict[str, Any]]

    @torch.no_grad()
    def apply(
        self, grads: Sequence[Any] | None = None, trainable_variables: Iterable[Any] | None = None
    ) -> None:
        """One step with ``grads`` for ``trainable_variables`` (default: every parameter)."""
        set_gradients(grads, _variables(trainable_variables, self))
        self.step()  # type: ignore[attr-defined]

    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Any]]) -> None:
        """Keras 2's ``apply_gradients(zip(grads, vars))``."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])


class SpecApplyMixin:
    """``apply`` on an optimizer spec: builds its own torch optimizer on first use.

    Uses the spec's ``build(params)`` and ``clip_(params)``.
    """

    torch_optimizer: torch.optim.Optimizer | None = None
    #: A state dict waiting for the torch optimizer to exist (a resumed backup).
    _pending_state: dict[str, Any] | None = None

    def _ensure_torch_optimizer(self, variables: list[torch.Tensor]) -> torch.optim.Optimizer:
        if self.torch_optimizer is None:
            if not variables:
                raise invalid_value(
                    f"{type(self).__name__}.apply(): no variables to optimize.",
                    received={"trainable_variables": []},
                    hint="Pass the sub-model's weights: apply(grads, model.trainable_weights).",
                )
            self.torch_optimizer = self.build(variables)
            if self._pending_state is not None:
                self.torch_optimizer.load_state_dict(self._pending_state)
                self._pending_state = None
        return self.torch_optimizer

    @torch.no_grad()
    def apply(
        self, grads: Sequence[Any] | None = None, trainable_variables: Iterable[Any] | None = None
    ) -> None:
        """One step on ``trainable_variables`` with ``grads`` (Keras 3's signature).

        The first call fixes the variables this optimizer owns; later calls must
        pass the same ones (in the same order), as in Keras.
        """
        if trainable_variables is None and self.torch_optimizer is None:
            variables: list[torch.Tensor] = []
        elif trainable_variables is None:
            variables = _variables(None, self.torch_optimizer)
        else:
            variables = list(trainable_variables)
        optimizer = self._ensure_torch_optimizer(variables)
        set_gradients(grads, variables)
        self.clip_(variables)
        optimizer.step()

    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Any]]) -> None:
        """Keras 2's ``apply_gradients(zip(grads, vars))``."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def state_dict(self) -> dict[str, Any] | None:
        """The torch optimizer's state, or the pending one (None before any step)."""
        if self.torch_optimizer is not None:
            return self.torch_optimizer.state_dict()
        return self._pending_state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Load now, or at the first ``apply`` when the torch optimizer is not built yet."""
        if self.torch_optimizer is not None:
            self.torch_optimizer.load_state_dict(state)
        else:
            self._pending_state = state
