"""Canvas rendering: cnnkit's separable bilinear paste vs plain torch affine_grid + grid_sample.

Both resample the same glyphs to the same places on 96×96 canvases (the same
numbers to 0.01 of 255, checked first), timed alternately in one process, best
of ``--repeats``. Also times one whole ``DigitCanvases.batch`` (placement,
masks, boxes) for scale.

    CNNKIT_DATA=../shared/data .venv/bin/python benchmarks/tasks_canvas.py
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from cnnkit.datasets import digit_canvases


def _grid_sample(glyphs, side, x0, y0, h, w):
    s, x, y = (torch.as_tensor(v, dtype=torch.float32) for v in (side, x0, y0))
    theta = torch.zeros(len(s), 2, 3)
    theta[:, 0, 0], theta[:, 0, 2] = w / s, (w - 2 * x) / s - 1
    theta[:, 1, 1], theta[:, 1, 2] = h / s, (h - 2 * y) / s - 1
    grid = F.affine_grid(theta, [len(s), 1, h, w], align_corners=False)
    return F.grid_sample(glyphs[:, None].float(), grid, align_corners=False)[:, 0]


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=256, help="glyphs per call (64 x 4)")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    canvases = digit_canvases("mnist", "test", size=96, batch_size=64)
    rng = np.random.default_rng(0)
    n = args.objects
    glyphs = canvases._glyphs[rng.integers(0, len(canvases._glyphs), n)]
    side = rng.uniform(22, 45, n)
    x0, y0 = rng.uniform(0, 50, n), rng.uniform(0, 50, n)
    ours = canvases._paste(glyphs, side, x0, y0)
    ref = _grid_sample(glyphs, side, x0, y0, 96, 96)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-5, atol=1e-2)
    t_ours, t_ref = [], []
    for _ in range(3):  # alternate the two sides, so load changes hit both
        t_ours.append(_best(lambda: canvases._paste(glyphs, side, x0, y0), args.repeats))
        t_ref.append(_best(lambda: _grid_sample(glyphs, side, x0, y0, 96, 96), args.repeats))
    a, b = min(t_ours), min(t_ref)
    batch = _best(lambda: canvases.batch(0), max(3, args.repeats // 4))
    print(f"threads {torch.get_num_threads()}, load {os.getloadavg()[0]:.1f}")
    print(f"paste {n} glyphs onto 96x96: cnnkit {a * 1e3:.2f} ms, grid_sample {b * 1e3:.2f} ms, "
          f"ratio {a / b:.2f}x")  # fmt: skip
    print(f"one DigitCanvases.batch (64 canvases, 1-4 objects): {batch * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
