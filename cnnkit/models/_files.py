"""Safe file primitives for model files: path checks and a validating safetensors reader.

``read_safetensors`` parses the 8-byte length and the JSON header itself before
handing the file to ``safetensors``, so a pickle, a zip (``torch.save``), an
HDF5 file, or a truncated/corrupted file gets a clear ``ValueError`` and no
byte of it is ever interpreted as code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from cnnkit._errors import invalid_type, invalid_value

__all__ = ["as_path", "read_safetensors"]

_MAX_HEADER = 100_000_000  # safetensors' own limit on the JSON header


def as_path(filepath: Any, argument: str = "filepath") -> Path:
    if not isinstance(filepath, (str, os.PathLike)):
        raise invalid_type(
            f"`{argument}` must be a path (str or os.PathLike).",
            received={argument: type(filepath).__name__},
        )
    return Path(filepath)


def _not_ours(path: Path, head: bytes) -> ValueError:
    if head[:1] == b"\x80":
        kind = "a Python pickle (torch.save or pickle.dump); cnnkit never unpickles files"
    elif head[:2] == b"PK":
        kind = "a zip archive (torch.save or a Keras .keras file)"
    elif head[:4] == b"\x89HDF":
        kind = "an HDF5 file (Keras .h5)"
    else:
        kind = "not a safetensors file, or a truncated/corrupted one"
    return invalid_value(
        f"Cannot load '{path}': {kind}.",
        expected="a cnnkit model file written by model.save() (safetensors)",
        received={"first_bytes": head[:8]},
    )


def read_safetensors(filepath: Any) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """Validate and read a safetensors file: ``(metadata, tensors)``.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not safetensors (pickle, zip, ...), truncated, or corrupted.
    """
    path = as_path(filepath)
    if not path.is_file():
        raise FileNotFoundError(f"No such model file: '{path}'.")
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        n = int.from_bytes(head, "little") if len(head) == 8 else -1
        if n < 2 or n > _MAX_HEADER or n > size - 8:
            raise _not_ours(path, head)
        raw = f.read(n)
    try:
        header = json.loads(raw)
        entries = {k: v for k, v in header.items() if k != "__metadata__"}
        end = max((int(v["data_offsets"][1]) for v in entries.values()), default=0)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as err:
        raise invalid_value(
            f"Cannot load '{path}': the safetensors header is corrupted ({err}).",
            received={"header_bytes": n},
        ) from err
    if 8 + n + end != size:
        raise invalid_value(
            f"Cannot load '{path}': the file is truncated or corrupted: its header "
            f"describes {8 + n + end:,} bytes but the file has {size:,}.",
            received={"file_size": size},
        )
    try:
        tensors = load_file(str(path))
    except Exception as err:  # safetensors raises its own error types
        raise invalid_value(
            f"Cannot load '{path}': corrupted tensor data ({err}).", received={"path": str(path)}
        ) from err
    metadata = header.get("__metadata__") or {}
    return (metadata if isinstance(metadata, dict) else {}), tensors
