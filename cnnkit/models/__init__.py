"""Models: ``Sequential``, functional ``Model``, the explaining ``summary``, safe save/load."""

from cnnkit.models._functional import Functional
from cnnkit.models._model import Model
from cnnkit.models._sequential import Sequential
from cnnkit.models._serialization import register_serializable

__all__ = ["Functional", "Model", "Sequential", "register_serializable"]
