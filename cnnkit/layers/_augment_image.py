"""``RandomContrast`` and ``RandomCrop``: batched per-image augmentation, no Python loop.

Both draw one random value (contrast factor, crop offset) per image on the CPU
generator of :class:`~cnnkit.layers._augment._RandomLayer` (so a seed gives the
same draws on any device) and apply them to the whole batch in one op.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from cnnkit._errors import invalid_value
from cnnkit.layers._args import positive_int
from cnnkit.layers._augment import _RandomLayer

__all__ = ["RandomContrast", "RandomCrop"]


class RandomContrast(_RandomLayer):
    """Scale each image's deviation from its per-channel mean by a random factor.

    ``out = clip((x − mean) · f + mean, value_range)`` with ``f`` drawn from
    ``U(1 − lower, 1 + upper)`` per image (Keras 3); identity in inference.

    Args:
        factor: ``f`` means ``(f, f)``; or ``(lower, upper)``, each in ``[0, 1]``.
        value_range: Range to clip to; default ``(0, 255)`` as Keras 3.
        seed: Optional seed for a layer-private generator.
    """

    def __init__(
        self, factor: Any, value_range: Any = (0, 255), seed: int | None = None, **kwargs: Any
    ):
        super().__init__(seed=seed, **kwargs)
        who = f"RandomContrast '{self.name}'"
        pair = (factor, factor) if isinstance(factor, (int, float)) else factor
        if (
            not isinstance(pair, (list, tuple))
            or len(pair) != 2
            or not all(isinstance(v, (int, float)) and 0 <= v <= 1 for v in pair)
        ):
            raise invalid_value(
                f"{who}: `factor` must be a number or a (lower, upper) pair, each in [0, 1].",
                received={"factor": factor},
            )
        self.factor = (float(pair[0]), float(pair[1]))
        if (
            not isinstance(value_range, (list, tuple))
            or len(value_range) != 2
            or not value_range[0] < value_range[1]
        ):
            raise invalid_value(f"{who}: `value_range` must be a (low, high) pair with low < high.",
                                received={"value_range": value_range})  # fmt: skip
        self.value_range = (float(value_range[0]), float(value_range[1]))
        self.build_from_config_shape()

    def _augment(self, inputs: torch.Tensor) -> torch.Tensor:
        n = inputs.shape[0]
        f = self._uniform(n, 1 - self.factor[0], 1 + self.factor[1], inputs.device)
        mean = inputs.mean(dim=(1, 2), keepdim=True)
        out = (inputs - mean) * f.view(n, 1, 1, 1).to(inputs.dtype) + mean
        return out.clamp(*self.value_range)

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {
            "factor": list(self.factor),
            "value_range": list(self.value_range),
        }


class RandomCrop(_RandomLayer):
    """Crop a random ``height × width`` window per image in training; the centre in inference.

    ``(batch, H, W, C)`` -> ``(batch, height, width, C)``. An input smaller than the
    target on either side is first resized (bilinear) to the target, as Keras does.

    Args:
        height, width: Size of the crop.
        seed: Optional seed for a layer-private generator.
    """

    def __init__(self, height: int, width: int, seed: int | None = None, **kwargs: Any):
        super().__init__(seed=seed, **kwargs)
        who = f"RandomCrop '{self.name}'"
        self.height = positive_int(height, "height", who)
        self.width = positive_int(width, "width", who)
        self.build_from_config_shape()

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        self.check_input_shape(input_shape)
        return (input_shape[0], self.height, self.width, input_shape[3])

    def _fit(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] >= self.height and x.shape[2] >= self.width:
            return x
        y = F.interpolate(x.permute(0, 3, 1, 2), size=(self.height, self.width), mode="bilinear",
                          align_corners=False)  # fmt: skip
        return y.permute(0, 2, 3, 1)

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        x = self._fit(inputs)
        active = self.training if training is None else training
        if active:
            return self._augment(x)
        top = (x.shape[1] - self.height) // 2
        left = (x.shape[2] - self.width) // 2
        return x[:, top : top + self.height, left : left + self.width]

    def _augment(self, inputs: torch.Tensor) -> torch.Tensor:
        n, h, w = inputs.shape[:3]
        # Offsets uniform over the valid positions; one gather for the whole batch.
        top = (self._uniform(n, 0, 1, torch.device("cpu")) * (h - self.height + 1)).long()
        left = (self._uniform(n, 0, 1, torch.device("cpu")) * (w - self.width + 1)).long()
        rows = (top.clamp_max(h - self.height)[:, None] + torch.arange(self.height)).to(
            inputs.device
        )
        cols = (left.clamp_max(w - self.width)[:, None] + torch.arange(self.width)).to(
            inputs.device
        )
        batch = torch.arange(n, device=inputs.device)[:, None, None]
        return inputs[batch, rows[:, :, None], cols[:, None, :]]

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {"height": self.height, "width": self.width}
