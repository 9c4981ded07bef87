"""Turn Keras course code into cnnkit code by rewriting its import lines only, then run it.

The rewrite table is the whole porting guide: every other line of a program runs
unchanged. A program is executed as ``__main__`` in a fresh namespace, which the
tests then inspect (``model``, ``history``, ``score``...) like a notebook would.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

PROGRAMS = Path(__file__).parent / "keras_programs"

#: (pattern on one import line, replacement). First match wins; order matters
#: because ``from tensorflow import keras`` must not fall into the generic rows.
IMPORT_TABLE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(\s*)from tensorflow import keras\s*$"), r"\1import cnnkit as keras"),
    (re.compile(r"^(\s*)import keras\s*$"), r"\1import cnnkit as keras"),
    (
        re.compile(r"^(\s*)from (?:tensorflow\.)?keras\.([\w.]+) import "),
        r"\1from cnnkit.\2 import ",
    ),
    (re.compile(r"^(\s*)from (?:tensorflow\.)?keras import "), r"\1from cnnkit import "),
)
_IMPORT_LINE = re.compile(r"^\s*(?:from|import)\s")
_KERAS_WORD = re.compile(r"\b(?:tensorflow|keras)\b")


def rewrite_imports(source: str) -> str:
    """Rewrite the Keras import lines of ``source`` to cnnkit; leave every other line alone.

    Raises:
        ValueError: For an import of TensorFlow/Keras that the table does not cover,
            so a program never runs half-ported.
    """
    out = []
    for line in source.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        if _IMPORT_LINE.match(body):
            for pattern, replacement in IMPORT_TABLE:
                body, count = pattern.subn(replacement, body, count=1)
                if count:
                    break
            else:
                if _KERAS_WORD.search(body):
                    raise ValueError(f"no cnnkit rewrite for import line: {body.strip()!r}")
        out.append(body + line[len(line.rstrip("\r\n")) :])
    return "".join(out)


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    """The (old, new) pairs of lines that differ; both texts have the same line count."""
    pairs = zip(before.splitlines(), after.splitlines(), strict=True)
    return [(old, new) for old, new in pairs if old != new]


def run_program(name: str) -> dict[str, Any]:
    """Execute ``keras_programs/<name>.py`` after the import rewrite; return its globals."""
    path = PROGRAMS / f"{name}.py"
    code = compile(rewrite_imports(path.read_text()), str(path), "exec")
    namespace: dict[str, Any] = {"__name__": "__main__", "__file__": str(path)}
    exec(code, namespace)
    return namespace


def fake_mnist(n_train: int = 256, n_test: int = 64, seed: int = 0) -> Any:
    """A stand-in for ``mnist.load_data()``: same dtypes and shapes, ``n`` random samples."""
    rng = np.random.default_rng(seed)
    x_train = rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8)
    x_test = rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8)
    y_train = rng.integers(0, 10, n_train).astype(np.uint8)
    y_test = rng.integers(0, 10, n_test).astype(np.uint8)
    return (x_train, y_train), (x_test, y_test)


def fake_cifar10(n_train: int = 96, n_test: int = 16, seed: int = 0) -> Any:
    """A stand-in for ``cifar10.load_data()``: uint8 ``(n, 32, 32, 3)``, labels ``(n, 1)``."""
    rng = np.random.default_rng(seed)
    x_train = rng.integers(0, 256, (n_train, 32, 32, 3), dtype=np.uint8)
    x_test = rng.integers(0, 256, (n_test, 32, 32, 3), dtype=np.uint8)
    y_train = rng.integers(0, 10, (n_train, 1)).astype(np.uint8)
    y_test = rng.integers(0, 10, (n_test, 1)).astype(np.uint8)
    return (x_train, y_train), (x_test, y_test)


def write_cats_dogs(root: Path, per_class: dict[str, int], seed: int = 0) -> None:
    """Small JPEG folders ``root/<split>/{cats,dogs}/*.jpg`` with ``per_class[split]`` each."""
    rng = np.random.default_rng(seed)
    for split, count in per_class.items():
        for label in ("cats", "dogs"):
            folder = root / split / label
            folder.mkdir(parents=True)
            for i in range(count):
                pixels = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{label[:-1]}.{i}.jpg")
