"""Regenerate cnnkit's sample image, ``cnnkit/assets/test_card.png``, from code.

Run from the repository root: ``python scripts/make_test_card.py``. The write is
atomic (temporary file in the same folder, fsync, rename).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PIL import Image

from cnnkit.ops import make_test_card

TARGET = Path(__file__).resolve().parents[1] / "cnnkit" / "assets" / "test_card.png"


def write_test_card(target: Path = TARGET) -> Path:
    """Draw the card and save it as an optimised PNG at ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".png", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            Image.fromarray(make_test_card()).save(handle, format="PNG", optimize=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a package asset must be world-readable
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


if __name__ == "__main__":
    print(write_test_card())
