"""Atomic file writes shared by every package that saves something (models, backups, plots, images).

DESIGN.md "Saving": write to a temporary file in the same folder, fsync, then rename,
so a crash mid-write never corrupts what was saved before. Kept at the top level,
next to ``_errors``, because packages at every layer need it and it imports only
the standard library.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write"]


def atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Write via ``write(temp_path)`` to a temp file in the same folder, fsync, then rename.

    Args:
        path: Final destination; its folder is created if missing.
        write: Called once with the temporary file's path (a ``str``); it must
            create and fill that file.

    A failure at any point removes the temp file and leaves an existing ``path`` intact.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(str(tmp))
        with open(tmp, "rb+") as f:
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
