"""torchvision (and efficientnet-pytorch) state dicts -> cnnkit zoo state dicts.

cnnkit's zoo mirrors torchvision's attribute paths, so most keys map as they
are. The per-family differences, all kept here:

- ``vgg``/``alexnet``: cnnkit's ``classifier`` starts with a ``Flatten`` layer
  (shown in ``summary`` like in Keras), which shifts the Dense indices by one;
  and cnnkit flattens channels-last ``(H, W, C)`` where torchvision flattens
  ``(C, H, W)``, so the first Dense layer's weight columns are permuted.
- ``efficientnet_lite``: the reference names every module with a leading
  underscore (``_blocks.0._depthwise_conv``); cnnkit drops the underscores.
- ``densenet``: torchvision's published file still uses the pre-2018 names
  (``denselayer1.norm.1``); torchvision renames them on load, and so do we.
- ``googlenet``: the published file carries the auxiliary classifiers
  (``aux1``/``aux2``); they are dropped when the model is built without them,
  else their ``fc1``/``fc2`` become ``dense1``/``dense2`` (permuting ``fc1``'s
  columns: it reads a 128×4×4 flatten).

Every model also drops its classifier tensors when built with
``include_top=False`` (Keras' "notop" behaviour). A state dict that is
already in cnnkit layout passes through unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import torch
from torch import nn

__all__ = ["permute_flatten_columns", "to_cnnkit_layout"]

State = dict[str, torch.Tensor]


def permute_flatten_columns(weight: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Reorder a Dense weight's input columns from (C, H, W) to (H, W, C) flattening.

    Args:
        weight: ``(out, C·H·W)`` torch Linear weight whose input was flattened NCHW.
        height: Feature-map height ``H`` before the flatten.
        width: Feature-map width ``W`` before the flatten.

    Returns:
        ``(out, H·W·C)`` weight for a channels-last flatten.
    """
    out, n_in = weight.shape
    channels = n_in // (height * width)
    return weight.reshape(out, channels, height, width).permute(0, 2, 3, 1).reshape(out, n_in)


def _shift_classifier(old_indices: tuple[int, ...]) -> Callable[[State, nn.Module], State]:
    """Converter for VGG/AlexNet: shift ``classifier.i`` by one and permute the first Dense."""

    def convert(state: State, model: nn.Module) -> State:
        first = f"classifier.{old_indices[0]}.weight"
        if first not in state:  # already cnnkit layout (or a head-less file)
            return state
        out: State = {}
        for key, tensor in state.items():
            match = re.fullmatch(r"classifier\.(\d+)\.(weight|bias)", key)
            if match is None:
                out[key] = tensor
                continue
            if key == first:
                height, width, _ = model.flatten_shape
                tensor = permute_flatten_columns(tensor, height, width)
            out[f"classifier.{int(match[1]) + 1}.{match[2]}"] = tensor
        return out

    return convert


def _strip_underscores(state: State, model: nn.Module) -> State:
    return {".".join(part.lstrip("_") for part in key.split(".")): t for key, t in state.items()}


_OLD_DENSENET = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$"
)


def _densenet(state: State, model: nn.Module) -> State:
    out: State = {}
    for key, tensor in state.items():
        match = _OLD_DENSENET.match(key)
        out[match[1] + match[2] if match else key] = tensor
    return out


def _googlenet(state: State, model: nn.Module) -> State:
    if not getattr(model, "aux_logits", False):
        return {k: t for k, t in state.items() if not k.startswith(("aux1.", "aux2."))}
    out: State = {}
    for key, tensor in state.items():
        match = re.fullmatch(r"(aux[12])\.fc([12])\.(weight|bias)", key)
        if match is not None:  # torchvision's fc1/fc2 -> cnnkit's dense1/dense2
            if match[2] == "1" and match[3] == "weight":
                tensor = permute_flatten_columns(tensor, *model.aux_grid)  # 128 × 4 × 4 at 224
            key = f"{match[1]}.dense{match[2]}.{match[3]}"
        out[key] = tensor
    return out


_CONVERTERS: dict[str, Callable[[State, nn.Module], State]] = {
    "vgg": _shift_classifier((0, 3, 6)),
    "alexnet": _shift_classifier((1, 4, 6)),
    "efficientnet_lite": _strip_underscores,
    "densenet": _densenet,
    "googlenet": _googlenet,
}


def to_cnnkit_layout(model: nn.Module, state: State) -> State:
    """Return ``state`` with ``model``'s keys and layouts.

    Args:
        model: A zoo model; its ``weight_family`` picks the converter, its
            ``include_top`` and ``head_prefixes`` decide whether classifier
            tensors are kept.
        state: A state dict in torchvision, efficientnet-pytorch or cnnkit layout.
    """
    if state and all(k.startswith("module.") for k in state):  # saved from DataParallel
        state = {k[len("module.") :]: t for k, t in state.items()}
    convert = _CONVERTERS.get(getattr(model, "weight_family", ""))
    if convert is not None:
        state = convert(state, model)
    if not getattr(model, "include_top", True):
        own = model.state_dict()
        prefixes = tuple(getattr(model, "head_prefixes", ()))
        state = {k: t for k, t in state.items() if k in own or not k.startswith(prefixes)}
    return state
