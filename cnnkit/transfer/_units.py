"""A model as an ordered chain of *units*, and ``freeze``/``unfreeze`` over that chain.

A unit is one top-level block of the network, in the order the forward pass
runs it: for a zoo model the children of its convolutional body, looking
through ``Stack``/``nn.Sequential`` containers (EfficientNet-Lite0:
``conv_stem, bn0, stem_act, blocks.0 … blocks.15, conv_head, bn1,
head_act``); for a functional or ``Sequential`` model (what
:func:`~cnnkit.transfer.replace_head` returns) its layers, with a nested zoo
model expanded into its body's units. Stages come from the zoo model's
``feature_info``: stage ``"stage3"`` ends at the last unit of its module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn

from cnnkit._errors import invalid_type, invalid_value, unknown_name
from cnnkit.applications import ZooModel
from cnnkit.layers import BatchNormalization, Layer

__all__ = ["Unit", "body_units", "find_base", "freeze", "model_units", "resolve_unit", "unfreeze"]


@dataclass(frozen=True)
class Unit:
    """One block of the chain.

    Attributes:
        path: Dotted attribute path (``"blocks.3"``) or the layer name for
            layers of a functional/Sequential model.
        module: The module itself.
        training: Forced training flag when the model calls it with one
            (``base(x, training=False)``), else None (follows the model).
        in_base: Whether it belongs to the pretrained zoo body.
    """

    path: str
    module: nn.Module
    training: bool | None = None
    in_base: bool = False


def _head_modules(model: ZooModel) -> set[int]:
    """``id``s of the zoo model's top: classifier, pre-logits layers, pooling, activation."""
    ids = {id(model.classifier_layer), id(model.global_pool), id(model.output_activation)}
    for path in model.pre_logits_path:
        if model.include_top:
            ids.add(id(model.get_submodule(path)))
    return ids


def body_units(model: ZooModel, training: bool | None = None) -> list[Unit]:
    """The convolutional body of a zoo model as units (see the module docstring)."""
    head = _head_modules(model)
    units: list[Unit] = []

    def visit(module: nn.Module, prefix: str) -> None:
        for name, child in module.named_children():
            if child is None or id(child) in head:
                continue
            path = f"{prefix}{name}"
            if type(child) in (nn.Sequential,) or type(child).__name__ == "Stack":
                visit(child, path + ".")
            else:
                units.append(Unit(path, child, training, in_base=True))

    visit(model, "")
    return units


def _graph_nodes(model: nn.Module) -> list[Any] | None:
    graph = getattr(model, "_graph", None)
    return None if graph is None else list(graph.nodes)


def model_units(model: nn.Module) -> list[Unit]:
    """Every unit of ``model`` in forward order (zoo model, functional or Sequential).

    Raises:
        TypeError: ``model`` is not a cnnkit model.
    """
    if isinstance(model, ZooModel):
        return body_units(model)
    nodes = _graph_nodes(model)
    if nodes is not None:
        calls = [(n.layer, n.call_kwargs.get("training")) for n in nodes]
    elif isinstance(getattr(model, "layers", None), list) and isinstance(model, Layer):
        calls = [(layer, None) for layer in model.layers]
    else:
        raise invalid_type(
            "transfer: `model` must be a cnnkit zoo model, or a functional/Sequential model "
            "(for example the one cnnkit.transfer.replace_head returns).",
            received={"model": type(model).__name__},
        )
    units: list[Unit] = []
    for layer, training in calls:
        if type(layer).__name__ == "InputLayer":
            continue
        if isinstance(layer, ZooModel):
            units.extend(body_units(layer, training))
        else:
            units.append(Unit(getattr(layer, "name", type(layer).__name__), layer, training))
    return units


def find_base(model: nn.Module) -> ZooModel | None:
    """The zoo model inside ``model`` (or ``model`` itself), None when there is none."""
    if isinstance(model, ZooModel):
        return model
    for layer in getattr(model, "layers", []) or []:
        if isinstance(layer, ZooModel):
            return layer
    return None


def _stage_ends(model: nn.Module, units: list[Unit]) -> dict[str, int]:
    base = find_base(model)
    if base is None:
        return {}
    paths = [u.path for u in units]
    ends: dict[str, int] = {}
    for row in base.feature_info:
        module = row["module"]
        hits = [i for i, p in enumerate(paths) if p == module or p.startswith(module + ".")]
        if hits:
            ends[row["stage"]] = hits[-1]
    return ends


def resolve_unit(model: nn.Module, where: Any, argument: str, *, stage_end: bool) -> int:
    """Index in :func:`model_units` of a layer name, unit path, stage name or integer index.

    A stage resolves to its last unit when ``stage_end`` is True (``freeze(up_to=stage)``
    freezes the whole stage) and to its first unit otherwise (``unfreeze(from_=stage)``).
    A name of a layer nested inside a unit resolves to that unit.
    """
    units = model_units(model)
    if isinstance(where, bool) or not isinstance(where, (int, str)):
        raise invalid_type(
            f"transfer: `{argument}` must be a layer name, a stage name or an integer index.",
            received={argument: where},
        )
    if isinstance(where, int):
        if not -len(units) <= where < len(units):
            raise invalid_value(
                f"transfer: `{argument}` is out of range for a model of {len(units)} units.",
                expected=f"an integer in [{-len(units)}, {len(units) - 1}]",
                received={argument: where},
            )
        return where % len(units)
    ends = _stage_ends(model, units)
    if where in ends:
        if stage_end:
            return ends[where]
        previous = [end for end in ends.values() if end < ends[where]]
        return max(previous) + 1 if previous else 0
    for i, unit in enumerate(units):
        if unit.path == where or getattr(unit.module, "name", None) == where:
            return i
    for i, unit in enumerate(units):
        if any(getattr(m, "name", None) == where for m in unit.module.modules()):
            return i
    names = list(ends) + [u.path for u in units]
    raise unknown_name("layer or stage", where, names, argument=argument)


def set_trainable(module: nn.Module, trainable: bool, *, keep_batchnorm_frozen: bool) -> None:
    """Switch a unit's weights; frozen cnnkit BatchNormalization runs in inference mode."""
    layers = [m for m in module.modules() if isinstance(m, Layer)]
    for layer in layers:
        frozen_bn = keep_batchnorm_frozen and isinstance(layer, BatchNormalization)
        layer._trainable = trainable and not frozen_bn  # children are set one by one below
    for m in module.modules():
        flag = getattr(m, "_trainable", trainable) if isinstance(m, Layer) else trainable
        for p in m.parameters(recurse=False):
            p.requires_grad_(flag)


def freeze(model: nn.Module, up_to: Any = None) -> list[str]:
    """Freeze the network from its first unit up to and including ``up_to``.

    Frozen units keep their weights, and their BatchNormalization layers use
    the moving statistics even inside ``fit`` (the Keras pitfall #9214: a
    frozen BN that kept updating its statistics would ruin the pretrained
    features). Recompile (``model.compile``) after changing what is frozen.

    Args:
        model: A zoo model, or a model containing one (see :func:`replace_head`).
        up_to: Layer name, unit path (``"blocks.15"``), stage name from
            ``feature_info`` (``"stage6"``) or integer unit index. Default None:
            the whole pretrained body (every unit of the zoo model).

    Returns:
        The paths of the units now frozen.
    """
    units = model_units(model)
    if up_to is None:
        last = max((i for i, u in enumerate(units) if u.in_base), default=len(units) - 1)
    else:
        last = resolve_unit(model, up_to, "up_to", stage_end=True)
    for unit in units[: last + 1]:
        set_trainable(unit.module, False, keep_batchnorm_frozen=True)
    return [u.path for u in units[: last + 1]]


def unfreeze(
    model: nn.Module, from_: Any = None, *, keep_batchnorm_frozen: bool = True
) -> list[str]:
    """Make the network trainable from ``from_`` to the end (the head included).

    Args:
        model: As for :func:`freeze`.
        from_: Layer name, unit path, stage name or index; the stage's first unit
            when a stage is named. Default None: every unit.
        keep_batchnorm_frozen: Leave BatchNormalization layers frozen, in inference
            mode (Keras' fine-tuning advice for small datasets). Default True.

    Returns:
        The paths of the units now trainable.
    """
    units = model_units(model)
    first = 0 if from_ is None else resolve_unit(model, from_, "from_", stage_end=False)
    for unit in units[first:]:
        set_trainable(unit.module, True, keep_batchnorm_frozen=keep_batchnorm_frozen)
    return [u.path for u in units[first:]]
