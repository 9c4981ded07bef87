"""``ModelSummary``: the data behind ``model.summary()`` and its table/JSON/Markdown views.

The summary is data first: ``model.summary()`` prints it and returns it, and
``cnnkit summary`` renders the same object as a rich table, JSON or Markdown.
Every total is a sum the reader can redo from the rows.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

__all__ = ["ModelSummary", "SummaryRow", "TrainingMemory", "format_bytes", "format_shape"]

BN_NOTE = (
    "Note: Keras counts these statistics (BatchNormalization moving mean/variance, "
    "Normalization mean/variance/count) as non-trainable params; PyTorch keeps them as buffers."
)


_NUMERIC = frozenset({"Param #", "MACs", "Activations"})


def format_shape(shape: Any) -> str:
    """``(None, 26, 26, 64)``; several outputs are joined with ``, ``."""
    if isinstance(shape, list):
        return ", ".join(format_shape(s) for s in shape)
    inner = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def format_bytes(n: float) -> str:
    """Keras 3's ``readable_memory_size``: binary units, ``241.04 KB`` = 241.04 × 1024 bytes.

    ``B``/``KB``/``MB``/``GB``/``TB`` with 1 KB = 1024 bytes and always two decimals,
    so the totals read exactly as Keras prints them (``Total params: 61,706 (241.04 KB)``).
    """
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024:
            return f"{value:,.2f} {unit}"
        value /= 1024
    return f"{value:,.2f} TB"


def _si(n: float, unit: str = "") -> str:
    """``15.47 GMACs``, ``15.26 M``: decimal prefixes, two decimals."""
    for prefix, size in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.2f} {prefix}{unit}"
    return f"{int(n)} {unit}".rstrip()


def _trainable_mark(row: SummaryRow) -> str:
    if row.params == 0:
        return "-"
    return (
        "Y" if row.trainable_params == row.params else "N" if not row.trainable_params else "part"
    )


@dataclass
class SummaryRow:
    """One layer call.

    Attributes:
        name: Layer name (attribute path for subclassed models), indented by ``depth``.
        type: Class name; ``" (shared)"`` is appended on a layer's second and later calls.
        output_shape: Keras-layout shape with ``None`` batch (a list for several outputs).
        params: Parameters of the layer (0 on shared calls: counted once).
        trainable_params: The trainable part of ``params``.
        buffers: Floating-point buffer values (BatchNorm moving mean and variance).
        connected_to: ``layer[node][tensor]`` labels of the inputs (functional models).
        depth: Nesting level (layers of a nested model are one deeper).
        param_formula: Derivation of ``params``, e.g. ``6 × (5×5×1) + 6 = 156``.
        output_size_formula: Derivation of the output size, e.g. ``(32 − 5) / 1 + 1 = 28``.
        macs: Multiply-accumulates for one image.
        activations: Output values for one image.
        counted: False for a nested model's own row when its layers are listed below it
            (the totals add the inner rows instead).
    """

    name: str
    type: str
    output_shape: Any
    params: int
    trainable_params: int
    buffers: int = 0
    connected_to: list[str] = field(default_factory=list)
    depth: int = 0
    param_formula: str | None = None
    output_size_formula: str | None = None
    macs: int = 0
    activations: int = 0
    counted: bool = True


@dataclass
class TrainingMemory:
    """Estimated training memory: weights + gradients + optimizer state + activations.

    ``activations_bytes`` = activation values per image × 4 bytes × 2 (kept for the
    backward pass) × ``batch_size``.
    """

    batch_size: int
    optimizer: str
    state_factor: int
    weights_bytes: int
    gradients_bytes: int
    optimizer_bytes: int
    activations_bytes: int

    @property
    def total_bytes(self) -> int:
        return (
            self.weights_bytes
            + self.gradients_bytes
            + self.optimizer_bytes
            + (self.activations_bytes)
        )


@dataclass(repr=False)
class ModelSummary:
    """Everything ``summary()`` shows, as data.

    Attributes:
        name, model_type: The model's name and class.
        rows: One :class:`SummaryRow` per layer call.
        input_shape, output_shape: Keras-layout shapes with ``None`` batch.
        total_params, trainable_params, non_trainable_params: PyTorch parameters.
        buffer_values: Floating buffers (BatchNorm moving statistics, Normalization mean,
            variance and count), not params in PyTorch.
        show_connected: Whether the "Connected to" column applies (functional models).
        formulas, cost: Which optional columns and lines were asked for.
        total_macs: Sum of the rows' MACs for one image (FLOPs = 2 × MACs).
        input_values: Values in one input sample.
        activation_values: Input values plus every layer's output values, per image.
        param_bytes: Memory of the parameters.
        buffer_bytes: Memory of the floating buffers (BatchNorm moving statistics).
        trainable_bytes: Memory of the trainable parameters.
        training: The training-memory estimate (with ``cost=True``).
    """

    name: str
    model_type: str
    rows: list[SummaryRow]
    input_shape: Any
    output_shape: Any
    total_params: int
    trainable_params: int
    non_trainable_params: int
    buffer_values: int
    show_connected: bool
    formulas: bool
    cost: bool
    total_macs: int
    input_values: int
    activation_values: int
    param_bytes: int
    buffer_bytes: int = 0
    training: TrainingMemory | None = None
    trainable_bytes: int = 0
    show_trainable: bool = False

    @property
    def keras_total_params(self) -> int:
        """The total Keras would print: parameters plus BatchNorm moving statistics."""
        return self.total_params + self.buffer_values

    @property
    def activation_bytes(self) -> int:
        """Forward activation memory for one image in float32."""
        return self.activation_values * 4

    # ------------------------------------------------------------------ data views
    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready), including the derived totals."""
        data = asdict(self)
        data["keras_total_params"] = self.keras_total_params
        data["activation_bytes"] = self.activation_bytes
        data["flops"] = 2 * self.total_macs
        if self.training is not None:
            data["training"]["total_bytes"] = self.training.total_bytes
        return data

    def to_json(self, indent: int | None = 2) -> str:
        """The summary as JSON (shapes become lists, ``None`` becomes ``null``)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def _columns(self) -> list[tuple[str, Callable[[SummaryRow], str]]]:
        cols: list[tuple[str, Callable[[SummaryRow], str]]] = [
            ("Layer (type)", lambda r: f"{'  ' * r.depth}{r.name} ({r.type})"),
            ("Output Shape", lambda r: format_shape(r.output_shape)),
            ("Param #", lambda r: f"{r.params:,}"),
        ]
        if self.show_connected:
            cols.append(("Connected to", lambda r: ", ".join(r.connected_to) or "-"))
        if self.show_trainable:
            cols.append(("Trainable", _trainable_mark))
        if self.formulas:
            cols.append(("Param formula", lambda r: r.param_formula or "-"))
            cols.append(("Output size formula", lambda r: r.output_size_formula or "-"))
        if self.cost:
            cols.append(("MACs", lambda r: f"{r.macs:,}"))
            cols.append(("Activations", lambda r: f"{r.activations:,}"))
        return cols

    def totals_lines(self) -> list[str]:
        """The lines under the table: totals, the BatchNorm note, and the cost figures."""
        frozen_bytes = self.param_bytes - self.trainable_bytes
        lines = [
            f"Total params: {self.total_params:,} ({format_bytes(self.param_bytes)})",
            f"Trainable params: {self.trainable_params:,} ({format_bytes(self.trainable_bytes)})",
            f"Non-trainable params: {self.non_trainable_params:,} ({format_bytes(frozen_bytes)})",
        ]
        if self.buffer_values:
            lines += [
                f"Buffers (statistics, e.g. BatchNorm moving mean/variance): "
                f"{self.buffer_values:,} "
                f"({format_bytes(self.buffer_bytes)})",
                f"{BN_NOTE} Keras-equivalent total: {self.keras_total_params:,}.",
            ]
        if self.cost:
            lines += [
                f"MACs per image: {self.total_macs:,} ({_si(self.total_macs, 'MACs')}); "
                "FLOPs = 2 × MACs.",
                f"Activations per image: {self.activation_values:,} values "
                f"({_si(self.activation_values)}) = {format_bytes(self.activation_bytes)} "
                f"forward (float32; input {self.input_values:,} + every layer output) "
                f"= {_si(self.activation_bytes, 'B')} in decimal units.",
                f"Parameter memory: {format_bytes(self.param_bytes)}. "
                f"In decimal units: {_si(self.param_bytes, 'B')}.",
                # Keras prints binary units, while published cost figures (CS231n's
                # "~552 MB" for VGG16) are decimal; show both so either can be checked.
                "Memory sizes use binary units, as Keras prints them: 1 KB = 1024 B, "
                "1 MB = 1024 KB, 1 GB = 1024 MB; decimal units: 1 MB = 10⁶ B.",
            ]
        if self.training is not None:
            t = self.training
            lines.append(
                f"Training memory (batch {t.batch_size}, {t.optimizer}): weights "
                f"{format_bytes(t.weights_bytes)} + gradients {format_bytes(t.gradients_bytes)}"
                f" + optimizer state {t.state_factor}× = {format_bytes(t.optimizer_bytes)}"
                f" + activations {format_bytes(self.activation_bytes)} × 2 × {t.batch_size} = "
                f"{format_bytes(t.activations_bytes)} → about {format_bytes(t.total_bytes)}."
            )
        return lines

    # ------------------------------------------------------------------ renderings
    def to_table(self) -> Group:
        """A rich renderable: the layer table followed by the totals."""
        table = Table(title=f'Model: "{self.name}" ({self.model_type})', title_justify="left")
        cols = self._columns()
        for header, _ in cols:
            table.add_column(header, justify="right" if header in _NUMERIC else "left")
        for row in self.rows:
            table.add_row(*(fn(row) for _, fn in cols))
        return Group(table, *(Text(line) for line in self.totals_lines()))

    def to_text(self, width: int = 250) -> str:
        """The table as plain text (no colour), at its natural width up to ``width``."""
        console = Console(file=io.StringIO(), width=width, color_system=None, record=True)
        console.print(self.to_table())
        return "\n".join(line.rstrip() for line in console.export_text().splitlines())

    def to_markdown(self) -> str:
        """A GitHub-flavoured Markdown table plus the totals as a list."""
        cols = self._columns()

        def cell(text: str) -> str:
            return text.replace("|", "\\|")

        out = [f"**Model: {self.name}** ({self.model_type})", ""]
        out.append("| " + " | ".join(h for h, _ in cols) + " |")
        out.append("|" + "|".join("---:" if h in _NUMERIC else "---" for h, _ in cols) + "|")
        for row in self.rows:
            out.append("| " + " | ".join(cell(fn(row)) for _, fn in cols) + " |")
        out.append("")
        out += [f"- {line}" for line in self.totals_lines()]
        return "\n".join(out)

    def print(self, print_fn: Callable[[str], Any] | None = None, width: int | None = None) -> None:
        """Print with rich, or hand each plain-text line to ``print_fn`` (Keras' argument).

        Args:
            print_fn: Receives each line of the plain-text table instead.
            width: Maximum width in characters (Keras' ``line_length``); default: the
                terminal's width, or the table's natural width when not a terminal.
        """
        if print_fn is None:
            console = Console(width=width)
            if width is None and not console.is_terminal:
                # Logs and captured output get the table at its natural width.
                console = Console(width=250)
            console.print(self.to_table())
            return
        for line in self.to_text(width or 250).splitlines():
            print_fn(line)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        # Short on purpose: summary() is often a notebook cell's last line, and the table
        # has already been printed.
        return (
            f"<ModelSummary {self.name!r}: {len(self.rows)} rows, "
            f"{self.total_params:,} params, {self.total_macs:,} MACs>"
        )
