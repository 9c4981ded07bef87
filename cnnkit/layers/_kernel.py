"""The kernel-and-bias arguments Dense and the convolutions share.

One place parses ``activation``, ``use_bias`` and the kernel/bias
initializers, regularizers and constraints, creates the two weights, and
writes them back into a config.
"""

from __future__ import annotations

from typing import Any

from cnnkit.layers._activations import activation_name, get_activation
from cnnkit.layers._constraints import get_constraint, serialize_constraint
from cnnkit.layers._initializers import get_initializer, serialize_initializer
from cnnkit.layers._regularizers import get_regularizer, serialize_regularizer

__all__ = ["KernelBiasMixin"]


class KernelBiasMixin:
    """Mixed into layers that own a kernel and an optional bias.

    ``layer.kernel`` and ``layer.bias`` are Keras' names for the weights. They are the
    torch parameters themselves, in **torch layout** (conv ``(out, in, kh, kw)``, Dense
    ``(units, in)``); ``get_weights()`` gives the Keras layout. The storage name of the
    kernel stays ``weight`` so torch/torchvision state dicts load directly.
    """

    @property
    def kernel(self) -> Any:
        """The kernel parameter in torch layout (read-only; assign through ``weight``)."""
        return self.weight  # type: ignore[attr-defined]

    def _init_kernel_args(
        self,
        activation: Any,
        use_bias: bool,
        kernel_initializer: Any,
        bias_initializer: Any,
        kernel_regularizer: Any,
        bias_regularizer: Any,
        kernel_constraint: Any,
        bias_constraint: Any,
    ) -> None:
        self.activation = get_activation(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = get_initializer(kernel_initializer, "kernel_initializer")
        self.bias_initializer = get_initializer(bias_initializer, "bias_initializer")
        self.kernel_regularizer = get_regularizer(kernel_regularizer, "kernel_regularizer")
        self.bias_regularizer = get_regularizer(bias_regularizer, "bias_regularizer")
        self.kernel_constraint = get_constraint(kernel_constraint, "kernel_constraint")
        self.bias_constraint = get_constraint(bias_constraint, "bias_constraint")

    def _add_kernel_and_bias(
        self, kernel_shape: tuple[int, ...], units: int, kernel_name: str = "weight"
    ) -> None:
        """Create the kernel (Keras-layout ``kernel_shape``) and a ``(units,)`` bias or None."""
        self.add_weight(  # type: ignore[attr-defined]
            kernel_name,
            kernel_shape,
            self.kernel_initializer,
            self.kernel_regularizer,
            self.kernel_constraint,
        )
        if self.use_bias:
            self.add_weight(  # type: ignore[attr-defined]
                "bias", (units,), self.bias_initializer, self.bias_regularizer, self.bias_constraint
            )
        else:
            self.register_parameter("bias", None)  # type: ignore[attr-defined]

    def _kernel_config(self) -> dict[str, Any]:
        return {
            "activation": activation_name(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": serialize_initializer(self.kernel_initializer),
            "bias_initializer": serialize_initializer(self.bias_initializer),
            "kernel_regularizer": serialize_regularizer(self.kernel_regularizer),
            "bias_regularizer": serialize_regularizer(self.bias_regularizer),
            "kernel_constraint": serialize_constraint(self.kernel_constraint),
            "bias_constraint": serialize_constraint(self.bias_constraint),
        }
