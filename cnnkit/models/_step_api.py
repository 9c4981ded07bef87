"""Keras 3's overridable steps on ``Model``: ``train_step``, ``test_step``, ``predict_step``.

Override ``train_step(self, data)`` in a subclass to change what ``fit`` does
with each batch while keeping callbacks, the progress bar, History,
``BackupAndRestore``, distribution and ``evaluate``. Write it the way Keras
documents for its torch backend: ``self.zero_grad()``, ``y_pred = self(x,
training=True)``, ``loss = self.compute_loss(y=y, y_pred=y_pred,
sample_weight=sw)``, ``loss.backward()``, ``self.optimizer.apply()`` (or
``self.optimizer.step()``), then update ``self.metrics`` and return
``{m.name: m.result() for m in self.metrics}``.

**Several optimizers** (a GAN): keep them on the model, one per sub-model, e.g.
in an overridden ``compile(self, d_optimizer, g_optimizer, loss_fn)`` that calls
``super().compile()`` and stores ``self.d_optimizer = d_optimizer`` ...; in the
step call ``self.d_optimizer.apply(grads, self.discriminator.trainable_weights)``.
Each cnnkit optimizer builds its own torch optimizer over the variables of its
first ``apply``; ``BackupAndRestore`` saves the state of every optimizer, metric
and ``keras.random.SeedGenerator`` kept as a model attribute (and the weights of
every sub-model, which are part of the model's ``state_dict``).

The defaults here are the built-in steps written in that idiom; the engine
never calls them when they are not overridden (its fused step is faster) but a
subclass may call ``super().train_step(data)``.
"""

from __future__ import annotations

from typing import Any

import torch

from cnnkit._errors import invalid_value
from cnnkit.training._custom_step import BUILTIN_STEP, unpack_x_y_sample_weight
from cnnkit.training.metrics import Metric

__all__ = ["StepAPIMixin"]


def _builtin(method: Any) -> Any:
    setattr(method, BUILTIN_STEP, True)
    return method


def _update_metrics(model: Any, loss: torch.Tensor | None, y: Any, y_pred: Any, sw: Any) -> None:
    for metric in model.metrics:
        if metric.name == "loss":
            if loss is not None:
                metric.update_state(loss.detach())
        elif y is not None:
            metric.update_state(y, y_pred.detach(), sample_weight=sw)


class StepAPIMixin:
    """``train_step``/``test_step``/``predict_step``, ``compute_loss`` and ``metrics``.

    Mixed into :class:`~cnnkit.models._training_api.TrainingMixin`, which provides
    ``_require_trainer`` and ``optimizer``.
    """

    @property
    def metrics(self) -> list[Metric]:
        """Keras' ``model.metrics``: the loss tracker, the compiled metrics, then the
        metrics kept as attributes of the model (``self.loss_tracker = Mean("loss")``).

        ``fit`` resets each of them at every epoch start, ``evaluate`` at its start.
        """
        trainer = self.__dict__.get("_trainer")
        tracked: list[Metric] = []
        if trainer is not None:
            tracked = [trainer.loss_tracker] if trainer.loss is not None else []
            tracked += trainer.metrics
        own = [v for v in vars(self).values() if isinstance(v, Metric) and v not in tracked]
        return tracked + own

    def compute_loss(
        self,
        x: Any = None,
        y: Any = None,
        y_pred: Any = None,
        sample_weight: Any = None,
        training: bool = True,
    ) -> torch.Tensor:
        """The compiled loss of ``(y, y_pred)`` (weighted batch mean) plus ``sum(self.losses)``.

        ``self.losses`` holds the ``add_loss`` terms of the latest forward pass and
        the regularization penalties. Returns a 0-d tensor that keeps its graph.
        """
        trainer = self._require_trainer("compute_loss")  # type: ignore[attr-defined]
        terms: list[torch.Tensor] = []
        if trainer.loss is not None:
            if y is None or y_pred is None:
                raise invalid_value(
                    "compute_loss(): the compiled loss needs `y` and `y_pred`.",
                    received={"y": None if y is None else "...", "y_pred": y_pred},
                )
            weights = None
            if sample_weight is not None:
                weights = torch.as_tensor(sample_weight, device=y_pred.device).float()
            values = trainer.loss.unreduced(torch.as_tensor(y, device=y_pred.device), y_pred)
            terms.append(trainer._reduce(values, weights, None) * trainer.loss_weight)
        # The same terms as ``self.losses``, from the trainer's cached layer lists (walking
        # every module each step costs a few per cent of a small model's step).
        terms += trainer.added_loss_terms() + trainer.penalty_terms()
        if not terms:
            raise invalid_value(
                "compute_loss(): there is no loss: the model was compiled without one and "
                "no layer called add_loss().",
                received={"loss": None},
                hint="compile(loss=...) or self.add_loss(value) in call().",
            )
        return torch.stack([t.float() for t in terms]).sum() if len(terms) > 1 else terms[0]

    @_builtin
    def train_step(self, data: Any) -> dict[str, Any]:
        """One optimisation step on ``data`` (``x``, ``(x, y)`` or ``(x, y, sample_weight)``).

        Returns the dict of metric values the progress bar and History show.
        """
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        self.zero_grad()  # type: ignore[attr-defined]
        y_pred = self(x, training=True)  # type: ignore[operator]
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
        loss.backward()
        self.optimizer.apply()  # type: ignore[attr-defined]
        _update_metrics(self, loss, y, y_pred, sample_weight)
        return {m.name: m.result() for m in self.metrics}

    @_builtin
    def test_step(self, data: Any) -> dict[str, Any]:
        """Loss and metrics of one batch, without training (``evaluate``, validation)."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)  # type: ignore[operator]
        trainer = self._require_trainer("test_step")  # type: ignore[attr-defined]
        loss = None
        if trainer.loss is not None or self.losses:  # type: ignore[attr-defined]
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
        _update_metrics(self, loss, y, y_pred, sample_weight)
        return {m.name: m.result() for m in self.metrics}

    @_builtin
    def predict_step(self, data: Any) -> Any:
        """The model's outputs for one batch of inputs (``predict``)."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)  # type: ignore[operator]
