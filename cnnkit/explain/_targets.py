"""The class each map explains: None (the predicted class), an int, or one per image."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cnnkit._errors import invalid_type, invalid_value

__all__ = ["check_targets", "class_probabilities", "resolve_targets"]


def resolve_targets(targets: torch.Tensor | None, scores: torch.Tensor) -> torch.Tensor:
    """The checked class indices (from :func:`check_targets`), or the predicted ones if None."""
    if targets is None:
        return scores.detach().argmax(dim=1)
    return targets.to(scores.device)


def check_targets(target: Any, n: int, classes: int, who: str) -> torch.Tensor | None:
    """Class indices ``(n,)`` (int64) from ``target``; None stays None (predicted class).

    Raises:
        TypeError: a target that is not an integer (or a sequence of them).
        ValueError: a class index outside ``[0, classes)`` or a sequence of the wrong length.
    """
    if target is None:
        return None
    if isinstance(target, (bool, np.bool_)):
        raise invalid_type(f"{who}: `target` must be a class index.", received={"target": target})
    if isinstance(target, (int, np.integer)):
        values = np.full(n, int(target))
    else:
        values = np.asarray(target.detach().cpu() if isinstance(target, torch.Tensor) else target)
        if values.dtype.kind not in "iu" or values.ndim != 1:
            raise invalid_type(
                f"{who}: `target` must be None, a class index, or one index per image.",
                received={"target": target},
            )
        if len(values) != n:
            raise invalid_value(
                f"{who}: `target` needs one class index per image.",
                expected=f"{n} indices",
                received={"len(target)": len(values)},
            )
    bad = values[(values < 0) | (values >= classes)]
    if bad.size:
        raise invalid_value(
            f"{who}: `target` is out of range for a model with {classes} classes.",
            expected=f"class indices in [0, {classes - 1}]",
            received={"target": int(bad[0])},
        )
    return torch.as_tensor(values, dtype=torch.int64)


def class_probabilities(scores: torch.Tensor, targets: torch.Tensor, binary: bool) -> np.ndarray:
    """The model's probability of each image's target class, float32 ``(N,)``.

    Softmax of the scores; for a one-unit sigmoid model (``binary``) the scores
    are ``(-z, z)`` and the probabilities ``sigmoid(-z), sigmoid(z)``.
    """
    s = scores.detach().float()
    p = torch.sigmoid(s) if binary else torch.softmax(s, dim=1)
    return p.gather(1, targets[:, None])[:, 0].cpu().numpy().astype(np.float32)
