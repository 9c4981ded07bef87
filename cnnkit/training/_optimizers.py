"""Optimizers by name or by Keras-like spec, instantiated on the model's parameters.

A Keras optimizer is created before the model's parameters are known
(``Adam(learning_rate=1e-3)`` is passed to ``compile``), while a torch optimizer
needs them up front. So the classes here are *specs*: they remember the Keras
arguments and build the matching ``torch.optim`` optimizer in :meth:`build`.
Defaults are Keras' (Adam ``epsilon=1e-7``, SGD ``learning_rate=0.01``).
Keras 2's ``lr``/``decay`` keywords are handled in :mod:`._optimizer_compat`.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any, ClassVar

import torch

from cnnkit._errors import invalid_type, invalid_value, unknown_name
from cnnkit.training._optimizer_apply import SpecApplyMixin
from cnnkit.training._optimizer_compat import keras_learning_rate, with_learning_rate_property

__all__ = [
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "get_optimizer",
]


class Optimizer(SpecApplyMixin):
    """Base spec: a learning rate plus Keras' gradient-clipping options.

    Args:
        learning_rate: Step size; a positive float.
        weight_decay: Decoupled (AdamW) or L2 (the others) weight decay; None for none.
        clipnorm: Clip each parameter's gradient to this L2 norm.
        clipvalue: Clip every gradient element to ``[-clipvalue, clipvalue]``.
        global_clipnorm: Clip all gradients together to this global L2 norm.
    """

    name: ClassVar[str] = "optimizer"
    torch_class: ClassVar[type[torch.optim.Optimizer]]

    def __init__(
        self,
        learning_rate: float = 1e-3,
        *,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        **keras_2: Any,
    ) -> None:
        if keras_2:
            learning_rate = keras_learning_rate(
                type(self).__name__, learning_rate, keras_2, self._keywords()
            )
        _check_positive(f"{type(self).__name__}: `learning_rate`", "learning_rate", learning_rate)
        for arg, value in (
            ("clipnorm", clipnorm),
            ("clipvalue", clipvalue),
            ("global_clipnorm", global_clipnorm),
        ):
            if value is not None:
                _check_positive(f"{type(self).__name__}: `{arg}`", arg, value)
        self.learning_rate = float(learning_rate)
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm

    @classmethod
    def _keywords(cls) -> list[str]:
        names = {
            p.name
            for klass in cls.__mro__
            if "__init__" in vars(klass) and klass is not object
            for p in inspect.signature(klass.__init__).parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self"
        }
        return sorted(names)

    def get_config(self) -> dict[str, Any]:
        """The constructor's keyword arguments (JSON-able): ``type(self)(**get_config())``."""
        return {
            "learning_rate": self.learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
            "global_clipnorm": self.global_clipnorm,
        } | self._own_config()

    def _own_config(self) -> dict[str, Any]:
        """The subclass's own constructor arguments."""
        return {}

    def torch_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of the torch optimizer (learning rate included)."""
        kwargs: dict[str, Any] = {"lr": self.learning_rate}
        if self.weight_decay:
            kwargs["weight_decay"] = float(self.weight_decay)
        return kwargs

    def build(self, params: Iterable[torch.nn.Parameter]) -> torch.optim.Optimizer:
        """The torch optimizer over ``params`` with this spec's settings.

        It is a subclass of ``torch_class`` with Keras' ``learning_rate``/``lr`` property.
        """
        return with_learning_rate_property(self.torch_class)(list(params), **self.torch_kwargs())

    def clip_(self, params: list[torch.nn.Parameter]) -> None:
        """Apply the clipping options to the gradients in place (no-op when none is set)."""
        grads = [p for p in params if p.grad is not None]
        if self.clipvalue is not None:
            torch.nn.utils.clip_grad_value_(grads, self.clipvalue)
        if self.clipnorm is not None:
            for p in grads:
                torch.nn.utils.clip_grad_norm_([p], self.clipnorm)
        if self.global_clipnorm is not None:
            torch.nn.utils.clip_grad_norm_(grads, self.global_clipnorm)

    @property
    def clips(self) -> bool:
        return any(v is not None for v in (self.clipnorm, self.clipvalue, self.global_clipnorm))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(learning_rate={self.learning_rate})"


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum. Default lr 0.01."""

    name = "sgd"
    torch_class = torch.optim.SGD

    def __init__(
        self, learning_rate: float = 0.01, momentum: float = 0.0, nesterov: bool = False, **kw: Any
    ) -> None:
        super().__init__(learning_rate, **kw)
        if not 0.0 <= float(momentum) < 1.0:
            raise invalid_value(
                "SGD: `momentum` must be in [0, 1).", received={"momentum": momentum}
            )
        if nesterov and not momentum:
            raise invalid_value(
                "SGD: `nesterov=True` needs a momentum > 0.",
                received={"momentum": momentum, "nesterov": nesterov},
            )
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def torch_kwargs(self) -> dict[str, Any]:
        return super().torch_kwargs() | {"momentum": self.momentum, "nesterov": self.nesterov}

    def _own_config(self) -> dict[str, Any]:
        return {"momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam with Keras' defaults (lr 1e-3, betas 0.9/0.999, epsilon 1e-7)."""

    name = "adam"
    torch_class = torch.optim.Adam

    def __init__(
        self,
        learning_rate: float = 1e-3,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **kw: Any,
    ) -> None:
        super().__init__(learning_rate, **kw)
        self.betas = (float(beta_1), float(beta_2))
        self.epsilon = float(epsilon)
        self.amsgrad = bool(amsgrad)

    def torch_kwargs(self) -> dict[str, Any]:
        extra = {"betas": self.betas, "eps": self.epsilon, "amsgrad": self.amsgrad}
        return super().torch_kwargs() | extra

    def _own_config(self) -> dict[str, Any]:
        beta_1, beta_2 = self.betas
        return {
            "beta_1": beta_1,
            "beta_2": beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }


class AdamW(Adam):
    """Adam with decoupled weight decay; Keras' default ``weight_decay=0.004``."""

    name = "adamw"
    torch_class = torch.optim.AdamW

    def __init__(self, learning_rate: float = 1e-3, weight_decay: float = 0.004, **kw: Any):
        super().__init__(learning_rate, weight_decay=weight_decay, **kw)


class RMSprop(Optimizer):
    """RMSprop with Keras' defaults (rho 0.9, epsilon 1e-7)."""

    name = "rmsprop"
    torch_class = torch.optim.RMSprop

    def __init__(
        self,
        learning_rate: float = 1e-3,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        **kw: Any,
    ) -> None:
        super().__init__(learning_rate, **kw)
        self.rho, self.momentum = float(rho), float(momentum)
        self.epsilon, self.centered = float(epsilon), bool(centered)

    def torch_kwargs(self) -> dict[str, Any]:
        extra = {
            "alpha": self.rho,
            "momentum": self.momentum,
            "eps": self.epsilon,
            "centered": self.centered,
        }
        return super().torch_kwargs() | extra

    def _own_config(self) -> dict[str, Any]:
        return {
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }


class Adagrad(Optimizer):
    """Adagrad with Keras' defaults (initial accumulator 0.1, epsilon 1e-7)."""

    name = "adagrad"
    torch_class = torch.optim.Adagrad

    def __init__(
        self,
        learning_rate: float = 1e-3,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        **kw: Any,
    ) -> None:
        super().__init__(learning_rate, **kw)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)

    def torch_kwargs(self) -> dict[str, Any]:
        extra = {"initial_accumulator_value": self.initial_accumulator_value, "eps": self.epsilon}
        return super().torch_kwargs() | extra

    def _own_config(self) -> dict[str, Any]:
        return {
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }


class Adadelta(Optimizer):
    """Adadelta with Keras' defaults (lr 1e-3, rho 0.95, epsilon 1e-7; torch's are 1.0/0.9/1e-6)."""

    name = "adadelta"
    torch_class = torch.optim.Adadelta

    def __init__(
        self, learning_rate: float = 1e-3, rho: float = 0.95, epsilon: float = 1e-7, **kw: Any
    ) -> None:
        super().__init__(learning_rate, **kw)
        self.rho, self.epsilon = float(rho), float(epsilon)

    def torch_kwargs(self) -> dict[str, Any]:
        return super().torch_kwargs() | {"rho": self.rho, "eps": self.epsilon}

    def _own_config(self) -> dict[str, Any]:
        return {"rho": self.rho, "epsilon": self.epsilon}


class Nadam(Optimizer):
    """Nesterov Adam with Keras' defaults (lr 1e-3, betas 0.9/0.999, epsilon 1e-7).

    Keras 2's momentum schedule ``beta_1 * (1 - 0.5 * 0.96 ** (0.004 * t))`` is torch's
    ``NAdam`` with its default ``momentum_decay=4e-3``.
    """

    name = "nadam"
    torch_class = torch.optim.NAdam

    def __init__(
        self,
        learning_rate: float = 1e-3,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        **kw: Any,
    ) -> None:
        super().__init__(learning_rate, **kw)
        self.betas = (float(beta_1), float(beta_2))
        self.epsilon = float(epsilon)

    def torch_kwargs(self) -> dict[str, Any]:
        return super().torch_kwargs() | {"betas": self.betas, "eps": self.epsilon}

    def _own_config(self) -> dict[str, Any]:
        beta_1, beta_2 = self.betas
        return {"beta_1": beta_1, "beta_2": beta_2, "epsilon": self.epsilon}


_BY_NAME: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Nadam)
}


def get_optimizer(
    optimizer: str | Optimizer | torch.optim.Optimizer, params: Iterable[torch.nn.Parameter]
) -> tuple[torch.optim.Optimizer, Optimizer | None]:
    """Resolve ``compile``'s ``optimizer`` argument.

    Args:
        optimizer: A name (``"adam"``, ``"sgd"``, ...), a spec such as
            ``Adam(learning_rate=3e-4)``, or a ready ``torch.optim.Optimizer``.
        params: The trainable parameters (used for names and specs).

    Returns:
        The torch optimizer, and the spec (None for a ready torch optimizer)
        which carries the clipping options.
    """
    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer, None
    if isinstance(optimizer, str):
        key = optimizer.lower()
        if key not in _BY_NAME:
            raise unknown_name("optimizer", optimizer, _BY_NAME, argument="optimizer")
        optimizer = _BY_NAME[key]()
    if isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        optimizer = optimizer()
    if not isinstance(optimizer, Optimizer):
        raise invalid_type(
            "compile(): `optimizer` must be a name, a cnnkit optimizer or a torch optimizer.",
            received={"optimizer": optimizer},
            choices=sorted(_BY_NAME),
        )
    params = [p for p in params if p.requires_grad]
    if not params:
        raise invalid_value(
            "compile(): the model has no trainable parameters to optimize.",
            hint="Build the model first (give the first layer an input_shape) or unfreeze layers.",
        )
    return optimizer.build(params), optimizer


def _check_positive(where: str, name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise invalid_value(f"{where} must be a positive number.", received={name: value})
