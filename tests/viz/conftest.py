"""Close every pyplot figure a test opened (plots without ``path=`` come from pyplot)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
