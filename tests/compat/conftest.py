"""Fixtures for running Keras course programs: small stand-in datasets, one run per program.

Each program runs once per test session in its own empty folder (programs write
``best.h5``/``m.h5`` to the current directory); the tests then read its globals
and printed output, so checking several facts about one program costs one run.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.compat._keras_source import fake_cifar10, fake_mnist, run_program, write_cats_dogs


@dataclass(frozen=True)
class ProgramRun:
    """What one executed program left behind."""

    namespace: dict[str, Any]
    stdout: str
    warnings: list[warnings.WarningMessage]
    folder: Path


#: Files a program expects in its working folder, made before it runs.
_PREPARE: dict[str, Callable[[Path], None]] = {
    "cats_dogs_generator": lambda folder: write_cats_dogs(
        folder / "data", {"train": 8, "validation": 4}
    ),
    "cats_dogs_augmented": lambda folder: write_cats_dogs(
        folder / "data", {"train": 8, "validation": 4}
    ),
}


@pytest.fixture(scope="session")
def keras_program(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], ProgramRun]:
    """``keras_program(name)`` runs ``keras_programs/<name>.py`` once and returns the run.

    ``mnist``/``fashion_mnist``/``cifar10.load_data()`` return a few hundred random samples of the
    real dtypes and shapes: the programs are unchanged, only the download is
    replaced, so an epoch takes a second. Real-file loading is tested in tests/datasets.
    """
    import cnnkit.datasets.cifar10
    import cnnkit.datasets.fashion_mnist
    import cnnkit.datasets.mnist
    from cnnkit.layers import reset_layer_names

    runs: dict[str, ProgramRun] = {}

    def run(name: str) -> ProgramRun:
        if name in runs:
            return runs[name]
        folder = tmp_path_factory.mktemp(name)
        _PREPARE.get(name, lambda _: None)(folder)
        reset_layer_names()  # a fresh Python session, as far as Keras' automatic names go
        stdout = io.StringIO()
        previous = Path.cwd()
        with (
            pytest.MonkeyPatch.context() as patch,
            warnings.catch_warnings(record=True) as caught,
            contextlib.redirect_stdout(stdout),
        ):
            warnings.simplefilter("always")
            patch.setattr(cnnkit.datasets.mnist, "load_data", fake_mnist)
            patch.setattr(cnnkit.datasets.fashion_mnist, "load_data", fake_mnist)
            patch.setattr(cnnkit.datasets.cifar10, "load_data", fake_cifar10)
            os.chdir(folder)
            try:
                namespace = run_program(name)
            finally:
                os.chdir(previous)
        runs[name] = ProgramRun(namespace, stdout.getvalue(), list(caught), folder)
        return runs[name]

    return run
