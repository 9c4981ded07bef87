"""``Normalization``: standardise features with a mean and variance learned by ``adapt``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.layers._base import InputSpec, Layer

__all__ = ["Normalization"]

_EPSILON = 1e-7  # Keras' backend epsilon: the floor of the standard deviation


class Normalization(Layer):
    """``(x − mean) / max(sqrt(variance), 1e-7)`` per feature of ``axis`` (Keras 3's formula).

    The statistics come from ``mean=``/``variance=`` or from :meth:`adapt` on data.
    They are non-trainable buffers ``mean``, ``variance`` and ``count`` (Keras 2's
    weights), saved and loaded with the model.

    Args:
        axis: Axis (or list of axes) that keeps its own statistics; default -1 (one
            mean per channel of an image). None: one mean and variance for everything.
        mean, variance: Known statistics (scalars or arrays broadcastable to the kept axes).
        invert: Undo a normalisation instead: ``x · sqrt(variance) + mean``.

    Example:
        >>> norm = Normalization()
        >>> norm.adapt(x_train)   # (N, 28, 28, 1) -> mean and variance of the one channel
    """

    def __init__(
        self,
        axis: int | list[int] | None = -1,
        mean: Any = None,
        variance: Any = None,
        invert: bool = False,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        who = f"Normalization '{self.name}'"
        axes = [] if axis is None else [axis] if isinstance(axis, int) else axis
        if not isinstance(axes, (list, tuple)) or any(
            isinstance(a, bool) or not isinstance(a, int) for a in axes
        ):
            raise invalid_type(f"{who}: `axis` must be an integer, a list of integers or None.",
                               received={"axis": axis})  # fmt: skip
        if (mean is None) != (variance is None):
            raise invalid_value(f"{who}: pass both `mean` and `variance`, or neither.",
                                received={"mean": mean, "variance": variance})  # fmt: skip
        self.axis = None if axis is None else list(axes)
        self.invert = bool(invert)
        self._given = (
            None
            if mean is None
            else (np.asarray(mean, np.float32), np.asarray(variance, np.float32))
        )
        self._kept: tuple[int, ...] = ()
        self._ready = self._given is not None
        self.input_spec = InputSpec(min_ndim=1)
        self.build_from_config_shape()

    # ------------------------------------------------------------------ building
    def build(self, input_shape: tuple) -> None:
        rank = len(input_shape)
        axes = self.axis or []
        if any(not -rank <= a < rank or a % rank == 0 for a in axes):
            raise invalid_value(
                f"Normalization '{self.name}': `axis` is out of range for the input.",
                expected=f"non-batch axes of a rank-{rank} input",
                received={"axis": self.axis, "input_shape": input_shape},
            )
        self._kept = tuple(sorted({a % rank for a in axes}))
        shape = tuple(input_shape[a] for a in self._kept)
        if any(v is None for v in shape):
            raise invalid_value(
                f"Normalization '{self.name}': the kept axes must have known sizes.",
                received={"input_shape": input_shape},
            )
        mean, variance = (np.zeros(shape), np.ones(shape)) if self._given is None else self._given
        try:
            mean, variance = np.broadcast_to(mean, shape), np.broadcast_to(variance, shape)
        except ValueError as err:
            raise invalid_value(
                f"Normalization '{self.name}': `mean`/`variance` do not fit the kept axes.",
                expected=f"arrays broadcastable to {shape}",
                received={"mean.shape": np.shape(mean), "variance.shape": np.shape(variance)},
            ) from err
        self.register_buffer("mean", torch.tensor(np.array(mean), dtype=torch.float32))
        self.register_buffer("variance", torch.tensor(np.array(variance), dtype=torch.float32))
        self.register_buffer("count", torch.zeros((), dtype=torch.float32))
        self.input_spec.axes = {a: input_shape[a] for a in self._kept}

    # ------------------------------------------------------------------ adapt
    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """Compute ``mean`` and ``variance`` from ``data``, replacing any earlier values.

        Args:
            data: An array/tensor ``(N, ...)``, or an iterable of such batches (or of
                ``(x, y)`` pairs; ``x`` is used). Batches are merged exactly (Chan's
                parallel formula), never one sample at a time.
            batch_size, steps: Accepted for Keras compatibility (whole arrays are used).
        """
        batches = [data] if isinstance(data, (np.ndarray, torch.Tensor)) else data
        if not isinstance(batches, Iterable):
            raise invalid_type(
                f"Normalization '{self.name}': adapt() expects an array, a tensor, or an "
                "iterable of batches.",
                received={"data": type(data).__name__},
            )
        count, mean, m2 = 0, None, None
        for batch in batches:
            x = batch[0] if isinstance(batch, (tuple, list)) else batch
            x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
            x = x.detach().to(torch.float64).cpu()
            if not self.built:
                self._maybe_build((None, *x.shape[1:]))
            self.check_input_shape((None, *x.shape[1:]))
            reduce = tuple(i for i in range(x.ndim) if i not in self._kept)
            n = x.numel() // max(1, self.mean.numel())
            var_b, mean_b = torch.var_mean(x, dim=reduce, correction=0)
            if mean is None:
                count, mean, m2 = n, mean_b, var_b * n
                continue
            delta, total = mean_b - mean, count + n
            mean = mean + delta * (n / total)
            m2 = m2 + var_b * n + delta.square() * (count * n / total)
            count = total
        if mean is None:
            raise invalid_value(f"Normalization '{self.name}': adapt() got no data.",
                                received={"data": data})  # fmt: skip
        with torch.no_grad():
            self.mean.copy_(mean.reshape(self.mean.shape))
            self.variance.copy_((m2 / count).reshape(self.variance.shape))
            self.count.fill_(count)
        self._ready = True

    # ------------------------------------------------------------------ forward
    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if not self._ready:
            # A loaded model carries its statistics in the buffers (count > 0).
            self._ready = bool(self.count.item() > 0)
            if not self._ready:
                raise invalid_value(
                    f"Normalization '{self.name}': the layer has no statistics yet.",
                    received={"mean": None},
                    hint="Call layer.adapt(data) first, or pass mean= and variance=.",
                )
        view = [inputs.shape[i] if i in self._kept else 1 for i in range(inputs.ndim)]
        mean, variance = self.mean.view(view), self.variance.view(view)
        if self.invert:
            return inputs * variance.sqrt() + mean
        return (inputs - mean) / variance.sqrt().clamp_min(_EPSILON)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config() | {"axis": self.axis, "invert": self.invert}
        if self._given is not None:
            config |= {"mean": self._given[0].tolist(), "variance": self._given[1].tolist()}
        return config
