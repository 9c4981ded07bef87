"""``extract_features``: run a pretrained body once over a dataset, keep NumPy features.

Fast by construction: the directory dataset decodes JPEGs in worker
processes while the main process runs the network; the network runs under
``torch.inference_mode`` in ``eval`` mode with its 4-D weights in
``channels_last`` (the layout cnnkit's NHWC activations already have, so
oneDNN needs no reorders); each batch is preprocessed as a whole tensor.
On hardware that computes bfloat16 natively (AVX512-BF16/AMX CPUs, recent
GPUs) ``precision="auto"`` runs the body under bf16 autocast: about 10× faster
convolutions on such a CPU, features within ~4% relative error, and the same
transfer accuracy (docs/benchmarks.md, ``## feature_extraction``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnkit._errors import invalid_type, invalid_value, unknown_name
from cnnkit.applications import ZooModel
from cnnkit.applications._imagenet import preprocess_input
from cnnkit.models._model import model_device
from cnnkit.training._engine import native_bf16
from cnnkit.transfer._head import preprocessing_mode
from cnnkit.transfer._units import Unit, find_base

__all__ = [
    "collect",
    "extract_features",
    "inference_layout",
    "is_array_pair",
    "iter_batches",
    "predict_with_labels",
    "resolve_precision",
    "run_units",
]

_POOLING = ("avg", "max", None)
_PRECISIONS = ("auto", "float32", "bf16")


def resolve_precision(precision: str, device: torch.device) -> str:
    """``"float32"`` or ``"bf16"`` for ``precision`` on ``device``.

    ``"auto"`` picks ``"bf16"`` only where ``device`` computes bfloat16 natively
    (emulated bf16 is slower than float32), else ``"float32"``.
    """
    if precision not in _PRECISIONS:
        raise unknown_name("precision", precision, list(_PRECISIONS), argument="precision")
    if precision != "auto":
        return precision
    return "bf16" if native_bf16(device) else "float32"


def is_array_pair(data: Any) -> bool:
    """Whether ``data`` is a pair ``(x, y)`` of arrays (not a dataset or a folder)."""
    return isinstance(data, tuple) and len(data) == 2 and hasattr(data[0], "shape")


def iter_batches(
    data: Any, batch_size: int, image_size: tuple[int, int] | None
) -> tuple[Iterable[Any], int | None]:
    """``(batches, number_of_batches)`` of ``(x, y_or_None)`` from any supported input.

    ``data`` is a dataset from ``image_dataset_from_directory``, a folder path
    (read in sorted order, labels inferred from sub-folders), an array/tensor
    ``(N, H, W, C)`` of 0..255 images, a pair ``(x, y)`` of those, or any
    iterable of ``(x, y)`` batches.
    """
    if isinstance(data, (str, os.PathLike)):
        from cnnkit.data import image_dataset_from_directory

        data = image_dataset_from_directory(
            data, image_size=image_size or (224, 224), batch_size=batch_size, shuffle=False
        )
    if isinstance(data, (np.ndarray, torch.Tensor)):
        data = (data, None)
    if is_array_pair(data):
        x, y = data
        n = len(x)
        if y is not None and len(y) != n:
            raise invalid_value(
                "extract_features: `x` and `y` must have the same number of samples.",
                received={"len(x)": n, "len(y)": len(y)},
            )

        def arrays() -> Iterator[tuple[Any, Any]]:
            for start in range(0, n, batch_size):
                yield (
                    x[start : start + batch_size],
                    None if y is None else y[start : start + batch_size],
                )

        return arrays(), -(-n // batch_size)
    if not isinstance(data, Iterable):
        raise invalid_type(
            "extract_features: `data` must be a dataset, a folder, an image array or an "
            "iterable of (x, y) batches.",
            received={"data": type(data).__name__},
        )
    try:
        count = len(data)  # type: ignore[arg-type]
    except TypeError:
        count = None
    return data, count


def _as_xy(batch: Any) -> tuple[torch.Tensor, Any]:
    x, y = (batch[0], batch[1]) if isinstance(batch, (tuple, list)) else (batch, None)
    x = torch.as_tensor(x)
    return x, y


def run_units(units: list[Unit], x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
    """Chain ``x`` through ``units``, each with its forced training flag when it has one."""
    for unit in units:
        flag = training if unit.training is None else unit.training
        x = unit.module(x, training=flag)
    return x


@contextmanager
def inference_layout(model: nn.Module) -> Iterator[None]:
    """``eval`` mode and channels_last 4-D weights; both restored on exit."""
    was_training = model.training
    model.eval()
    model.to(memory_format=torch.channels_last)
    try:
        yield
    finally:
        # Saving needs plain contiguous tensors, so the user's model gets them back.
        model.to(memory_format=torch.contiguous_format)
        model.train(was_training)


def _progress(verbose: bool, label: str) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, TimeRemainingColumn(), disable=not verbose)


def collect(
    fn: Callable[[torch.Tensor], torch.Tensor],
    batches: Iterable[Any],
    total: int | None,
    *,
    device: torch.device,
    verbose: bool,
    label: str = "extracting",
) -> tuple[np.ndarray, np.ndarray | None]:
    """Apply ``fn`` to every batch's ``x`` under inference mode; stack outputs and labels."""
    feats: list[torch.Tensor] = []
    labels: list[np.ndarray] = []
    progress = _progress(verbose, label)
    with progress, torch.inference_mode():
        task = progress.add_task(label, total=total)
        for batch in batches:
            x, y = _as_xy(batch)
            feats.append(fn(x.to(device, torch.float32)).cpu())
            if y is not None:
                labels.append(np.asarray(y))
            progress.advance(task)
    if not feats:
        raise invalid_value("extract_features: `data` yielded no batches.", received={"batches": 0})
    out = torch.cat(feats).numpy()
    if labels and len(labels) != len(feats):
        raise invalid_value(
            "extract_features: some batches had labels and some did not.",
            received={"labelled batches": len(labels), "batches": len(feats)},
        )
    return out, (np.concatenate(labels) if labels else None)


def extract_features(
    model: nn.Module,
    data: Any,
    batch_size: int = 32,
    *,
    pooling: str | None = "avg",
    preprocess: Any = "auto",
    precision: str = "auto",
    fold_batchnorm: bool | None = None,
    verbose: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Features of every image in ``data`` from a pretrained body, as NumPy arrays.

    Args:
        model: A zoo model (its ``forward_features`` body is used, the top is not),
            or a model that contains one (e.g. from :func:`replace_head`).
        data: A dataset from ``image_dataset_from_directory`` (decoded in worker
            processes), a folder path, an array ``(N, H, W, 3)`` of 0..255 RGB
            images, a pair ``(x, y)``, or an iterable of ``(x, y)`` batches.
        batch_size: Images per forward pass for arrays and folders. Default 32.
        pooling: ``"avg"`` (default) or ``"max"`` gives ``(N, channels)``; None keeps
            the feature map ``(N, h, w, channels)``.
        preprocess: ``"auto"`` (default) applies the family's ``preprocess_input``;
            None applies nothing (data already scaled); or a callable on a batch.
        precision: ``"auto"`` (default) runs the body under bfloat16 autocast
            where the device computes bf16 natively, else in float32;
            ``"float32"`` always float32 (bit-for-bit the model's own forward);
            ``"bf16"`` always bf16 autocast. Preprocessing and pooling stay float32.
        fold_batchnorm: Run a copy of the body whose BatchNormalization layers are
            merged into the convolutions before them (``_folding``; checked against
            the body on a probe batch, else the body itself runs; the model passed
            in is never changed). Default None: fold under bf16, where it saves
            about a third of EfficientNet-Lite0's time and its float32 rounding
            (~1e-6 relative) is far below bf16's; not under float32, which stays
            bit-for-bit the model's own forward.
        verbose: Show a progress bar. Default True.

    Returns:
        ``(features, labels)``: float32 features and the labels in the same order
        (None when ``data`` has no labels).
    """
    base = find_base(model)
    if base is None:
        raise invalid_type(
            "extract_features: `model` must be a zoo model or contain one.",
            received={"model": type(model).__name__},
        )
    if pooling not in _POOLING:
        raise unknown_name("pooling", pooling, ["avg", "max"], argument="pooling")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise invalid_value(
            "extract_features: `batch_size` must be a positive integer.",
            received={"batch_size": batch_size},
        )
    prep = _preprocessor(base, preprocess)
    device = model_device(base)
    bf16 = resolve_precision(precision, device) == "bf16"
    batches, total = iter_batches(data, batch_size, base.sample_shape[:2])

    with inference_layout(base):
        fold = bf16 if fold_batchnorm is None else fold_batchnorm
        body = _inference_body(base, device) if fold else base

        def features(x: torch.Tensor) -> torch.Tensor:
            x = prep(x)
            autocast = torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else nullcontext()
            with autocast:
                fmap = body.forward_features(x, training=False)
            fmap = fmap.float()
            if pooling == "avg":
                return fmap.mean(dim=(1, 2))
            return fmap.amax(dim=(1, 2)) if pooling == "max" else fmap

        return collect(features, batches, total, device=device, verbose=verbose)


def _inference_body(base: ZooModel, device: torch.device) -> ZooModel:
    """``base``, or a copy with its BatchNorm folded when that matches on a probe batch."""
    from cnnkit.transfer._folding import folded_copy

    shape = base.sample_shape
    if any(d is None for d in shape):
        return base
    probe = torch.rand(2, *shape, generator=torch.Generator().manual_seed(0)) * 2 - 1

    def run(net: nn.Module) -> torch.Tensor:
        with torch.inference_mode():
            return net.forward_features(probe.to(device), training=False).float()

    return folded_copy(base, run)[0]


def _preprocessor(base: ZooModel, preprocess: Any) -> Callable[[torch.Tensor], torch.Tensor]:
    if callable(preprocess):
        return preprocess
    if preprocess is None:
        return lambda x: x
    if preprocess != "auto":
        raise invalid_value(
            "extract_features: `preprocess` must be 'auto', None or a callable.",
            received={"preprocess": preprocess},
        )
    mode = preprocessing_mode(base)
    return (lambda x: x) if mode is None else (lambda x: preprocess_input(x, mode=mode))


def predict_with_labels(
    model: nn.Module, data: Any, batch_size: int = 32, *, verbose: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """``(model outputs, labels)`` over ``data`` (kinds as :func:`extract_features`), in order."""
    base = find_base(model)
    size = None if base is None else base.sample_shape[:2]
    batches, total = iter_batches(data, batch_size, size)
    with inference_layout(model):
        return collect(
            model, batches, total, device=model_device(model), verbose=verbose, label="predicting"
        )
