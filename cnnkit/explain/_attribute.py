"""Pixel attributions on captum: saliency, SmoothGrad, Integrated Gradients, occlusion.

captum does the attribution; cnnkit supplies the model adapter (eval mode,
logits instead of a final softmax, flags restored, no ``.grad`` left), the
targets, defaults in pixel units, and the input layout: captum is
layout-agnostic, so attributions come back in the images' own layout, and an
occlusion window covers every channel of an ``(h, w)`` patch in either layout.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

from cnnkit._errors import invalid_value, unknown_name
from cnnkit.explain._adapter import explaining, prepare
from cnnkit.explain._targets import check_targets, resolve_targets
from cnnkit.layers._args import positive_int

__all__ = ["ATTRIBUTION_METHODS", "attribute", "heatmap"]

_EXTRA_HINT = "pip install 'cnnkit[explain]'"

#: Method name -> the captum class that computes it.
ATTRIBUTION_METHODS: dict[str, str] = {
    "saliency": "captum.attr.Saliency (|gradient|)",
    "smoothgrad": "captum.attr.NoiseTunnel over Saliency",
    "integrated_gradients": "captum.attr.IntegratedGradients",
    "occlusion": "captum.attr.Occlusion",
}


def _baseline(baseline: Any, x: torch.Tensor, who: str) -> torch.Tensor:
    if baseline is None:
        return torch.zeros_like(x)
    if isinstance(baseline, (int, float)) and not isinstance(baseline, bool):
        return torch.full_like(x, float(baseline))
    b = torch.as_tensor(np.asarray(baseline) if not torch.is_tensor(baseline) else baseline)
    b = b.to(x.device, torch.float32)
    if b.ndim == x.ndim - 1:
        b = b[None]
    if b.ndim != x.ndim or b.shape[1:] != x.shape[1:] or b.shape[0] not in (1, x.shape[0]):
        raise invalid_value(
            f"{who}: `baseline` must be a number, one image, or one image per input image.",
            expected=f"shape {tuple(x.shape[1:])} or {tuple(x.shape)}",
            received={"baseline.shape": tuple(b.shape)},
        )
    return b.expand_as(x).contiguous()


def attribute(
    model: Any,
    images: Any,
    target: Any = None,
    method: str = "saliency",
    *,
    baseline: Any = None,
    steps: int = 50,
    samples: int = 25,
    noise: float = 0.15,
    window: int = 8,
    stride: int = 4,
    batch_size: int = 64,
    data_format: str | None = None,
) -> np.ndarray:
    """Per-pixel attributions of each image's target class score (its logit).

    Args:
        model, images, target, data_format: As :func:`cam`.
        method: ``"saliency"`` (|d score / d pixel|), ``"smoothgrad"`` (saliency
            averaged over noisy copies), ``"integrated_gradients"`` or ``"occlusion"``
            (score drop when a ``window`` square is set to the baseline). Default saliency.
        baseline: Integrated Gradients' reference and occlusion's fill value: None
            (zeros, i.e. a black image in raw pixels), a number, one image, or one
            per image, in the images' layout.
        steps: Integrated Gradients' steps (Gauss-Legendre). Default 50.
        samples: SmoothGrad's noisy copies. Default 25.
        noise: SmoothGrad's noise std as a fraction of the batch's value range
            (Smilkov et al. suggest 0.1-0.2). Default 0.15.
        window: Occlusion square side in pixels. Default 8.
        stride: Occlusion step in pixels. Default 4.
        batch_size: Rows per forward pass (Integrated Gradients' steps, SmoothGrad's
            copies, occluded images). Default 64.

    Returns:
        float32 attributions in the images' layout and shape, e.g. ``(N, H, W, C)``
        for a cnnkit model. Integrated Gradients' sum over a whole image is
        ``score(image) - score(baseline)`` up to the integration error. Turn them
        into ``(N, H, W)`` maps in [0, 1] with :func:`heatmap`.

    Raises:
        ValueError: unknown method, bad numbers, a baseline of the wrong shape,
            and everything :func:`cam` checks about model, images and target.
    """
    who = "attribute"
    if method not in ATTRIBUTION_METHODS:
        raise unknown_name("attribution method", method, ATTRIBUTION_METHODS, argument="method")
    for name, value in (
        ("steps", steps),
        ("samples", samples),
        ("window", window),
        ("stride", stride),
        ("batch_size", batch_size),
    ):
        positive_int(value, name, who)
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or noise < 0:
        raise invalid_value(f"{who}: `noise` must be a number >= 0.", received={"noise": noise})
    try:
        from captum import attr
    except ImportError as err:
        raise ImportError(f"{who}: {method} needs captum. {_EXTRA_HINT}") from err
    view, x = prepare(model, images, data_format, who)
    fixed = check_targets(target, len(x), view.classes, who)
    base = _baseline(baseline, x, who)
    with explaining(view.model), warnings.catch_warnings():
        # captum notes that it switched requires_grad on for our private copy of the images.
        warnings.filterwarnings("ignore", message=".*did not already require gradients")
        if fixed is None:
            with torch.no_grad():
                fixed = resolve_targets(None, view.scores(x))
        targets = fixed.to(x.device)
        if method == "saliency":
            out = attr.Saliency(view.scores).attribute(x, target=targets, abs=True)
        elif method == "smoothgrad":
            out = attr.NoiseTunnel(attr.Saliency(view.scores)).attribute(
                x,
                nt_type="smoothgrad",
                nt_samples=samples,
                nt_samples_batch_size=max(1, batch_size // len(x)),
                stdevs=float(noise) * float(x.max() - x.min()),
                target=targets,
                abs=True,
            )
        elif method == "integrated_gradients":
            out = attr.IntegratedGradients(view.scores).attribute(
                x, baselines=base, target=targets, n_steps=steps, internal_batch_size=batch_size
            )
        else:
            channels = x.shape[-1] if view.channels_last else x.shape[1]
            shape, step = ((window, window, channels), (stride, stride, channels))
            if not view.channels_last:
                shape, step = shape[::-1], step[::-1]
            out = attr.Occlusion(view.scores).attribute(
                x,
                sliding_window_shapes=shape,
                strides=step,
                baselines=base,
                target=targets,
                perturbations_per_eval=max(1, batch_size // len(x)),
            )
    return out.detach().float().cpu().numpy()


def heatmap(
    attributions: Any, *, data_format: str = "channels_last", percentile: float = 99.0
) -> np.ndarray:
    """Attributions as ``(N, H, W)`` maps in [0, 1] for overlays.

    The magnitude is summed over channels and divided by each image's
    ``percentile`` (so a few extreme pixels do not wash the rest out), then clipped.

    Args:
        attributions: ``(N, H, W, C)`` (or ``(N, C, H, W)`` with
            ``data_format="channels_first"``), e.g. from :func:`attribute`.
        data_format: The layout of ``attributions``. Default channels-last.
        percentile: The value mapped to 1, per image. Default 99.

    Raises:
        ValueError: not 4-D, an unknown data_format, or a percentile outside (0, 100].
    """
    who = "heatmap"
    a = np.asarray(attributions, dtype=np.float64)
    if a.ndim != 4:
        raise invalid_value(
            f"{who}: `attributions` must be 4-D (N, H, W, C).", received={"shape": a.shape}
        )
    if data_format not in ("channels_last", "channels_first"):
        raise unknown_name(
            "data_format", data_format, ("channels_last", "channels_first"), argument="data_format"
        )
    if isinstance(percentile, bool) or not 0 < percentile <= 100:
        raise invalid_value(
            f"{who}: `percentile` must be in (0, 100].", received={"percentile": percentile}
        )
    magnitude = np.abs(a).sum(axis=-1 if data_format == "channels_last" else 1)
    top = np.percentile(magnitude.reshape(len(a), -1), percentile, axis=1)[:, None, None]
    scaled = np.divide(magnitude, top, out=np.zeros_like(magnitude), where=top > 0)
    return np.clip(scaled, 0.0, 1.0).astype(np.float32)
