"""A comparison as a terminal table (rich), ``results.json``, Markdown and a PNG.

The PNG plots test accuracy against predict time per 1,000 images on a log
axis: kNN sits far right (it compares each query with the whole training
set), the networks far left and higher.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cnnkit._io import atomic_write
from cnnkit.baselines._compare import Comparison, Row

__all__ = ["REPORT_FILES", "markdown_table", "print_table", "write_report"]

#: What ``write_report`` writes into its folder.
REPORT_FILES = ("results.json", "results.md", "accuracy_vs_predict_time.png")

_COLUMNS = ("model", "test acc", "fit s", "predict s / 1k", "size", "model MB", "peak MiB")


def _cells(row: Row) -> list[str]:
    unit = {"parameters": "params", "stored values": "stored", "tree nodes": "nodes"}
    peak = "n/a" if row.peak_memory_mib is None else f"{row.peak_memory_mib:,.0f}"
    return [
        row.model,
        f"{row.accuracy * 100:.2f}%",
        f"{row.fit_seconds:,.2f}",
        f"{row.predict_seconds_per_1000:.4f}",
        f"{row.size:,} {unit.get(row.size_unit, row.size_unit)}",
        f"{row.model_bytes / 1e6:,.2f}",
        peak,
    ]


def _title(comparison: Comparison) -> str:
    meta = comparison.meta
    norm = "normalised" if meta.get("normalize", True) else "raw 0..255 pixels (--no-normalize)"
    return f"{meta.get('data', meta.get('dataset', ''))}; {norm}"


def print_table(comparison: Comparison, console: Any = None) -> None:
    """Print the rows as a rich table (to ``console``, default a new ``rich.Console``)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=_title(comparison))
    for i, name in enumerate(_COLUMNS):
        table.add_column(name, justify="left" if i == 0 else "right")
    for row in comparison.rows:
        table.add_row(*_cells(row))
    (console or Console()).print(table)


def markdown_table(comparison: Comparison) -> str:
    """The rows as a GitHub Markdown table, preceded by one line saying what they measure."""
    lines = [
        f"{_title(comparison)}.",
        "",
        "| " + " | ".join(_COLUMNS) + " |",
        "|" + "---|" * len(_COLUMNS),
    ]
    lines += ["| " + " | ".join(_cells(row)) + " |" for row in comparison.rows]
    return "\n".join(lines) + "\n"


def plot_accuracy_vs_predict_time(comparison: Comparison, path: Path) -> Path:
    """Scatter of accuracy (%) against predict seconds per 1,000 images (log x), as a PNG."""
    from cnnkit.viz._plotting import finish_figure, new_figure

    fig = new_figure((7.0, 4.5), path)
    ax = fig.add_subplot()
    for row in comparison.rows:
        x, y = max(row.predict_seconds_per_1000, 1e-6), row.accuracy * 100
        ax.scatter([x], [y], s=40)
        ax.annotate(row.model, (x, y), textcoords="offset points", xytext=(6, 4), fontsize=9)
    ax.set_xscale("log")
    ax.set_xlabel("predict time per 1,000 test images (s, log scale)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(_title(comparison), fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.margins(x=0.25, y=0.12)
    fig.tight_layout()
    finish_figure(fig, path)
    return path


def write_report(comparison: Comparison, out: str | Path) -> list[Path]:
    """Write :data:`REPORT_FILES` into the folder ``out`` (created); returns their paths."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / name for name in REPORT_FILES]
    text = json.dumps(comparison.to_dict(), indent=2) + "\n"
    atomic_write(paths[0], lambda tmp: Path(tmp).write_text(text))
    md = markdown_table(comparison)
    atomic_write(paths[1], lambda tmp: Path(tmp).write_text(md))
    plot_accuracy_vs_predict_time(comparison, paths[2])
    return paths
