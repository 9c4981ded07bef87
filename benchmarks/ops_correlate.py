"""Benchmark: ``cnnkit.ops.correlate2d`` against SciPy and PyTorch, in one process.

Run: ``python benchmarks/ops_correlate.py [--repeats 7]``

1. A single kernel on a 1024×1024 float32 image, 3×3 and 7×7: cnnkit with
   ``padding="same"`` against ``scipy.ndimage.correlate(mode="constant", cval=0)``.
   That is the same work: zero boundary, output the size of the input, kernel
   centred (odd kernels, so SciPy's centre and TF's "same" agree). Goal: ratio ≤ 1.0.
2. A filter bank ``(kh, kw, C, F)`` against ``torch.nn.functional.conv2d`` with the
   same explicit zero padding (torch uses its optimised oneDNN kernels).

Every pair is checked for equal results before timing. The two sides run
alternately (so both see the same machine load); each time is the best of
``--repeats`` runs after one warm-up; ratio = cnnkit time / reference time.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable

import numpy as np
import scipy
import scipy.ndimage as ndi
import torch

from cnnkit.ops import correlate2d


def paired_times(
    ours: Callable[[], object], ref: Callable[[], object], repeats: int
) -> tuple[float, float]:
    """Best time of each, measured alternately so both see the same machine load."""
    ours(), ref()
    t_ours, t_ref = [], []
    for _ in range(repeats):
        for fn, times in ((ours, t_ours), (ref, t_ref)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return min(t_ours), min(t_ref)


def single_kernels(repeats: int, rng: np.random.Generator) -> list[tuple[str, float, float]]:
    image = rng.random((1024, 1024), dtype=np.float32)
    rows = []
    for size in (3, 7):
        k = rng.standard_normal((size, size)).astype(np.float32)
        ours = correlate2d(image, k, padding="same")
        ref = ndi.correlate(image, k, mode="constant", cval=0.0)
        np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-4)
        t_ours, t_ref = paired_times(
            lambda k=k: correlate2d(image, k, padding="same"),
            lambda k=k: ndi.correlate(image, k, mode="constant", cval=0.0),
            repeats,
        )
        rows.append((f"1024×1024 f32, {size}×{size} kernel vs scipy.ndimage", t_ours, t_ref))
    return rows


def filter_banks(repeats: int, rng: np.random.Generator) -> list[tuple[str, float, float]]:
    rows = []
    for hw, c, f, k in ((256, 3, 16, 3), (256, 3, 32, 5), (128, 16, 32, 3)):
        x = rng.random((hw, hw, c), dtype=np.float32)
        bank = rng.standard_normal((k, k, c, f)).astype(np.float32)
        p = k // 2
        xt = torch.from_numpy(x).permute(2, 0, 1)[None]
        wt = torch.from_numpy(bank).permute(3, 2, 0, 1).contiguous()

        def reference(xt=xt, wt=wt, p=p):
            with torch.inference_mode():
                return torch.nn.functional.conv2d(xt, wt, padding=p)

        ours = correlate2d(x, bank, padding="same")
        np.testing.assert_allclose(
            ours, reference()[0].permute(1, 2, 0).numpy(), rtol=1e-4, atol=1e-4
        )
        t_ours, t_ref = paired_times(
            lambda x=x, bank=bank: correlate2d(x, bank, padding="same"), reference, repeats
        )
        rows.append((f"{hw}×{hw}×{c} f32, bank {k}×{k}×{c}×{f} vs torch conv2d", t_ours, t_ref))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(
        f"numpy {np.__version__}, scipy {scipy.__version__}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs; best of {args.repeats}"
    )
    print(f"{'case':<58} {'cnnkit ms':>10} {'ref ms':>10} {'ratio':>7}")
    for name, ours, ref in single_kernels(args.repeats, rng) + filter_banks(args.repeats, rng):
        print(f"{name:<58} {ours * 1e3:>10.2f} {ref * 1e3:>10.2f} {ours / ref:>6.2f}×")


if __name__ == "__main__":
    main()
