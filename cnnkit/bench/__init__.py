"""Hardware timing: training and inference images per second of a zoo model by device,
precision (fp32/bf16/fp16 autocast), memory layout (NCHW/channels_last) and ``torch.compile``.

``bench("resnet18", devices="cpu,cuda", precisions="fp32,bf16")`` returns one row per
configuration; ``print_bench``/``write_bench`` show them as a table and JSON.
``cnnkit bench`` is the same from the command line.
"""

from cnnkit.bench._bench import (
    DEVICES,
    INPUT_SHAPES,
    LAYOUTS,
    PRECISIONS,
    BenchRow,
    bench,
    skip_reason,
)
from cnnkit.bench._report import bench_meta, print_bench, write_bench

__all__ = [
    "DEVICES",
    "INPUT_SHAPES",
    "LAYOUTS",
    "PRECISIONS",
    "BenchRow",
    "bench",
    "bench_meta",
    "print_bench",
    "skip_reason",
    "write_bench",
]
