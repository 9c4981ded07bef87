"""Sanity checks for explanations (Adebayo et al. 2018, "Sanity Checks for Saliency Maps").

A map that explains the *model* must change when the model's weights do. The
cascading model-parameter randomisation test re-initialises the model's
parametrised layers one at a time from the top (output) down, recomputing the
maps after each step, and measures how similar each map stays to the trained
model's map by Spearman rank correlation. The data-randomisation test compares
a model trained on the real labels with one trained on shuffled labels in the
same way (the caller trains both; :func:`rank_correlation` compares the maps).

Re-initialisation follows cnnkit's Keras defaults: kernels (parameters of two
or more dimensions) are drawn Glorot-uniform, biases are zeroed and other
one-dimensional parameters (normalisation scales) set to one; buffers such as
running statistics are kept. The target class stays the trained model's.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnkit._errors import invalid_value, unknown_name
from cnnkit.explain._adapter import explaining, prepare
from cnnkit.explain._attribute import ATTRIBUTION_METHODS, attribute, heatmap
from cnnkit.explain._cam import CAM_METHODS, cam_result
from cnnkit.explain._layers import find_module, layer_name

__all__ = ["cascading_randomization", "randomized_copy", "rank_correlation"]


def _average_ranks(values: torch.Tensor) -> torch.Tensor:
    """Per-row ranks ``(N, M)`` from 1, ties sharing their average rank (as scipy's rankdata)."""
    ordered = values.sort(dim=1).values
    first = torch.searchsorted(ordered, values, right=False)
    after = torch.searchsorted(ordered, values, right=True)
    return (first + after + 1).double() / 2


def rank_correlation(maps_a: Any, maps_b: Any) -> np.ndarray:
    """Spearman rank correlation of each pair of maps.

    Args:
        maps_a: ``(N, H, W)`` maps (any real values, e.g. from :func:`cam`).
        maps_b: ``(N, H, W)`` maps of the same shape.

    Returns:
        float64 ``(N,)`` in [-1, 1]; NaN for a pair where either map is constant
        (its ranks have no spread, as in ``scipy.stats.spearmanr``).

    Raises:
        ValueError: the shapes differ or the maps are not at least 2-D.
    """
    a = torch.as_tensor(np.asarray(maps_a, dtype=np.float64))
    b = torch.as_tensor(np.asarray(maps_b, dtype=np.float64))
    if a.shape != b.shape or a.ndim < 2:
        raise invalid_value(
            "rank_correlation: `maps_a` and `maps_b` must be batches of maps of one shape.",
            expected="two arrays of shape (N, H, W)",
            received={"maps_a.shape": tuple(a.shape), "maps_b.shape": tuple(b.shape)},
        )
    ra, rb = (_average_ranks(m.flatten(1)) for m in (a, b))
    ra, rb = ra - ra.mean(dim=1, keepdim=True), rb - rb.mean(dim=1, keepdim=True)
    denominator = (ra.square().sum(1) * rb.square().sum(1)).sqrt()
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((ra * rb).sum(1) / denominator).numpy()


def _resolve(model: nn.Module, layer: Any, who: str) -> str:
    """The module path of ``layer`` (a Keras name, a module path or the module) in ``model``."""
    return find_module(model, layer, who, argument="layers")[0]


def _reinitialise(module: nn.Module, generator: torch.Generator) -> None:
    with torch.no_grad():
        for name, param in module.named_parameters():
            if param.ndim >= 2:
                fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(param)
                bound = float(np.sqrt(6.0 / (fan_in + fan_out)))
                drawn = torch.rand(param.shape, generator=generator, dtype=torch.float64)
                param.copy_((drawn * 2 - 1) * bound)
            elif name.split(".")[-1] == "bias":
                param.zero_()
            else:
                param.fill_(1.0)


def randomized_copy(model: nn.Module, layers: Sequence[Any], *, seed: int = 0) -> nn.Module:
    """A deep copy of ``model`` with the weights of ``layers`` re-initialised.

    Args:
        model: Any ``torch.nn.Module`` (cnnkit models included); it is not changed.
        layers: Layers to re-initialise, each a Keras name, a module path or a
            module of ``model``.
        seed: Seed of the draws. Default 0.

    Returns:
        The copy, in ``model``'s training mode.

    Raises:
        ValueError: an unknown layer name (with close matches) or a module not in the model.
        TypeError: a layer that is neither a string nor a module.
    """
    who = "randomized_copy"
    paths = [_resolve(model, layer, who) for layer in layers]
    twin = copy.deepcopy(model)
    generator = torch.Generator().manual_seed(seed)
    for path in paths:
        _reinitialise(twin.get_submodule(path), generator)
    return twin


def cascading_randomization(
    model: nn.Module,
    images: Any,
    layers: Sequence[Any],
    *,
    method: str = "gradcam",
    target: Any = None,
    layer: Any = None,
    seed: int = 0,
    **options: Any,
) -> list[tuple[str, np.ndarray]]:
    """Rank correlation of each map with the trained model's, as layers are randomised top-down.

    Args:
        model: The trained model; it is not changed.
        images: A batch as for :func:`cam`.
        layers: Parametrised layers from the output down, e.g. ``["dense", "conv2d_1",
            "conv2d"]``; step ``i`` re-initialises ``layers[: i + 1]``.
        method: A CAM method (:data:`CAM_METHODS`) or a pixel attribution
            (:data:`ATTRIBUTION_METHODS`, shown through :func:`heatmap`). Default gradcam.
        target: As :func:`cam`; None explains the trained model's predicted classes
            in every step.
        layer: CAM layer, as :func:`cam` (ignored by pixel attributions).
        seed: Seed of the re-initialisation. Default 0.
        **options: Passed on to :func:`cam_result` or :func:`attribute`.

    Returns:
        One ``(layer name, (N,) correlations)`` per step, in the order of ``layers``.

    Raises:
        ValueError: an unknown method or layer.
    """
    if method not in CAM_METHODS and method not in ATTRIBUTION_METHODS:
        raise unknown_name(
            "explanation method", method, [*CAM_METHODS, *ATTRIBUTION_METHODS], argument="method"
        )
    paths = [_resolve(model, item, "cascading_randomization") for item in layers]
    if method in CAM_METHODS:
        first = cam_result(model, images, target, method, layer, **options)
        target, reference = first.targets, first.maps
    else:
        if target is None:
            view, x = prepare(model, images, options.get("data_format"), "cascading_randomization")
            with explaining(view.model), torch.inference_mode():
                target = view.scores(x).argmax(dim=1).cpu().numpy()
        reference = heatmap(attribute(model, images, target, method, **options))
    steps = []
    for i, path in enumerate(paths):
        twin = randomized_copy(model, paths[: i + 1], seed=seed)
        if method in CAM_METHODS:
            # The layer object belongs to the original model; the copy is addressed by path.
            chosen = layer if not isinstance(layer, nn.Module) else _resolve(model, layer, "cam")
            maps = cam_result(twin, images, target, method, chosen, **options).maps
        else:
            maps = heatmap(attribute(twin, images, target, method, **options))
        name = layer_name(model, path, model.get_submodule(path))
        steps.append((name, rank_correlation(reference, maps)))
    return steps
