"""The CAM methods cnnkit computes itself: Score-CAM (batched), Eigen-CAM, Ablation-CAM.

Each returns the raw map at the layer's resolution ``(N, h, w)`` (after the
method's ReLU, before normalisation), the class scores ``(N, K)`` and the target
classes ``(N,)``. The layer's output ``A`` is read channels-first ``(N, C, h, w)``.

* **Score-CAM** (Wang et al. 2020), as torchcam defines it: each channel,
  min-max normalised and upsampled to the input, masks the image; the weight of
  channel ``k`` is the softmax over ``k`` of ``score(mask_k * x) - score(x)``.
  Unlike torchcam's loop, the masked images of all images and channels go
  through the model in shared chunks of ``batch_size``, built directly in the
  model's layout, and a channel that is constant (an all-zero mask, common
  after ReLU) is not run at all: its masked image is the zero image, scored
  once for the whole batch.
* **Eigen-CAM** (Muhammad & Yeasin 2020): the projection of each position's
  activation vector onto the first right-singular vector of the ``(h*w, C)``
  activation matrix, without centring as in the paper; the vector comes from
  ``eigh`` of the smaller Gram matrix (``C x C``, or ``h*w x h*w`` mapped back
  through ``M^T``), which is cheaper than an SVD of ``M``; the singular vector's
  sign is chosen so that its entries sum to >= 0 (for ReLU activations the
  projection is then >= 0). Class-agnostic: ``target`` only picks the reported class.
* **Ablation-CAM** (Desai & Ramaswamy 2020): weight ``w_k = (y - y_k) / y`` with
  ``y`` the target score and ``y_k`` the score when channel ``k`` of the layer is
  set to zero (a forward hook on the layer replaces its output for a batch of
  copies, one channel zeroed per copy). An all-zero channel has ``w_k = 0``
  without a forward pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cnnkit.explain._adapter import ModelView, to_channels_first
from cnnkit.explain._targets import resolve_targets

__all__ = ["CamJob", "ablation_cam", "capture", "eigen_cam", "score_cam"]

#: torchcam's normalisation guard, kept so the masks match it bit for bit.
_EPS = 1e-8


@contextmanager
def capture(module: nn.Module, channels_last: bool) -> Iterator[list[torch.Tensor]]:
    """Collect ``module``'s outputs, channels-first, while inside."""
    seen: list[torch.Tensor] = []

    def keep(_m: nn.Module, _i: Any, output: torch.Tensor) -> None:
        seen.append(to_channels_first(output, channels_last).detach())

    handle = module.register_forward_hook(keep)
    try:
        yield seen
    finally:
        handle.remove()


@dataclass(frozen=True)
class CamJob:
    """One chunk of work for a CAM method.

    Attributes:
        view: The probed model.
        x: Images in the model's layout, float32.
        module: The layer the map is read from.
        target: Checked class indices ``(N,)``, or None for the predicted classes.
        batch_size: Masked or ablated copies per forward pass.
    """

    view: ModelView
    x: torch.Tensor
    module: nn.Module
    target: torch.Tensor | None
    batch_size: int


def _forward(job: CamJob) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Activations ``(N, C, h, w)``, scores and targets from one inference pass."""
    with capture(job.module, job.view.layout_of(job.module)) as seen:
        scores = job.view.scores(job.x)
    return seen[0], scores, resolve_targets(job.target, scores)


def _picked(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return scores.gather(1, targets[:, None])[:, 0]


def _weighted_sum(weights: torch.Tensor, activations: torch.Tensor) -> torch.Tensor:
    return F.relu(torch.nansum(weights[..., None, None] * activations, dim=1))


@torch.inference_mode()
def score_cam(job: CamJob) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    view, x = job.view, job.x
    acts, scores, targets = _forward(job)
    n, c = acts.shape[:2]
    height, width = x.shape[1:3] if view.channels_last else x.shape[2:4]
    low = acts.amin(dim=(2, 3), keepdim=True)
    shifted = acts - low
    masks = (shifted / (shifted.amax(dim=(2, 3), keepdim=True) + _EPS)).flatten(0, 1)
    base = _picked(scores, targets)
    image_of = torch.arange(n, device=x.device).repeat_interleave(c)
    gain = torch.empty(n * c, device=x.device, dtype=scores.dtype)
    live = masks.flatten(1).amax(dim=1) > 0
    dead = (~live).nonzero()[:, 0]
    if dead.numel():
        zero_scores = view.scores(torch.zeros_like(x[:1]))[0]
        gain[dead] = zero_scores[targets[image_of[dead]]] - base[image_of[dead]]
    live_idx = live.nonzero()[:, 0]
    for chunk in live_idx.split(job.batch_size):
        images = image_of[chunk]
        up = F.interpolate(
            masks[chunk, None], (height, width), mode="bilinear", align_corners=False
        )
        masked = x[images] * (up.permute(0, 2, 3, 1) if view.channels_last else up)
        gain[chunk] = _picked(view.scores(masked), targets[images]) - base[images]
    weights = torch.softmax(gain.view(n, c), dim=1)
    return _weighted_sum(weights, acts), scores, targets


@torch.inference_mode()
def eigen_cam(job: CamJob) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    acts, scores, targets = _forward(job)
    n, c, h, w = acts.shape
    matrix = acts.flatten(2).transpose(1, 2).double()  # M: (N, h*w, C)
    if c <= h * w:  # v: the top eigenvector of the C x C Gram matrix M^T M
        first = torch.linalg.eigh(matrix.transpose(1, 2) @ matrix).eigenvectors[..., -1]
    else:  # from the top eigenvector u of M M^T (h*w x h*w): v = M^T u / |M^T u|
        u = torch.linalg.eigh(matrix @ matrix.transpose(1, 2)).eigenvectors[..., -1]
        first = (matrix.transpose(1, 2) @ u[..., None])[..., 0]
        first = first / first.norm(dim=1, keepdim=True).clamp_min(torch.finfo(first.dtype).tiny)
    sign = torch.where(first.sum(dim=1) < 0, -1.0, 1.0).to(first.dtype)
    projection = (matrix @ (first * sign[:, None])[..., None])[..., 0]
    return F.relu(projection).view(n, h, w).to(acts.dtype), scores, targets


@torch.inference_mode()
def ablation_cam(job: CamJob) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    view, x, module = job.view, job.x, job.module
    acts, scores, targets = _forward(job)
    n, c = acts.shape[:2]
    base = _picked(scores, targets)
    image_of = torch.arange(n, device=x.device).repeat_interleave(c)
    channel_of = torch.arange(c, device=x.device).repeat(n)
    drop = torch.zeros(n * c, device=x.device, dtype=scores.dtype)
    active = (acts.flatten(2).abs().amax(dim=2) > 0).flatten().nonzero()[:, 0]
    channels_last = view.layout_of(module)
    for chunk in active.split(job.batch_size):
        rows = torch.arange(len(chunk), device=x.device)
        zeroed = channel_of[chunk]

        def ablate(
            _m: nn.Module, _i: Any, output: torch.Tensor, rows=rows, zeroed=zeroed
        ) -> torch.Tensor:
            output = output.clone()
            to_channels_first(output, channels_last)[rows, zeroed] = 0
            return output

        images = image_of[chunk]
        handle = module.register_forward_hook(ablate)
        try:
            ablated = _picked(view.scores(x[images]), targets[images])
        finally:
            handle.remove()
        drop[chunk] = base[images] - ablated
    weights = (drop.view(n, c) / base[:, None]).nan_to_num(0.0, 0.0, 0.0)
    return _weighted_sum(weights, acts), scores, targets
