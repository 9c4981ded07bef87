"""CSVLogger: one row of logs per epoch, flushed as soon as it is written."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import IO, Any

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.callbacks._base import Callback

__all__ = ["CSVLogger"]


class CSVLogger(Callback):
    """Write ``epoch`` and every log value to a CSV file, one row per epoch (Keras semantics).

    Columns are ``epoch`` (0-based, as Keras writes it) and the log keys in sorted
    order, fixed by the first epoch. If the first epoch has no ``val_*`` keys (for
    example when validation runs every few epochs), ``val_`` columns are added for
    every metric and filled with ``NA`` until validation runs, as in Keras.

    Args:
        filename: The CSV file; parent folders are created.
        separator: The field separator. Default ``","``.
        append: Add rows to an existing file instead of overwriting it; the
            header is written only when the file is new or empty. Default False.

    Example:
        >>> from cnnkit.callbacks import CSVLogger
        >>> log = CSVLogger("history.csv")
    """

    def __init__(
        self, filename: str | os.PathLike[str], separator: str = ",", append: bool = False
    ) -> None:
        super().__init__()
        if not isinstance(filename, (str, os.PathLike)):
            raise invalid_type(
                "CSVLogger: `filename` must be a path (str or pathlib.Path).",
                received={"filename": filename},
            )
        if not isinstance(separator, str) or len(separator) != 1:
            raise invalid_value(
                "CSVLogger: `separator` must be a single character.",
                received={"separator": separator},
            )
        self.filename = Path(filename)
        self.sep = separator
        self.append = bool(append)
        self.keys: list[str] | None = None
        self._file: IO[str] | None = None
        self._writer: csv.DictWriter[str] | None = None
        self._write_header = True

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        self._open()

    def _open(self) -> IO[str]:
        self.filename.parent.mkdir(parents=True, exist_ok=True)
        has_rows = self.filename.is_file() and self.filename.stat().st_size > 0
        self._write_header = not (self.append and has_rows)
        # Kept open for the whole run and closed in on_train_end, as Keras does.
        self._file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115
        self.keys = None
        self._writer = None
        return self._file

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        # Opened here too when the hooks are driven without on_train_begin.
        file = self._file if self._file is not None else self._open()
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys += ["val_" + k for k in self.keys if k != "learning_rate"]
        if self._writer is None:
            fields = ["epoch", *self.keys]
            self._writer = csv.DictWriter(
                file, fieldnames=fields, delimiter=self.sep, lineterminator="\n"
            )
            if self._write_header:
                self._writer.writeheader()
        row: dict[str, Any] = {"epoch": epoch}
        row.update((key, _cell(logs.get(key))) for key in self.keys)
        self._writer.writerow(row)
        file.flush()

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        if self._file is not None:
            self._file.close()
        self._file = None
        self._writer = None


def _cell(value: Any) -> Any:
    return "NA" if value is None else float(value)
