"""Core layers: ``Dense``, ``Dropout``/``SpatialDropout2D``, ``Activation``, ``ReLU``,
``LeakyReLU``, ``Rescaling``."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from cnnkit._errors import invalid_value
from cnnkit.layers._activations import activate, activation_name, get_activation
from cnnkit.layers._args import normalize_data_format, positive_int
from cnnkit.layers._base import InputSpec, Layer
from cnnkit.layers._kernel import KernelBiasMixin
from cnnkit.layers._weights import Array, permute

__all__ = [
    "Activation",
    "Dense",
    "Dropout",
    "LeakyReLU",
    "ReLU",
    "Rescaling",
    "SpatialDropout2D",
]


class Dense(KernelBiasMixin, Layer):
    """Fully connected layer on the last axis: ``(..., in)`` -> ``(..., units)``.

    Args:
        units: Output size (>= 1).
        activation: Name, callable, or None (linear).
        use_bias: Default True.
        kernel_initializer: Default ``"glorot_uniform"``; bias_initializer default ``"zeros"``.
        kernel_regularizer, bias_regularizer: Optional penalties.
        kernel_constraint, bias_constraint: Optional projections.
        **kwargs: ``name``, ``input_shape``, ``activity_regularizer``, ...

    Weights: ``weight`` ``(units, in)`` (torch), shown by ``get_weights`` as ``(in, units)``.
    """

    def __init__(
        self,
        units: int,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ):
        if "input_dim" in kwargs and kwargs.get("input_shape") is None:
            kwargs["input_shape"] = (kwargs.pop("input_dim"),)  # Keras 2 spelling
        super().__init__(**kwargs)
        self.units = positive_int(units, "units", f"Dense '{self.name}'")
        self._init_kernel_args(
            activation,
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            kernel_constraint,
            bias_constraint,
        )
        self.input_spec = InputSpec(min_ndim=2, layout="(batch, ..., features)")
        self.in_features: int | None = None
        self.build_from_config_shape()

    def build(self, input_shape: tuple) -> None:
        features = input_shape[-1]
        if features is None:
            raise invalid_value(
                f"Dense '{self.name}': the last axis of the input must be known.",
                received={"input_shape": input_shape},
                hint="Put a Flatten (or a global pooling layer) before Dense.",
            )
        self.in_features = features
        self._add_kernel_and_bias((features, self.units), self.units)
        self.input_spec.axes = {-1: features}

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*input_shape[:-1], self.units)

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        return activate(self.activation, F.linear(inputs, self.weight, self.bias))

    def to_keras_layout(self, name: str, array: Array) -> Array:
        return permute(array, (1, 0)) if name == "weight" else array

    def from_keras_layout(self, name: str, array: Array) -> Array:
        return permute(array, (1, 0)) if name == "weight" else array

    def param_formula(self) -> str | None:
        if self.in_features is None:
            return None
        bias = f" + {self.units:,}" if self.use_bias else ""
        return f"{self.in_features:,} × {self.units:,}{bias} = {self.count_params():,}"

    def macs(self, input_shape: tuple, output_shape: tuple) -> int:
        """``in · units`` per position (positions = product of the middle axes)."""
        if self.in_features is None or any(v is None for v in input_shape[1:]):
            return 0
        positions = 1
        for v in input_shape[1:-1]:
            positions *= v
        return positions * self.in_features * self.units

    def get_config(self) -> dict[str, Any]:
        return (
            super().get_config()
            | {
                "units": self.units,
            }
            | self._kernel_config()
        )

    def extra_repr(self) -> str:
        return f"name={self.name!r}, units={self.units}"


class Dropout(Layer):
    """Zero a fraction ``rate`` of inputs during training, scaling the rest by ``1/(1−rate)``.

    Args:
        rate: Drop probability in ``[0, 1)``.
        noise_shape: Shape of the binary mask, broadcast over the input; None
            entries take the input's size (e.g. ``(None, 1, 1, C)`` drops whole channels).
        seed: Accepted for Keras compatibility; use ``torch.manual_seed`` for reproducibility.
    """

    def __init__(
        self, rate: float, noise_shape: Any = None, seed: int | None = None, **kwargs: Any
    ):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise invalid_value(
                f"Dropout '{self.name}': `rate` must be a number in [0, 1).",
                expected="0 <= rate < 1",
                received={"rate": rate},
            )
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self.build_from_config_shape()

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        active = self.training if training is None else training
        if not active or self.rate == 0:
            return inputs
        if self.noise_shape is None:
            return F.dropout(inputs, self.rate, training=True)
        shape = [
            s if m is None else m for m, s in zip(self.noise_shape, inputs.shape, strict=False)
        ]
        keep = torch.empty(shape, device=inputs.device, dtype=inputs.dtype).bernoulli_(
            1 - self.rate
        )
        return inputs * keep / (1 - self.rate)

    def get_config(self) -> dict[str, Any]:
        noise = None if self.noise_shape is None else list(self.noise_shape)
        return super().get_config() | {"rate": self.rate, "noise_shape": noise, "seed": self.seed}


class SpatialDropout2D(Dropout):
    """Drop whole feature maps: one keep/drop draw per (image, channel), scaled by ``1/(1−rate)``.

    Neighbouring pixels of a feature map are strongly correlated, so dropping single
    pixels hardly regularises a convolution; dropping channels does.

    Args:
        rate: Drop probability in ``[0, 1)``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: Accepted for Keras compatibility.
    """

    def __init__(
        self, rate: float, data_format: str | None = None, seed: int | None = None, **kwargs: Any
    ):
        fmt = normalize_data_format(data_format, "SpatialDropout2D")
        noise = (None, 1, 1, None) if fmt == "channels_last" else (None, None, 1, 1)
        super().__init__(rate, noise_shape=noise, seed=seed, **kwargs)
        self.data_format = fmt
        self.input_spec = InputSpec(ndim=4, layout="(batch, height, width, channels)")

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["noise_shape"]
        return config | {"data_format": self.data_format}


class Activation(Layer):
    """Apply an activation by name or callable; shape unchanged."""

    def __init__(self, activation: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.activation = get_activation(activation)
        self.build_from_config_shape()

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        return activate(self.activation, inputs)

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {"activation": activation_name(self.activation)}


class ReLU(Layer):
    """``min(max(x, threshold), max_value)`` with ``negative_slope`` below ``threshold``.

    Args:
        max_value: Upper cap (None: no cap; 6 gives ReLU6).
        negative_slope: Slope below the threshold (default 0).
        threshold: Where the slope changes (default 0).
    """

    def __init__(
        self,
        max_value: float | None = None,
        negative_slope: float = 0.0,
        threshold: float = 0.0,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if (max_value is not None and max_value < 0) or negative_slope < 0:
            raise invalid_value(
                f"ReLU '{self.name}': `max_value` and `negative_slope` must be >= 0.",
                received={"max_value": max_value, "negative_slope": negative_slope},
            )
        self.max_value = None if max_value is None else float(max_value)
        self.negative_slope, self.threshold = float(negative_slope), float(threshold)
        self.build_from_config_shape()

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if self.negative_slope == 0 and self.threshold == 0:
            if self.max_value is not None:
                # One pass instead of relu + clamp_max (ReLU6 is most of MobileNet's and
                # EfficientNet-Lite's elementwise time); gradient 0 at both ends, as TF's Relu6.
                return F.hardtanh(inputs, 0.0, self.max_value)
            y = F.relu(inputs)
        else:
            below = self.negative_slope * (inputs - self.threshold)
            y = torch.where(inputs >= self.threshold, inputs, below)
        return y if self.max_value is None else y.clamp_max(self.max_value)

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }


class LeakyReLU(Layer):
    """``x`` for ``x >= 0`` else ``negative_slope·x``; Keras default 0.3 (``alpha=`` too)."""

    def __init__(self, negative_slope: float = 0.3, alpha: float | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        slope = negative_slope if alpha is None else alpha  # Keras 2 called it alpha
        if isinstance(slope, bool) or not isinstance(slope, (int, float)) or slope < 0:
            raise invalid_value(
                f"LeakyReLU '{self.name}': `negative_slope` must be a number >= 0.",
                received={"negative_slope": slope},
            )
        self.negative_slope = float(slope)
        self.build_from_config_shape()

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        return F.leaky_relu(inputs, self.negative_slope)

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {"negative_slope": self.negative_slope}


class Rescaling(Layer):
    """``x · scale + offset``, e.g. ``Rescaling(1/255)`` for 0–255 images."""

    def __init__(self, scale: float, offset: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.scale, self.offset = float(scale), float(offset)
        self.build_from_config_shape()

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        return inputs * self.scale + self.offset

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {"scale": self.scale, "offset": self.offset}
