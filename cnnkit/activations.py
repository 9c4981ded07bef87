"""Keras' ``keras.activations`` path: ``Dense(10, activation=keras.activations.softmax)``.

Each name is the very function that :data:`cnnkit.layers.ACTIVATIONS` registers
under that Keras name, so a layer given the function stores the same name in
its config as a layer given the string. ``get`` resolves a name or callable.
"""

from cnnkit.layers import ACTIVATIONS as _ACTIVATIONS
from cnnkit.layers import get_activation as get

elu = _ACTIVATIONS["elu"]
gelu = _ACTIVATIONS["gelu"]
leaky_relu = _ACTIVATIONS["leaky_relu"]
linear = _ACTIVATIONS["linear"]
relu = _ACTIVATIONS["relu"]
relu6 = _ACTIVATIONS["relu6"]
selu = _ACTIVATIONS["selu"]
sigmoid = _ACTIVATIONS["sigmoid"]
silu = _ACTIVATIONS["silu"]
softmax = _ACTIVATIONS["softmax"]
softplus = _ACTIVATIONS["softplus"]
swish = _ACTIVATIONS["swish"]
tanh = _ACTIVATIONS["tanh"]

__all__ = [
    "elu",
    "gelu",
    "get",
    "leaky_relu",
    "linear",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "swish",
    "tanh",
]
