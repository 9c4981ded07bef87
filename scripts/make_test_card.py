"""Regenerate cnnkit's sample image, ``cnnkit/assets/test_card.png``, from code.

Run from the repository root: ``python scripts/make_test_card.py``. The write is
atomic (temporary file in the same folder, fsync, rename).
"""

from __future__ import annotations

from pathlib import Path

from cnnkit.cli._filter import write_image
from cnnkit.ops import make_test_card

TARGET = Path(__file__).resolve().parents[1] / "cnnkit" / "assets" / "test_card.png"

if __name__ == "__main__":
    write_image(make_test_card(), TARGET)
    print(f"wrote {TARGET} ({TARGET.stat().st_size} bytes)")
