"""cnnkit: convolutional neural networks for image classification.

Keras-simple API, PyTorch engine, every number explainable. Import the parts
you need (``from cnnkit.models import Sequential``), or use the package the way
Keras course code uses ``keras``::

    import cnnkit as keras
    model = keras.models.Sequential([keras.layers.Dense(10)])

Subpackages load lazily on first attribute access, so ``import cnnkit`` stays
light and ``cnnkit.ops`` still works without importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Subpackages and Keras-twin modules reachable as attributes of ``cnnkit``.
_SUBMODULES = frozenset(
    {
        "activations",
        "applications",
        "backend",
        "callbacks",
        "constraints",
        "data",
        "datasets",
        "initializers",
        "layers",
        "losses",
        "metrics",
        "models",
        "ops",
        "optimizers",
        "preprocessing",
        "random",
        "regularizers",
        "training",
        "transfer",
        "utils",
        "viz",
    }
)

#: Keras' top-level shortcuts (``keras.Sequential``, ``keras.Model``, ``keras.Input``)
#: and the subpackage each one lives in.
_SHORTCUTS = {"Input": "layers", "Model": "models", "Sequential": "models"}

__all__ = ["__version__", *sorted(_SHORTCUTS), *sorted(_SUBMODULES)]


def __getattr__(name: str) -> Any:
    # PEP 562: import ``cnnkit.<name>`` on first access; ``import_module`` also
    # binds it in this module's namespace, so later lookups never come here.
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _SHORTCUTS:
        value = getattr(importlib.import_module(f"{__name__}.{_SHORTCUTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES | set(_SHORTCUTS))
