"""``plot_model``: Keras' model diagram, drawn with matplotlib (no graphviz needed).

The graph comes from the model's own summary (``model.summary(show=False)``):
one box per layer call, with its output shape, and for functional models the
"connected to" labels (``layer[node][tensor]``) as edges; a ``Sequential`` is a
chain under an input box. Boxes are placed in layers by longest path from the
inputs (so a residual branch and its shortcut sit side by side and meet at the
``Add``), ordered within a layer by the mean position of their inputs, and
arrows run from each box to the boxes it feeds.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnkit._errors import invalid_type, invalid_value, unknown_name
from cnnkit._io import atomic_write

__all__ = ["plot_model"]

_LABEL = re.compile(r"^(?P<name>.+)\[(?P<node>\d+)\]\[(?P<tensor>\d+)\]$")
_FORMATS = ("png", "pdf", "svg")
_CHAR_W, _LINE_H, _PAD = 0.075, 0.17, 0.12  # inches at 9 pt monospace
_GAP_X, _GAP_Y = 0.35, 0.45  # inches between boxes


@dataclass
class _Box:
    key: str
    lines: list[str]
    inputs: list[str] = field(default_factory=list)
    rank: int = 0
    x: float = 0.0
    y: float = 0.0
    virtual: bool = False  # a waypoint of an edge that skips ranks, not a layer

    @property
    def size(self) -> tuple[float, float]:
        if self.virtual:
            return 0.2, 0.2
        width = max(len(line) for line in self.lines) * _CHAR_W + 2 * _PAD
        return width, len(self.lines) * _LINE_H + 2 * _PAD


def _shape_text(shape: Any) -> str:
    return str(shape).replace("[", "").replace("]", "")


def _layer_lines(model: Any, row: Any, options: dict[str, bool], shape_in: Any) -> list[str]:
    name = row.name.strip()
    lines = [f"{name} ({row.type})" if options["show_layer_names"] else row.type]
    layer = _find_layer(model, name)
    if options["show_layer_activations"] and layer is not None:
        activation = _config(layer).get("activation")
        if activation is not None:
            lines.append(f"activation: {activation}")
    if options["show_shapes"]:
        if shape_in is not None:
            lines.append(f"input:  {_shape_text(shape_in)}")
        lines.append(f"output: {_shape_text(row.output_shape)}")
    if options["show_dtype"]:
        dtype = next((str(p.dtype) for p in _params(layer)), "float32")
        lines.append(f"dtype: {dtype.replace('torch.', '')}")
    if options["show_trainable"] and layer is not None:
        lines.append(f"trainable: {'yes' if getattr(layer, 'trainable', True) else 'no'}")
    return lines


def _find_layer(model: Any, name: str) -> Any:
    try:
        return model.get_layer(name)
    except (AttributeError, ValueError, KeyError):
        return None


def _config(layer: Any) -> dict[str, Any]:
    try:
        return dict(layer.get_config())
    except (AttributeError, NotImplementedError, TypeError):
        return {}


def _params(layer: Any) -> list[Any]:
    return list(layer.parameters()) if hasattr(layer, "parameters") else []


def _boxes(model: Any, options: dict[str, bool]) -> list[_Box]:
    """One box per layer call, with the keys of the boxes that feed it, in graph order."""
    summary = model.summary(show=False, expand_nested=options["expand_nested"])
    rows = [r for r in summary.rows if options["expand_nested"] or r.depth == 0]
    outputs: dict[str, Any] = {}
    boxes: list[_Box] = []
    calls: dict[str, int] = {}
    if not summary.show_connected:  # a Sequential: a chain under an input box
        first = _Box("input", ["input (InputLayer)"])
        if options["show_shapes"]:
            first.lines.append(f"output: {_shape_text(summary.input_shape)}")
        boxes.append(first)
        outputs["input"] = summary.input_shape
    for row in rows:
        name = row.name.strip()
        node = calls.get(name, 0)
        calls[name] = node + 1
        key = f"{name}[{node}]"
        if summary.show_connected:
            inputs = []
            for label in row.connected_to:
                match = _LABEL.match(label)
                source = f"{match['name']}[{match['node']}]" if match else label
                if source not in inputs:
                    inputs.append(source)
        else:
            inputs = [boxes[-1].key]
        known = [outputs[k] for k in inputs if k in outputs]
        shape_in = known[0] if len(known) == 1 else known or None
        boxes.append(_Box(key, _layer_lines(model, row, options, shape_in), inputs))
        outputs[key] = row.output_shape
    return boxes


def _layout(boxes: list[_Box], rankdir: str = "TB") -> list[list[_Box]]:
    """Place the boxes; returns every edge as a path of boxes (waypoints in between).

    Ranks by longest path from the inputs. An edge that skips ranks gets a small
    waypoint in each rank it crosses (as in Sugiyama's layered drawing), so a
    shortcut runs beside the branch it skips instead of through its boxes. Within a
    rank, boxes follow the mean position of their inputs, and each box is then
    placed under the mean x of its inputs, pushed apart where boxes would overlap.
    """
    by_key = {b.key: b for b in boxes}
    for box in boxes:  # graph order: every input comes before the box it feeds
        box.rank = max((by_key[k].rank + 1 for k in box.inputs if k in by_key), default=0)
    ranks: list[list[_Box]] = [[] for _ in range(max(b.rank for b in boxes) + 1)]
    for box in boxes:
        ranks[box.rank].append(box)
    paths: list[list[_Box]] = []
    feeds: dict[str, list[str]] = {b.key: [] for b in boxes}  # inputs incl. waypoints
    for box in boxes:
        for key in box.inputs:
            if key not in by_key:
                continue
            path = [by_key[key]]
            for rank in range(by_key[key].rank + 1, box.rank):
                waypoint = _Box(f"{key}->{box.key}@{rank}", [], rank=rank, virtual=True)
                feeds[waypoint.key] = [path[-1].key]
                ranks[rank].append(waypoint)
                path.append(waypoint)
            feeds[box.key].append(path[-1].key)
            paths.append([*path, box])
    position = {b.key: float(i) for rank in ranks for i, b in enumerate(rank)}
    for rank in ranks[1:]:
        rank.sort(key=lambda b: _mean([position[k] for k in feeds[b.key]], position[b.key]))
        position.update({b.key: float(i) for i, b in enumerate(rank)})
    _place(ranks, feeds, rankdir)
    return paths


def _place(ranks: list[list[_Box]], feeds: dict[str, list[str]], rankdir: str) -> None:
    """Coordinates: ``u`` across a rank, ``v`` along the ranks (x, y for "TB"; y, x for "LR")."""
    lr = rankdir == "LR"

    def across(box: _Box) -> float:
        return box.size[1] if lr else box.size[0]

    def along(box: _Box) -> float:
        return box.size[0] if lr else box.size[1]

    u: dict[str, float] = {}
    v = 0.0
    for rank in ranks:
        here = [0.0] * len(rank)
        edge = 0.0
        for i, box in enumerate(rank):  # first guess: side by side
            here[i] = edge + across(box) / 2
            edge += across(box) + _GAP_X
        pairs = zip(rank, here, strict=True)
        wanted = [_mean([u[k] for k in feeds[b.key] if k in u], guess) for b, guess in pairs]
        for i, box in enumerate(rank):  # under the inputs, but never overlapping
            here[i] = wanted[i]
            if i:
                gap = (across(rank[i - 1]) + across(box)) / 2 + _GAP_X
                here[i] = max(here[i], here[i - 1] + gap)
        shift = _mean([w - h for w, h in zip(wanted, here, strict=True)], 0.0)
        depth = max(along(b) for b in rank)
        for box, at in zip(rank, here, strict=True):
            u[box.key] = at + shift
            box.x, box.y = (v + depth / 2, at + shift) if lr else (at + shift, v + depth / 2)
        v += depth + (_GAP_X if lr else _GAP_Y)
    boxes = [b for rank in ranks for b in rank]
    left = min(b.x - b.size[0] / 2 for b in boxes) - 0.1
    top = min(b.y - b.size[1] / 2 for b in boxes) - 0.1
    for box in boxes:
        box.x, box.y = box.x - left, box.y - top


def _mean(values: list[float], default: float) -> float:
    return sum(values) / len(values) if values else default


def _draw(boxes: list[_Box], paths: list[list[_Box]], rankdir: str, dpi: int) -> tuple[Any, int]:
    figure = _require("matplotlib.figure")
    patches = _require("matplotlib.patches")
    everything = {id(b): b for path in paths for b in path} | {id(b): b for b in boxes}
    width = max(b.x + b.size[0] / 2 for b in everything.values()) + 0.2
    height = max(b.y + b.size[1] / 2 for b in everything.values()) + 0.2
    # Keep the longer side under 2**15 pixels (very deep models lower the dpi).
    dpi = max(30, min(dpi, int(32768 / max(width, height))))
    fig = figure.Figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)  # rank 0 at the top
    ax.axis("off")
    for box in boxes:
        w, h = box.size
        ax.add_patch(patches.FancyBboxPatch((box.x - w / 2, box.y - h / 2), w, h,
                                            boxstyle="round,pad=0,rounding_size=0.05",
                                            facecolor="#eef3fb", edgecolor="#34495e"))  # fmt: skip
        ax.text(box.x, box.y, "\n".join(box.lines), ha="center", va="center",
                family="monospace", fontsize=9, linespacing=1.25)  # fmt: skip
    for path in paths:
        points = [_anchor(path[0], rankdir, leaving=True)]
        points += [(b.x, b.y) for b in path[1:-1]]
        points.append(_anchor(path[-1], rankdir, leaving=False))
        if len(points) > 2:
            xs, ys = zip(*points[:-1], strict=True)
            ax.plot(xs, ys, color="#34495e", lw=1.0)
        arrow = {"arrowstyle": "-|>", "color": "#34495e", "lw": 1.0, "shrinkA": 0, "shrinkB": 0}
        ax.annotate("", xy=points[-1], xytext=points[-2], arrowprops=arrow)
    return fig, dpi


def _anchor(box: _Box, rankdir: str, *, leaving: bool) -> tuple[float, float]:
    """Where an edge leaves (bottom/right side) or enters (top/left side) a box."""
    sign = 1 if leaving else -1
    if rankdir == "LR":
        return box.x + sign * box.size[0] / 2, box.y
    return box.x, box.y + sign * box.size[1] / 2


def _require(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(
            "plot_model draws with matplotlib, which is not installed. Install the viz "
            "extra: pip install 'cnnkit[viz]'"
        ) from err


def plot_model(
    model: Any,
    to_file: Any = "model.png",
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = True,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: int = 200,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
) -> Any:
    """Draw ``model`` as a diagram of its layers and write it to ``to_file``.

    Args:
        model: A built ``Sequential`` or functional ``Model`` (anything with
            cnnkit's ``summary``; a subclassed zoo model appears as a chain of its
            leaf modules in call order).
        to_file: Output path; ``.png`` (default ``model.png``), ``.pdf`` or ``.svg``.
        show_shapes: Add each layer's input and output shape, e.g. ``(None, 24, 24, 6)``.
        show_dtype: Add the dtype of each layer's weights.
        show_layer_names: ``name (Type)`` in each box (default True); else the type only.
        rankdir: ``"TB"`` (top to bottom, default) or ``"LR"`` (left to right).
        expand_nested: Draw the layers inside nested models too.
        dpi: Resolution (default 200; lowered for very deep models so the image
            stays under 32,768 pixels a side).
        show_layer_activations: Add each layer's activation.
        show_trainable: Add whether each layer is trainable.

    Returns:
        An ``IPython.display.Image`` of a PNG where IPython is installed (a notebook
        shows it, as with Keras), else None.

    Raises:
        TypeError: for something that is not a cnnkit model.
        ValueError: for an unknown ``rankdir`` or file type.
    """
    if not callable(getattr(model, "summary", None)):
        raise invalid_type("plot_model: `model` must be a cnnkit model.",
                           received={"model": type(model).__name__})  # fmt: skip
    if rankdir not in ("TB", "LR"):
        raise unknown_name("rankdir", rankdir, ["TB", "LR"], argument="rankdir")
    path = Path(to_file)
    fmt = path.suffix.lower().lstrip(".") or "png"
    if fmt not in _FORMATS:
        raise invalid_value(
            "plot_model: unsupported file type for `to_file`.",
            received={"to_file": str(to_file)},
            choices=[f".{f}" for f in _FORMATS],
        )
    options = {
        "show_shapes": bool(show_shapes),
        "show_dtype": bool(show_dtype),
        "show_layer_names": bool(show_layer_names),
        "expand_nested": bool(expand_nested),
        "show_layer_activations": bool(show_layer_activations),
        "show_trainable": bool(show_trainable),
    }
    boxes = _boxes(model, options)
    fig, dpi = _draw(boxes, _layout(boxes, rankdir), rankdir, int(dpi))
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format=fmt))
    if fmt == "png":
        try:
            from IPython.display import Image
        except ImportError:
            return None
        return Image(filename=str(path))
    return None
