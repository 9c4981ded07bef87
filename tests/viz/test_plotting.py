"""The shared plotting pieces: per-tile scaling, the mosaic layout, figures, lazy imports."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnkit.viz._plotting import finish_figure, mosaic, new_figure, require, scale_each


def test_scale_each_symmetric_keeps_zero_at_half_and_the_sign():
    tiles = np.array([[[-2.0, 0.0, 1.0]], [[0.0, 0.0, 0.0]], [[3.0, 6.0, 3.0]]])
    np.testing.assert_allclose(
        scale_each(tiles, symmetric=True),
        [[[0.0, 0.5, 0.75]], [[0.5, 0.5, 0.5]], [[0.75, 1.0, 0.75]]],
    )


def test_scale_each_min_max_per_tile():
    tiles = np.array([[[-2.0, 0.0, 2.0]], [[5.0, 5.0, 5.0]], [[3.0, 6.0, 4.5]]])
    np.testing.assert_allclose(
        scale_each(tiles, symmetric=False),
        [[[0.0, 0.5, 1.0]], [[0.0, 0.0, 0.0]], [[0.0, 1.0, 0.5]]],
    )


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 7),
    cols=st.integers(1, 4),
    h=st.integers(1, 4),
    w=st.integers(1, 4),
    pad=st.integers(0, 2),
)
def test_mosaic_puts_tile_i_at_row_i_div_cols_column_i_mod_cols(n, cols, h, w, pad):
    rows = -(-n // cols)
    tiles = np.arange(n * h * w, dtype=np.float32).reshape(n, h, w)
    grid = mosaic(tiles, rows, cols, pad)
    assert grid.shape == (rows * (h + pad) - pad, cols * (w + pad) - pad)
    for i in range(n):
        r, c = divmod(i, cols)
        top, left = r * (h + pad), c * (w + pad)
        np.testing.assert_array_equal(grid[top : top + h, left : left + w], tiles[i])
    assert int(np.isnan(grid).sum()) == grid.size - n * h * w


def test_rgb_mosaic_is_rgba_with_transparent_gaps():
    tiles = np.full((2, 2, 2, 3), 0.25, dtype=np.float32)
    grid = mosaic(tiles, 1, 3)
    assert grid.shape == (2, 8, 4)
    np.testing.assert_array_equal(grid[:, :2], [[[0.25, 0.25, 0.25, 1.0]] * 2] * 2)
    assert (grid[:, 2, 3] == 0).all() and (grid[:, 6:, 3] == 0).all()  # gap and empty cell


def test_figures_with_a_path_stay_outside_pyplot(tmp_path):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig = new_figure((2, 2), tmp_path / "a.png")
    fig.add_subplot().plot([0, 1])
    assert finish_figure(fig, tmp_path / "a.png") is fig
    assert plt.get_fignums() == before
    assert (tmp_path / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert new_figure((2, 2), None).number in plt.get_fignums()


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(
        ImportError, match=r"Plotting needs matplotlib.*pip install 'cnnkit\[viz\]'"
    ):
        require("matplotlib.figure", "Plotting")
