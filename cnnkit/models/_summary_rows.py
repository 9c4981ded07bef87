"""Collect the rows of ``model.summary()``: one per layer call, with shapes and costs.

* ``Sequential`` and functional models know every layer's input and output shape
  from building, so nothing is run.
* Subclassed models (the zoo) are traced: forward hooks on the leaf modules
  record shapes during ONE forward pass of a zero batch of size 1, in eval mode
  under ``torch.inference_mode`` (so BatchNorm statistics are untouched).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from cnnkit._errors import invalid_type, invalid_value, unknown_name
from cnnkit.layers import InputLayer, Layer, call_with_flags
from cnnkit.models._model_utils import eval_mode, model_device, unknown_input_shape_error
from cnnkit.models._summary import ModelSummary, SummaryRow, TrainingMemory

__all__ = ["OPTIMIZER_STATE", "summarize"]

#: Optimizer state kept per trainable weight, in multiples of the weights.
OPTIMIZER_STATE: dict[str, int] = {
    "sgd": 0, "momentum": 1, "nesterov": 1, "rmsprop": 1, "adagrad": 1,
    "adam": 2, "adamw": 2, "nadam": 2, "adamax": 2, "adadelta": 2,
}  # fmt: skip

# (module, input shape, output shape, connected_to, depth, shared)
Record = tuple[nn.Module, Any, Any, list[str], int, bool]

#: What ``summarize`` needs of a model (``cnnkit.models.Model``): ``name``, ``built``,
#: ``_known_input_shape()``, ``_require_built(action)``, ``compute_output_shape``,
#: ``call``, and ``_summary_records(depth)`` (records known from building, or None
#: for a subclassed model, which is traced), ``_summary_shows_connections``.
SummarizedModel = Any


def _is_model(module: nn.Module) -> bool:
    # A nested model gets its own rows; any cnnkit model has summary records (maybe None).
    return isinstance(module, Layer) and hasattr(module, "_summary_records")


def _numel(shape: Any) -> int:
    if isinstance(shape, list):
        return sum(_numel(s) for s in shape)
    if any(d is None for d in shape[1:]):
        return 0
    return math.prod(shape[1:])


def _fully_known(shape: Any) -> bool:
    if isinstance(shape, list):
        return all(_fully_known(s) for s in shape)
    return all(d is not None for d in shape[1:])


def _fixed_size_error(model: SummarizedModel, why: str, input_shape: Any) -> ValueError:
    return invalid_value(
        f"summary{why} of model '{model.name}' needs a fully known input shape.",
        received={"input_shape": input_shape},
        hint="Build the model for a fixed size, e.g. Input(shape=(224, 224, 3)) or "
        "input_shape=(224, 224, 3).",
    )


def _shape_of(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_shape_of(v) for v in value]
    return (None, *value.shape[1:])


def _torch_macs(module: nn.Module, out_shape: Any) -> int:
    """MACs of plain torch conv/linear modules (for PyTorch users' own modules)."""
    if isinstance(module, nn.modules.conv._ConvNd):
        per_output = module.in_channels // module.groups * math.prod(module.kernel_size)
        return _numel(out_shape) * per_output
    if isinstance(module, nn.Linear):
        return _numel(out_shape) * module.in_features
    return 0


def _trace(model: SummarizedModel, input_shape: Any, depth: int) -> list[Record]:
    if not _fully_known(input_shape):
        raise _fixed_size_error(model, " (a traced, subclassed model)", input_shape)
    leaves: list[tuple[str, nn.Module]] = []

    def visit(module: nn.Module, prefix: str) -> None:
        for name, child in module.named_children():
            path = f"{prefix}{name}"
            # Leaves: cnnkit layers (not models) and childless plain torch modules.
            if isinstance(child, Layer):
                is_leaf = not _is_model(child)
            else:
                is_leaf = not list(child.children())
            if is_leaf:
                leaves.append((path, child))
            else:
                visit(child, f"{path}.")

    visit(model, "")
    records: list[Record] = []
    seen: set[int] = set()

    def hook(module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
        shared = id(module) in seen
        seen.add(id(module))
        records.append((module, _shape_of(args[0]), _shape_of(output), [], depth, shared))

    handles = [m.register_forward_hook(hook) for _, m in leaves]
    device = model_device(model)
    shapes = input_shape if isinstance(input_shape, list) else [input_shape]
    zeros = [torch.zeros((1, *s[1:]), device=device) for s in shapes]
    try:
        with eval_mode(model), torch.inference_mode():
            call_with_flags(model, zeros if isinstance(input_shape, list) else zeros[0], False)
    finally:
        for handle in handles:
            handle.remove()
    return records


def _row(rec: Record, formulas: bool, names: dict[int, str]) -> SummaryRow:
    module, shape_in, shape_out, connected, depth, shared = rec
    params = 0 if shared else sum(p.numel() for p in module.parameters())
    trainable = 0 if shared else sum(p.numel() for p in module.parameters() if p.requires_grad)
    buffers = 0 if shared else sum(b.numel() for b in module.buffers() if b.is_floating_point())
    is_layer = isinstance(module, Layer)
    row = SummaryRow(
        name=names.get(id(module)) or getattr(module, "name", type(module).__name__),
        type=type(module).__name__ + (" (shared)" if shared else ""),
        output_shape=shape_out,
        params=params,
        trainable_params=trainable,
        buffers=buffers,
        connected_to=connected,
        depth=depth,
        macs=module.macs(shape_in, shape_out) if is_layer else _torch_macs(module, shape_out),
        activations=0 if isinstance(module, InputLayer) else _numel(shape_out),
    )
    if formulas and is_layer:
        row.param_formula = module.param_formula()
        row.output_size_formula = module.output_size_formula(shape_in)
    return row


def _rows(
    model: SummarizedModel, input_shape: Any, depth: int, formulas: bool, expand: bool
) -> list[Any]:
    records = model._summary_records(depth)  # Sequential, functional: known from building
    names: dict[int, str] = {}
    if records is None:  # subclassed: traced, and leaves are named by their module path
        records = _trace(model, input_shape, depth)
        names = {id(m): path for path, m in model.named_modules() if path}
    rows: list[SummaryRow] = []
    for rec in records:
        module, shape_in = rec[0], rec[1]
        row = _row(rec, formulas, names)
        rows.append(row)
        if _is_model(module) and not rec[5]:
            inner = _rows(module, shape_in, depth + 1, formulas, expand)
            counted = [r for r in inner if r.counted]
            row.macs = sum(r.macs for r in counted)
            row.activations = sum(r.activations for r in counted)
            if expand:
                row.counted = False
                rows.extend(inner)
    return rows


def _check_args(batch_size: Any, optimizer: Any, print_fn: Any) -> str:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise invalid_value(
            "summary: `batch_size` must be a positive integer.", received={"batch_size": batch_size}
        )
    if not isinstance(optimizer, str) or optimizer.lower() not in OPTIMIZER_STATE:
        raise unknown_name("optimizer", optimizer, OPTIMIZER_STATE, argument="optimizer")
    if print_fn is not None and not callable(print_fn):
        raise invalid_type(
            "summary: `print_fn` must be callable (it receives each line).",
            received={"print_fn": print_fn},
        )
    return optimizer.lower()


def summarize(
    model: SummarizedModel,
    formulas: bool = False,
    cost: bool = False,
    batch_size: int = 32,
    optimizer: str = "adam",
    print_fn: Callable[[str], Any] | None = None,
    expand_nested: bool = True,
    show: bool = True,
    line_length: int | None = None,
    positions: Any = None,
    show_trainable: bool = False,
    layer_range: Sequence[str] | None = None,
) -> ModelSummary:
    """Build (and by default print) the explaining summary of ``model``.

    Args:
        model: A built cnnkit model (its input shape must be known).
        formulas: Add each layer's parameter and output-size derivations.
        cost: Add MACs and activations per layer, activation and parameter memory,
            and the training-memory estimate.
        batch_size: Batch size of the training-memory estimate (default 32).
        optimizer: Optimizer of the estimate: ``sgd`` (no state), ``momentum``,
            ``rmsprop``, ``adagrad`` (1× the weights), ``adam``, ``adamw`` (2×), ...
        print_fn: Receives each plain-text line instead of rich printing (Keras).
        expand_nested: List the layers of nested models under their model's row.
        show: Print the summary (``False`` only returns it).
        line_length: Maximum printed width in characters (Keras).
        positions: Accepted for Keras compatibility and not used: rich sizes the
            columns itself, there are no hand-set column positions.
        show_trainable: Add a "Trainable" column (Y, N, part).
        layer_range: ``(first_name, last_name)``: show only the rows between these two
            layers, inclusive (Keras); the totals still cover the whole model.

    Returns:
        The :class:`ModelSummary`.

    Raises:
        ValueError: the input shape is unknown (with how to fix it), or a bad argument.
    """
    opt = _check_args(batch_size, optimizer, print_fn)
    input_shape = model._known_input_shape()
    if input_shape is None:
        raise unknown_input_shape_error(model.name, "summarize")
    model._require_built("summarize")
    input_shape = model._known_input_shape()
    if cost and not _fully_known(input_shape):
        raise _fixed_size_error(model, "(cost=True) (MACs and memory depend on it)", input_shape)
    rows = _rows(model, input_shape, 0, formulas, expand_nested)
    counted = [r for r in rows if r.counted]
    shown = rows if layer_range is None else _in_range(rows, layer_range, model.name)
    params = list(model.parameters())
    trainable = sum(p.numel() for p in params if p.requires_grad)
    total = sum(p.numel() for p in params)
    buffers = [b for b in model.buffers() if b.is_floating_point()]
    param_bytes = sum(t.numel() * t.element_size() for t in params)
    trainable_bytes = sum(p.numel() * p.element_size() for p in params if p.requires_grad)
    buffer_bytes = sum(t.numel() * t.element_size() for t in buffers)
    input_values = _numel(input_shape)
    summary = ModelSummary(
        name=model.name,
        model_type=type(model).__name__,
        rows=shown,
        input_shape=input_shape,
        output_shape=model.compute_output_shape(input_shape) if rows else input_shape,
        total_params=total,
        trainable_params=trainable,
        non_trainable_params=total - trainable,
        buffer_values=sum(b.numel() for b in buffers),
        show_connected=model._summary_shows_connections,
        formulas=formulas,
        cost=cost,
        total_macs=sum(r.macs for r in counted),
        input_values=input_values,
        activation_values=input_values + sum(r.activations for r in counted),
        param_bytes=param_bytes,
        buffer_bytes=buffer_bytes,
        trainable_bytes=trainable_bytes,
        show_trainable=show_trainable,
    )
    if cost:
        summary.training = TrainingMemory(
            batch_size=batch_size,
            optimizer=opt,
            state_factor=OPTIMIZER_STATE[opt],
            weights_bytes=param_bytes + buffer_bytes,
            gradients_bytes=trainable_bytes,
            optimizer_bytes=OPTIMIZER_STATE[opt] * trainable_bytes,
            activations_bytes=summary.activation_bytes * 2 * batch_size,
        )
    if show:
        summary.print(print_fn, width=line_length)
    return summary


def _in_range(rows: list[SummaryRow], layer_range: Any, model_name: str) -> list[SummaryRow]:
    names = [r.name.strip() for r in rows]
    if (
        not isinstance(layer_range, (list, tuple))
        or len(layer_range) != 2
        or not all(n in names for n in layer_range)
    ):
        raise invalid_value(
            f"summary of model '{model_name}': `layer_range` must be two layer names of the "
            "model, first and last.",
            received={"layer_range": layer_range},
            choices=names,
        )
    first = names.index(layer_range[0])
    last = len(names) - 1 - names[::-1].index(layer_range[1])
    return rows[first : last + 1]
