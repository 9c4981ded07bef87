"""Keras-style training callbacks."""

from cnnkit.callbacks._base import Callback, CallbackList, History

__all__ = ["Callback", "CallbackList", "History"]
