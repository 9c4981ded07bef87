"""``BatchNormalization`` with Keras arguments and torch's weight and buffer names.

Parameters ``weight`` (γ) and ``bias`` (β) and buffers ``running_mean``,
``running_var``, ``num_batches_tracked`` match ``torch.nn.BatchNorm2d``, so
torchvision state dicts load directly. Keras' ``momentum`` m means
``moving = m·moving + (1 − m)·batch``; torch's momentum is ``1 − m``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from cnnkit._errors import invalid_value
from cnnkit.layers._base import InputSpec, Layer
from cnnkit.layers._constraints import get_constraint, serialize_constraint
from cnnkit.layers._initializers import get_initializer, serialize_initializer
from cnnkit.layers._regularizers import get_regularizer, serialize_regularizer

__all__ = ["BatchNormalization"]


class BatchNormalization(Layer):
    """Normalise each channel with batch statistics (training) or moving ones (inference).

    Setting ``trainable = False`` freezes γ and β *and* makes the layer use and
    keep its moving statistics even while the model trains, which is what
    fine-tuning needs.

    Args:
        axis: The channel axis, default -1 (channels-last); use 1 for channels-first.
        momentum: Keras momentum for the moving statistics (default 0.99).
        epsilon: Added to the variance (default 1e-3).
        center: Learn β (default True). scale: Learn γ (default True).
        beta_initializer, gamma_initializer: Default ``"zeros"``, ``"ones"``.
        moving_mean_initializer, moving_variance_initializer: Default ``"zeros"``, ``"ones"``.
        beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint: Optional.
    """

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        moving_mean_initializer: Any = "zeros",
        moving_variance_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        who = f"BatchNormalization '{self.name}'"
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise invalid_value(f"{who}: `axis` must be an integer.", received={"axis": axis})
        if not 0 <= momentum <= 1:
            raise invalid_value(
                f"{who}: `momentum` must be in [0, 1] (Keras convention: the weight of the "
                "old moving statistic).",
                received={"momentum": momentum},
            )
        if not epsilon > 0:
            raise invalid_value(f"{who}: `epsilon` must be > 0.", received={"epsilon": epsilon})
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = get_initializer(beta_initializer, "beta_initializer")
        self.gamma_initializer = get_initializer(gamma_initializer, "gamma_initializer")
        self.moving_mean_initializer = get_initializer(
            moving_mean_initializer, "moving_mean_initializer"
        )
        self.moving_variance_initializer = get_initializer(
            moving_variance_initializer, "moving_variance_initializer"
        )
        self.beta_regularizer = get_regularizer(beta_regularizer, "beta_regularizer")
        self.gamma_regularizer = get_regularizer(gamma_regularizer, "gamma_regularizer")
        self.beta_constraint = get_constraint(beta_constraint, "beta_constraint")
        self.gamma_constraint = get_constraint(gamma_constraint, "gamma_constraint")
        self.input_spec = InputSpec(min_ndim=2, layout="(batch, ..., channels)")
        self.channels: int | None = None
        self.build_from_config_shape()

    def build(self, input_shape: tuple) -> None:
        rank = len(input_shape)
        if not -rank < self.axis < rank or self.axis % rank == 0:
            raise invalid_value(
                f"BatchNormalization '{self.name}': `axis` is out of range for the input.",
                expected=f"a non-batch axis of a rank-{rank} input",
                received={"axis": self.axis, "input_shape": input_shape},
            )
        channels = input_shape[self.axis]
        if channels is None:
            raise invalid_value(
                f"BatchNormalization '{self.name}': the channel axis must be known.",
                received={"input_shape": input_shape},
            )
        self.channels = channels
        if self.scale:
            self.add_weight(
                "weight",
                (channels,),
                self.gamma_initializer,
                self.gamma_regularizer,
                self.gamma_constraint,
            )
        else:
            self.register_parameter("weight", None)
        if self.center:
            self.add_weight(
                "bias",
                (channels,),
                self.beta_initializer,
                self.beta_regularizer,
                self.beta_constraint,
            )
        else:
            self.register_parameter("bias", None)
        self.register_buffer("running_mean", self.moving_mean_initializer((channels,)).float())
        self.register_buffer("running_var", self.moving_variance_initializer((channels,)).float())
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        self.input_spec.axes = {self.axis: channels}

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        use_batch_stats = (self.training if training is None else training) and self.trainable
        if use_batch_stats:
            self.num_batches_tracked.add_(1)
        # Channel axis to position 1 is a view (free for channels_last memory).
        x = inputs.movedim(self.axis % inputs.ndim, 1)
        y = F.batch_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            use_batch_stats,
            1.0 - self.momentum,
            self.epsilon,
        )
        return y.movedim(1, self.axis % inputs.ndim)

    def param_formula(self) -> str | None:
        if self.channels is None:
            return None
        c = self.channels
        learned = int(self.scale) + int(self.center)
        names = ", ".join(n for n, on in (("γ", self.scale), ("β", self.center)) if on)
        return (
            f"{learned} × {c:,} = {learned * c:,} trainable ({names}) + "
            f"2 × {c:,} = {2 * c:,} moving statistics (buffers)"
        )

    def macs(self, input_shape: tuple, output_shape: tuple) -> int:
        """0: inference-time BN folds into the previous layer (torchvision counts it as 0)."""
        return 0

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": serialize_initializer(self.beta_initializer),
            "gamma_initializer": serialize_initializer(self.gamma_initializer),
            "moving_mean_initializer": serialize_initializer(self.moving_mean_initializer),
            "moving_variance_initializer": serialize_initializer(self.moving_variance_initializer),
            "beta_regularizer": serialize_regularizer(self.beta_regularizer),
            "gamma_regularizer": serialize_regularizer(self.gamma_regularizer),
            "beta_constraint": serialize_constraint(self.beta_constraint),
            "gamma_constraint": serialize_constraint(self.gamma_constraint),
        }
