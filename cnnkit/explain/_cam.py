"""Class activation maps: ``cam(model, images, target=None, method="gradcam", layer=None)``.

Grad-CAM, Grad-CAM++, XGrad-CAM and LayerCAM are torchcam's extractors run
through cnnkit's adapter (:mod:`cnnkit.explain._adapter`): the model is wrapped
in a module that takes torchcam's channels-first input and returns logits, and
a channels-last layer's output and gradient reach torchcam through its
``reshape_transform``. Score-CAM, Eigen-CAM and Ablation-CAM are computed by
cnnkit (:mod:`cnnkit.explain._own_cams`). Every map is then upsampled to the
input resolution (bilinear, ``align_corners=False``) and min-max scaled per
image into [0, 1]; an all-zero map stays zero.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnkit._errors import unknown_name
from cnnkit.explain._adapter import ModelView, explaining, prepare, to_channels_first
from cnnkit.explain._layers import resolve_layer
from cnnkit.explain._own_cams import CamJob, ablation_cam, eigen_cam, score_cam
from cnnkit.explain._targets import check_targets, class_probabilities, resolve_targets
from cnnkit.layers._args import positive_int

__all__ = ["CAM_METHODS", "CamResult", "cam", "cam_result", "normalize_maps"]

_EXTRA_HINT = "pip install 'cnnkit[explain]'"


@dataclass(frozen=True)
class CamResult:
    """Class activation maps with what they explain.

    Attributes:
        maps: float32 ``(N, H, W)`` in [0, 1] at the input resolution.
        layer: Name of the layer the maps were read from (see :func:`find_cam_layer`).
        method: The method's name, e.g. ``"gradcam"``.
        targets: int64 ``(N,)``: the class each map explains.
        probabilities: float32 ``(N,)``: the model's probability of that class.
        predicted: int64 ``(N,)``: the model's predicted class.
        classes: Number of classes (2 for a one-unit sigmoid model).
    """

    maps: np.ndarray
    layer: str
    method: str
    targets: np.ndarray
    probabilities: np.ndarray
    predicted: np.ndarray
    classes: int


class _ChannelsFirstScores(nn.Module):
    """The model as torchcam wants it: channels-first input in, logits out."""

    def __init__(self, view: ModelView):
        super().__init__()
        self.model = view.model
        self._view = view

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._view.scores(x.permute(0, 2, 3, 1) if self._view.channels_last else x)


def _torchcam(class_name: str) -> Callable[..., Any]:
    """A method running torchcam's extractor ``class_name`` over one chunk of images."""

    def run(job: CamJob) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        view, module = job.view, job.module
        try:
            from torchcam import methods
        except ImportError as err:
            raise ImportError(f"cam: {class_name} needs torchcam. {_EXTRA_HINT}") from err
        wrapped = _ChannelsFirstScores(view)
        reshape = (lambda t: t.permute(0, 3, 1, 2)) if view.layout_of(module) else None
        # A frozen model's layer outputs need a graph to differentiate: the input gives it one.
        leaf = to_channels_first(job.x, view.channels_last).detach().requires_grad_(True)
        with getattr(methods, class_name)(wrapped, module, reshape_transform=reshape) as extractor:
            scores = wrapped(leaf)
            targets = resolve_targets(job.target, scores)
            maps = extractor(class_idx=targets.tolist(), scores=scores, normalized=False)[0]
        return maps.detach(), scores.detach(), targets

    return run


#: Method name -> (where it comes from, function). Listed in the order shown in errors.
CAM_METHODS: dict[str, tuple[str, Callable[..., Any]]] = {
    "gradcam": ("torchcam.methods.GradCAM", _torchcam("GradCAM")),
    "gradcam++": ("torchcam.methods.GradCAMpp", _torchcam("GradCAMpp")),
    "xgradcam": ("torchcam.methods.XGradCAM", _torchcam("XGradCAM")),
    "layercam": ("torchcam.methods.LayerCAM", _torchcam("LayerCAM")),
    "scorecam": ("cnnkit (batched; torchcam's definition)", score_cam),
    "eigencam": ("cnnkit", eigen_cam),
    "ablationcam": ("cnnkit", ablation_cam),
}


def normalize_maps(raw: torch.Tensor, size: tuple[int, int]) -> np.ndarray:
    """Upsample ``(N, h, w)`` maps to ``size`` (bilinear) and min-max scale each into [0, 1]."""
    up = F.interpolate(raw[:, None].float(), size, mode="bilinear", align_corners=False)[:, 0]
    low = up.amin(dim=(1, 2), keepdim=True)
    span = up.amax(dim=(1, 2), keepdim=True) - low
    scaled = torch.where(span > 0, (up - low) / span.clamp_min(torch.finfo(up.dtype).tiny), 0.0)
    return scaled.nan_to_num(0.0).clamp_(0.0, 1.0).cpu().numpy().astype(np.float32)


def cam_result(
    model: Any,
    images: Any,
    target: Any = None,
    method: str = "gradcam",
    layer: Any = None,
    *,
    batch_size: int = 64,
    data_format: str | None = None,
) -> CamResult:
    """Class activation maps with the layer used, the classes and their probabilities.

    Arguments as :func:`cam`.

    Returns:
        A :class:`CamResult`.
    """
    who = "cam"
    if method not in CAM_METHODS:
        raise unknown_name("CAM method", method, CAM_METHODS, argument="method")
    positive_int(batch_size, "batch_size", who)
    view, x = prepare(model, images, data_format, who)
    name, module = resolve_layer(view, layer, who)
    run = CAM_METHODS[method][1]
    size = tuple(x.shape[1:3] if view.channels_last else x.shape[2:4])
    fixed = check_targets(target, len(x), view.classes, who)
    pieces = []
    with explaining(view.model):
        for start in range(0, len(x), batch_size):
            part = slice(start, start + batch_size)
            chosen = None if fixed is None else fixed[part]
            pieces.append(run(CamJob(view, x[part], module, chosen, batch_size)))
    raw, scores, targets = (torch.cat(parts) for parts in zip(*pieces, strict=True))
    return CamResult(
        maps=normalize_maps(raw, size),
        layer=name,
        method=method,
        targets=targets.cpu().numpy(),
        probabilities=class_probabilities(scores, targets, view.binary),
        predicted=scores.argmax(dim=1).cpu().numpy(),
        classes=view.classes,
    )


def cam(
    model: Any,
    images: Any,
    target: Any = None,
    method: str = "gradcam",
    layer: Any = None,
    *,
    batch_size: int = 64,
    data_format: str | None = None,
) -> np.ndarray:
    """Class activation maps of a batch, at the input resolution.

    Args:
        model: A cnnkit model (Sequential, functional, subclassed, zoo) or any
            ``torch.nn.Module`` returning class scores ``(N, K)`` (logits or
            probabilities: a final softmax/sigmoid is read before it).
        images: NumPy array or tensor in the model's input layout: ``(N, H, W, C)``
            for cnnkit models, ``(N, C, H, W)`` for other modules; preprocessed as
            for ``predict`` (uint8 is passed on as 0..255).
        target: Class to explain: None (each image's predicted class), an int for
            every image, or a sequence of one int per image.
        method: One of ``"gradcam"``, ``"gradcam++"``, ``"xgradcam"``, ``"layercam"``,
            ``"scorecam"``, ``"eigencam"``, ``"ablationcam"``. Default ``"gradcam"``.
        layer: Layer to read the map from: None (the last layer with a spatial
            output; :func:`find_cam_layer` says which, and :func:`cam_result`
            returns it), a Keras layer name, a module path, or the layer object.
        batch_size: Images per forward pass, and masked images per pass for
            Score-CAM and Ablation-CAM. Default 64.
        data_format: ``"channels_last"`` or ``"channels_first"`` input; default
            channels-last for cnnkit models, channels-first for other modules.

    Returns:
        float32 ``(N, H, W)`` in [0, 1]. The model is left as it was: training
        flags restored, no hooks, no ``.grad``.

    Raises:
        ValueError: unknown method or layer (with close matches), a layer without a
            spatial output, a target out of range, images of the wrong rank or channels.
        TypeError: a model that is not a ``torch.nn.Module``, non-numeric images,
            a non-integer target.
    """
    return cam_result(
        model, images, target, method, layer, batch_size=batch_size, data_format=data_format
    ).maps
