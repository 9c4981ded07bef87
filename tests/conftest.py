"""Shared fixtures: where the real data is, and a clean layer-name counter per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path | None:
    """The real-data folder: the first ``CNNKIT_DATA`` entry, else ``../shared/data``."""
    for entry in os.environ.get("CNNKIT_DATA", "").split(os.pathsep):
        if entry and Path(entry).is_dir():
            # Absolute, so tests may symlink to it or chdir (CI sets CNNKIT_DATA=../shared/data).
            return Path(entry).resolve()
    fallback = REPO_ROOT.parent / "shared" / "data"
    return fallback.resolve() if fallback.is_dir() else None


@pytest.fixture
def shared_data() -> Path:
    """Path to ``../shared/data`` (read-only); skips the test where it is absent."""
    path = shared_data_dir()
    if path is None:
        pytest.skip("real data not found: set CNNKIT_DATA to the shared/data folder")
    return path


@pytest.fixture
def zoo_fixtures() -> Path:
    """Path to ``../shared/fixtures/zoo``; skips the test where it is absent."""
    path = REPO_ROOT.parent / "shared" / "fixtures" / "zoo"
    if not path.is_dir():
        pytest.skip("zoo parity fixtures not found beside the repository (../shared/fixtures/zoo)")
    return path


@pytest.fixture(autouse=True)
def _fresh_layer_names():
    """Each test sees Keras' automatic names from the start (conv2d, conv2d_1, ...)."""
    try:
        from cnnkit.layers import reset_layer_names
    except ImportError:  # cnnkit.ops tests run without torch-backed packages
        yield
        return
    reset_layer_names()
    yield
