"""``Variable``: the parameter class of cnnkit layers, with Keras 3's ``.value``.

Keras 3 code written for its torch backend reads a weight's torch tensor as
``variable.value`` (``[v.value.grad for v in model.trainable_weights]`` in a
custom ``train_step``). A cnnkit weight *is* that tensor, a ``torch.nn.Parameter``
subclass whose ``value`` is itself, so torch code and Keras code see the same object.
"""

from __future__ import annotations

import numpy as np
from torch import nn

__all__ = ["Variable"]


class Variable(nn.Parameter):
    """A ``torch.nn.Parameter`` with Keras' ``value`` and ``numpy()`` accessors."""

    @property
    def value(self) -> Variable:
        """The torch tensor holding the weight: the parameter itself."""
        return self

    def numpy(self) -> np.ndarray:  # type: ignore[override]
        """A NumPy copy (detached, on the CPU), as ``keras.Variable.numpy()``."""
        return self.detach().cpu().numpy()
