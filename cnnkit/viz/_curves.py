"""Training curves: loss and accuracy per epoch, training vs validation, in one PNG.

matplotlib is imported only inside :func:`plot_history` (the ``viz`` extra),
with the non-interactive Agg backend, so servers and CI need no display.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.viz._plotting import save_and_close

__all__ = ["plot_history"]


def _series(history: Any) -> dict[str, list[float]]:
    series = getattr(history, "history", history)
    if not isinstance(series, dict):
        raise invalid_type(
            "plot_history: `history` must be a History or a dict of per-epoch lists.",
            received={"history": type(history).__name__},
        )
    if "loss" not in series:
        raise invalid_value(
            "plot_history: the history has no 'loss' curve.", received={"keys": sorted(series)}
        )
    return series


def _check_stages(stages: Any, epochs: int) -> dict[str, int]:
    if stages is None:
        return {}
    if not isinstance(stages, dict):
        raise invalid_type(
            "plot_history: `stages` must be a dict {label: first epoch of that stage}.",
            received={"stages": type(stages).__name__},
        )
    for label, first in stages.items():
        if isinstance(first, bool) or not isinstance(first, int) or not 2 <= first <= epochs:
            raise invalid_value(
                f"plot_history: stage {label!r} must start at an epoch between 2 and {epochs}.",
                received={label: first},
            )
    return stages


def plot_history(
    history: Any,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    stages: dict[str, int] | None = None,
) -> Path:
    """Draw loss and accuracy (train vs validation) per epoch and save a PNG.

    Args:
        history: ``model.fit(...)``'s History, or its ``.history`` dict.
        path: Where the PNG goes; written to a temporary file first, then renamed.
        title: Figure title, e.g. ``"lenet5 on mnist"``.
        stages: ``{label: first epoch}`` (1-based) of later training stages, drawn as
            a labelled dotted line before that epoch, e.g. ``{"fine-tune": 11}``
            for ``fine_tune``'s second stage. Default None.

    Returns:
        The path of the PNG.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    series = _series(history)
    marks = _check_stages(stages, len(series["loss"]))
    panels = [("loss", "loss")]
    acc = next((k for k in series if k.endswith("accuracy") and not k.startswith("val_")), None)
    if acc is not None:
        panels.append((acc, "accuracy"))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
    for ax, (key, label) in zip(axes[0], panels, strict=True):
        epochs = range(1, len(series[key]) + 1)
        ax.plot(epochs, series[key], "o-", label=f"train {label}")
        if f"val_{key}" in series:
            ax.plot(epochs, series[f"val_{key}"], "s--", label=f"validation {label}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_xticks(list(epochs))
        ax.grid(alpha=0.3)
        for label, first in marks.items():
            ax.axvline(first - 0.5, color="0.4", linestyle=":", linewidth=1.2)
            ax.annotate(
                f" {label} →", (first - 0.5, 1.0), xycoords=("data", "axes fraction"),
                va="top", fontsize=8, color="0.3",
            )  # fmt: skip
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_and_close(fig, path)
