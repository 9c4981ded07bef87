"""Bench rows as a rich terminal table and as JSON (with what they were measured on)."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

import torch

from cnnkit._io import atomic_write
from cnnkit.bench._bench import BenchRow

__all__ = ["bench_meta", "print_bench", "write_bench"]

_COLUMNS = (
    "device", "precision", "layout", "compile", "train img/s", "infer img/s",
    "train MiB", "infer MiB", "speed-up train", "speed-up infer", "note",
)  # fmt: skip


def _num(value: float | None, digits: int = 1, suffix: str = "") -> str:
    return "-" if value is None else f"{value:,.{digits}f}{suffix}"


def _cells(row: BenchRow) -> list[str]:
    note = row.note if row.status == "ok" else f"skipped: {row.note}"
    if row.compile_seconds is not None:
        note = f"{note}; compiled in {row.compile_seconds:.1f} s".lstrip("; ")
    return [
        row.device,
        row.precision,
        row.layout,
        "yes" if row.compiled else "no",
        _num(row.train_images_per_s),
        _num(row.infer_images_per_s),
        _num(row.train_peak_mib, 0),
        _num(row.infer_peak_mib, 0),
        _num(row.speedup_train, 2, "x"),
        _num(row.speedup_infer, 2, "x"),
        note,
    ]


def _cpu_name() -> str:
    """The CPU's model name (Linux ``/proc/cpuinfo``), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def bench_meta(**settings: Any) -> dict[str, Any]:
    """What the rows were measured on: host, torch, threads, load, GPU and the settings."""
    meta: dict[str, Any] = {
        "cpu": _cpu_name(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "load_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
    }
    meta.update(settings)
    return meta


def print_bench(rows: list[BenchRow], title: str = "", console: Any = None) -> None:
    """Print ``rows`` as a rich table (to ``console``, default a new ``rich.Console``)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title or None)
    for i, name in enumerate(_COLUMNS):
        table.add_column(name, justify="right" if 4 <= i <= 9 else "left")
    for row in rows:
        table.add_row(*_cells(row))
    (console or Console(width=160)).print(table)


def write_bench(rows: list[BenchRow], path: str | Path, meta: dict[str, Any]) -> Path:
    """Write ``{"meta": ..., "rows": [...]}`` to ``path`` atomically; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"meta": meta, "rows": [r.to_dict() for r in rows]}, indent=2) + "\n"
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))
    return path
