"""Keras' ``keras.regularizers`` path: ``kernel_regularizer=keras.regularizers.l2(1e-4)``.

Re-exports the regularizers of :mod:`cnnkit.layers`. Keras makes ``L1``/``L2``
and ``l1``/``l2`` one object under two spellings; here the capitalised names are
the same factories, so ``L2(1e-4)`` builds the same ``L1L2`` penalty as ``l2(1e-4)``.
"""

from cnnkit.layers import L1L2, Regularizer, l1, l1_l2, l2
from cnnkit.layers import get_regularizer as get

L1 = l1
L2 = l2

__all__ = ["L1", "L1L2", "L2", "Regularizer", "get", "l1", "l1_l2", "l2"]
