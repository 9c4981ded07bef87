"""Keras-style layers; every one is a real ``torch.nn.Module``."""

from cnnkit.layers._base import InputSpec, KerasTensor, Layer, Node, reset_layer_names

__all__ = ["InputSpec", "KerasTensor", "Layer", "Node", "reset_layer_names"]
