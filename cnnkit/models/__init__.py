"""Models: ``Sequential``, functional ``Model``, the explaining ``summary``, safe save/load."""

from cnnkit.models._cloning import clone_model, model_from_json
from cnnkit.models._loading import load_model
from cnnkit.models._model import Functional, Model
from cnnkit.models._sequential import Sequential
from cnnkit.models._serialization import register_serializable
from cnnkit.models._summary import ModelSummary

__all__ = [
    "Functional",
    "Model",
    "ModelSummary",
    "Sequential",
    "clone_model",
    "load_model",
    "model_from_json",
    "register_serializable",
]
