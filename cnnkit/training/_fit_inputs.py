"""Turn ``fit``'s data arguments into adapters and weight tables, checking them once.

``validation_split`` takes the *last* fraction of the arrays before any
shuffling, as Keras does. ``class_weight`` becomes a small lookup table on the
device, so per-batch weights are one ``index_select``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.training._checks import check_lengths, check_nan
from cnnkit.training._data import ArrayData, make_data

__all__ = ["batch_weights", "class_weight_table", "fit_data", "loss_weight"]


def fit_data(
    x: Any,
    y: Any,
    sample_weight: Any,
    *,
    batch_size: int,
    shuffle: bool,
    steps: int | None,
    split: float,
    validation_data: Any,
    validation_steps: int | None,
    device: torch.device,
    generator: torch.Generator,
    require_labels: bool = True,
) -> tuple[Any, Any]:
    """Training and validation adapters (validation None when there is none).

    ``require_labels=False`` (a model's own ``train_step``, e.g. an autoencoder's
    ``fit(x)``) lets array inputs come without ``y``, as in Keras.
    """
    data = make_data(
        x,
        y,
        sample_weight,
        batch_size=batch_size,
        device=device,
        shuffle=shuffle,
        generator=generator,
        steps=steps,
    )
    val_data = None
    if isinstance(data, ArrayData):
        if data.y is None and require_labels:
            raise invalid_value(
                "fit(): `y` (the labels) is required when `x` is an array.", received={"y": None}
            )
        check_lengths(data.x, data.y, data.w)
        check_nan(data.x, "x")
        if data.y is not None:
            check_nan(data.y, "y")
        if split:
            cut = int(data.num_samples * (1.0 - split))
            if cut in (0, data.num_samples):
                raise invalid_value(
                    "fit(): `validation_split` leaves no sample for training or validation.",
                    received={"validation_split": split, "samples": data.num_samples},
                )
            w = data.w
            val_data = ArrayData(
                data.x[cut:],
                data.y[cut:],
                None if w is None else w[cut:],
                batch_size,
                steps=validation_steps,
            )
            data = ArrayData(
                data.x[:cut],
                data.y[:cut],
                None if w is None else w[:cut],
                batch_size,
                shuffle=shuffle,
                generator=generator,
                steps=steps,
            )
    if validation_data is not None:
        val_data = validation_adapter(validation_data, batch_size, validation_steps, device)
    return data, val_data


def validation_adapter(
    validation_data: Any, batch_size: int, steps: int | None, device: torch.device
) -> Any:
    """``validation_data`` as ``(x_val, y_val[, w_val])`` arrays or a dataset/Sequence."""
    common = {
        "batch_size": batch_size,
        "device": device,
        "shuffle": False,
        "generator": None,
        "steps": steps,
        "role": "validation",
    }
    if isinstance(validation_data, tuple):
        if len(validation_data) not in (2, 3):
            raise invalid_value(
                "fit(): `validation_data` must be (x_val, y_val) or (x_val, y_val, weights).",
                received={"len(validation_data)": len(validation_data)},
            )
        vx, vy, *vw = validation_data
        data = make_data(vx, vy, vw[0] if vw else None, **common)
        if isinstance(data, ArrayData):
            check_lengths(data.x, data.y, data.w)
        return data
    return make_data(validation_data, None, None, **common)


def class_weight_table(class_weight: Any, device: torch.device) -> torch.Tensor | None:
    """``{class: weight}`` as a lookup tensor (missing classes weigh 1), or None."""
    if class_weight is None:
        return None
    if not isinstance(class_weight, dict) or not all(
        isinstance(k, (int, np.integer)) and k >= 0 for k in class_weight
    ):
        raise invalid_type(
            "fit(): `class_weight` must be a dict {class_index: weight} with integer keys >= 0.",
            received={"class_weight": class_weight},
        )
    table = torch.ones(max(int(k) for k in class_weight) + 1)
    for k, v in class_weight.items():
        table[int(k)] = float(v)
    return table.to(device)


def batch_weights(
    y: torch.Tensor | None, w: torch.Tensor | None, table: torch.Tensor | None
) -> torch.Tensor | None:
    """Per-sample weights of a batch: sample weights times the class weights of its labels."""
    if table is None or y is None:
        return w
    labels = y.argmax(-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(len(y)).round()
    labels = labels.long().clamp_(0, len(table) - 1)
    cw = table.index_select(0, labels)
    return cw if w is None else cw * w


def loss_weight(loss_weights: Any) -> float:
    """``compile(loss_weights=...)`` for a single-output model: one number."""
    if loss_weights is None:
        return 1.0
    value = loss_weights
    if isinstance(value, dict) and len(value) == 1:
        value = next(iter(value.values()))
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid_value(
            "compile(): `loss_weights` must be one number for a single-output model.",
            received={"loss_weights": loss_weights},
        )
    return float(value)
