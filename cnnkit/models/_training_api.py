"""Keras' training methods on ``Model``, as thin delegations to ``cnnkit.training``.

Keras puts ``compile``/``fit``/``evaluate``/``predict`` on the model, so cnnkit
does too. The engine sits *below* this package in the import table: it trains
any ``torch.nn.Module`` and never imports ``cnnkit.models``. ``compile`` hands
the model to a :class:`~cnnkit.training.Trainer` (see ``cnnkit.training._trainer``
for what the trainer reads of a model) and keeps it on the model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.models._compile_config import encode_compile_config
from cnnkit.models._step_api import StepAPIMixin
from cnnkit.training import Trainer, predict
from cnnkit.training._checks import ignore_loader_arguments

__all__ = ["TrainingMixin"]


class TrainingMixin(StepAPIMixin):
    """``compile``, ``fit``, ``evaluate``, ``predict`` and friends for :class:`Model`.

    The trainer is stored with ``object.__setattr__`` so that it never becomes
    part of the ``nn.Module`` tree or the ``state_dict``.
    """

    #: Set to True by callbacks (EarlyStopping, TerminateOnNaN) to end ``fit``.
    stop_training: bool = False

    def compile(
        self,
        optimizer: Any = "adam",
        loss: Any = None,
        metrics: Any = None,
        **kwargs: Any,
    ) -> None:
        """Configure training: optimizer, loss and metrics, with Keras' names.

        Args:
            optimizer: Name (``"adam"``, ``"sgd"``, ...) or optimizer object; Adam 1e-3
                by default, like Keras.
            loss: Loss name or callable, e.g. ``"sparse_categorical_crossentropy"``.
            metrics: List of metric names or objects, e.g. ``["accuracy"]``.
            **kwargs: Passed on to :class:`cnnkit.training.Trainer` (``loss_weights``,
                ``device``, ``mixed_precision``, ``jit_compile``, ...).
        """
        trainer = Trainer(self, optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)
        object.__setattr__(self, "_trainer", trainer)
        # Kept for save(): load_model re-compiles from names, numbers and the configs of
        # cnnkit optimizer/loss/metric objects; None when an argument cannot be described
        # as JSON (a torch optimizer, a Python callable).
        config = encode_compile_config(
            {"optimizer": optimizer, "loss": loss, "metrics": metrics, **kwargs}
        )
        object.__setattr__(self, "_compile_config", config)

    def _require_trainer(self, method: str) -> Any:
        trainer = self.__dict__.get("_trainer")
        if trainer is None:
            raise invalid_value(
                f"Model '{getattr(self, 'name', type(self).__name__)}' is not compiled: "
                f"call model.compile(...) before model.{method}().",
                received={"method": method},
                hint="For example: model.compile(optimizer='adam', "
                "loss='sparse_categorical_crossentropy', metrics=['accuracy']).",
            )
        return trainer

    @property
    def optimizer(self) -> Any:
        """The torch optimizer created by :meth:`compile`, or None before it."""
        trainer = self.__dict__.get("_trainer")
        return None if trainer is None else trainer.optimizer

    @property
    def metrics_names(self) -> list[str]:
        """Keras' names of what ``evaluate`` returns: ``["loss", "accuracy", ...]``.

        Empty before :meth:`compile`, as in Keras.
        """
        trainer = self.__dict__.get("_trainer")
        if trainer is None:
            return []
        return ["loss", *(m.name for m in trainer.metrics)]

    @property
    def compiled(self) -> bool:
        """Whether :meth:`compile` has been called."""
        return self.__dict__.get("_trainer") is not None

    def fit(self, *args: Any, **kwargs: Any) -> Any:
        """Train; see :meth:`cnnkit.training.Trainer.fit`. Returns a ``History``."""
        return self._require_trainer("fit").fit(*args, **kwargs)

    def evaluate(self, *args: Any, **kwargs: Any) -> Any:
        """Loss and metrics on data; see :meth:`cnnkit.training.Trainer.evaluate`."""
        return self._require_trainer("evaluate").evaluate(*args, **kwargs)

    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = "auto", **kwargs: Any):
        """Outputs for ``x`` as NumPy; works without :meth:`compile`."""
        trainer = self.__dict__.get("_trainer")
        if trainer is not None:
            return trainer.predict(x, batch_size=batch_size, verbose=verbose, **kwargs)
        return predict(
            self, x, batch_size=32 if batch_size is None else batch_size, verbose=verbose
        )

    def train_on_batch(self, *args: Any, **kwargs: Any) -> Any:
        """One optimisation step on one batch; see ``Trainer.train_on_batch``."""
        return self._require_trainer("train_on_batch").train_on_batch(*args, **kwargs)

    def test_on_batch(self, *args: Any, **kwargs: Any) -> Any:
        """Loss and metrics on one batch; see ``Trainer.test_on_batch``."""
        return self._require_trainer("test_on_batch").test_on_batch(*args, **kwargs)

    def predict_on_batch(self, x: Any) -> Any:
        """Outputs for one batch as NumPy; works without :meth:`compile`."""
        trainer = self.__dict__.get("_trainer")
        if trainer is not None:
            return trainer.predict_on_batch(x)
        return predict(self, x, batch_size=len(x), verbose=0)

    # Old course code calls the *_generator names with Keras 2's positional order
    # (``fit_generator(gen, steps_per_epoch, epochs)``), which differs from fit's (x, y, ...).
    def fit_generator(self, *args: Any, **kwargs: Any) -> Any:
        """Keras 2's ``fit_generator(generator, steps_per_epoch, epochs, ...)``: :meth:`fit`."""
        return self.fit(**_generator_kwargs("fit_generator", args, kwargs))

    def evaluate_generator(self, *args: Any, **kwargs: Any) -> Any:
        """Keras 2's ``evaluate_generator(generator, steps, ...)``: :meth:`evaluate`."""
        return self.evaluate(**_generator_kwargs("evaluate_generator", args, kwargs))

    def predict_generator(self, *args: Any, **kwargs: Any) -> Any:
        """Keras 2's ``predict_generator(generator, steps, ...)``: :meth:`predict`."""
        return self.predict(**_generator_kwargs("predict_generator", args, kwargs))


_LOADER_ARGUMENTS = ("max_queue_size", "workers", "use_multiprocessing")

#: Keras 2.x's positional parameters of the ``*_generator`` methods, in order.
_GENERATOR_PARAMETERS: dict[str, tuple[str, ...]] = {
    "fit_generator": (
        "generator", "steps_per_epoch", "epochs", "verbose", "callbacks", "validation_data",
        "validation_steps", "validation_freq", "class_weight", *_LOADER_ARGUMENTS, "shuffle",
        "initial_epoch",
    ),
    "evaluate_generator": ("generator", "steps", "callbacks", *_LOADER_ARGUMENTS, "verbose"),
    "predict_generator": ("generator", "steps", "callbacks", *_LOADER_ARGUMENTS, "verbose"),
}  # fmt: skip

#: The plain methods' leading positional parameters, for array inputs.
_ARRAY_PARAMETERS: dict[str, tuple[str, ...]] = {
    "fit_generator": ("x", "y", "batch_size", "epochs"),
    "evaluate_generator": ("x", "y", "batch_size"),
    "predict_generator": ("x", "batch_size"),
}


def _generator_kwargs(method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict:
    """Keyword arguments for fit/evaluate/predict from a ``*_generator`` call.

    Arrays first (``fit_generator(x, y, ...)``, which cnnkit always accepted) keep
    fit's own order; anything else is read in Keras 2's generator order.
    """
    if args and isinstance(args[0], (np.ndarray, torch.Tensor, list)):
        names = _ARRAY_PARAMETERS[method]
    else:
        names = _GENERATOR_PARAMETERS[method]
    if len(args) > len(names):
        raise invalid_type(
            f"{method}() takes at most {len(names)} positional arguments.",
            received={"positional arguments": len(args)},
        )
    merged = dict(kwargs)
    for name, value in zip(names, args, strict=False):
        if name in merged:
            raise invalid_type(
                f"{method}() got `{name}` both by position and by keyword.", received={name: value}
            )
        merged[name] = value
    if "generator" in merged:
        merged["x"] = merged.pop("generator")
    freq = merged.pop("validation_freq", 1)
    if freq != 1:
        raise invalid_value(
            f"{method}(): only `validation_freq=1` (validate after every epoch) is supported.",
            received={"validation_freq": freq},
        )
    if method != "fit_generator":  # fit warns about these itself
        ignore_loader_arguments(**{k: merged.pop(k, None) for k in _LOADER_ARGUMENTS})
    return merged
