"""What cnnkit's CPU defaults choose on this CPU, and whether each choice is the fast one.

The defaults that depend on the CPU family:

- **precision**: ``fast_precision()`` picks bf16 autocast only where the CPU computes
  bfloat16 natively (AVX512-BF16 or AMX), else float32;
- **layout**: convolutions see NHWC activations as channels_last NCHW (free permute);
- **threads**: ``configure_threads()`` never runs more intra-op threads than usable CPUs.

This script prints the CPU's capabilities and those choices, then times one training
step of the two networks the CLI trains on MNIST (the default recipe's ``mnist_net``,
batch 256, and LeNet-5, batch 64), written in plain torch, under every alternative:
float32 in contiguous NCHW, float32 in channels_last, bf16 autocast in channels_last.
All in ONE process, the variants interleaved, median of the rounds.

Usage::

    .venv/bin/python benchmarks/cpu_defaults.py
    ATEN_CPU_CAPABILITY=avx2 .venv/bin/python benchmarks/cpu_defaults.py
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

from cnnkit.training._engine import configure_threads, fast_precision, usable_cpus


def mnist_net() -> nn.Sequential:
    blocks: list[nn.Module] = []
    for cin, cout, pad in ((1, 16, 1), (16, 32, 1), (32, 64, 0)):
        blocks += [nn.Conv2d(cin, cout, 3, padding=pad, bias=False), nn.BatchNorm2d(cout),
                   nn.ReLU(), nn.MaxPool2d(2)]  # fmt: skip
    return nn.Sequential(*blocks, nn.Flatten(), nn.Linear(256, 10))


def lenet5() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 6, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84),
        nn.ReLU(), nn.Linear(84, 10),
    )  # fmt: skip


VARIANTS = {
    "float32 contiguous": (torch.contiguous_format, None),
    "float32 channels_last": (torch.channels_last, None),
    "bf16 channels_last": (torch.channels_last, torch.bfloat16),
}


def step_seconds(build, batch: int, layout, dtype, steps: int) -> float:
    torch.manual_seed(0)
    net = build().to(memory_format=layout)
    opt = torch.optim.Adam(net.parameters())
    x = torch.rand(batch, 1, 28, 28).contiguous(memory_format=layout)
    y = torch.randint(0, 10, (batch,))
    context = (lambda: torch.autocast("cpu", dtype=dtype)) if dtype else contextlib.nullcontext
    for i in range(steps + 2):  # two warm-up steps
        if i == 2:
            start = time.perf_counter()
        with context():
            loss = F.cross_entropy(net(x).float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    configure_threads()
    cpu = torch.cpu
    flags = {name: getattr(cpu, f"_is_{name}_supported", lambda: None)()
             for name in ("avx2", "avx512", "avx512_bf16", "amx_tile")}  # fmt: skip
    forced = os.environ.get("ATEN_CPU_CAPABILITY", "unset")
    print(f"torch {torch.__version__}; ATen dispatch {torch.backends.cpu.get_cpu_capability()} "
          f"(ATEN_CPU_CAPABILITY={forced}); {flags}")  # fmt: skip
    print(f"cnnkit chooses: precision {fast_precision() or 'float32'}, layout channels_last, "
          f"{torch.get_num_threads()} threads ({usable_cpus()} usable CPUs); "
          f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
    for name, build, batch in (("mnist_net", mnist_net, 256), ("lenet5", lenet5, 64)):
        times: dict[str, list[float]] = {v: [] for v in VARIANTS}
        for _ in range(args.rounds):
            for variant, (layout, dtype) in VARIANTS.items():
                times[variant].append(step_seconds(build, batch, layout, dtype, args.steps))
        base = statistics.median(times["float32 channels_last"])
        for variant, values in times.items():
            median = statistics.median(values)
            print(f"  {name:9s} batch {batch:3d}  {variant:22s} {median * 1e3:7.1f} ms/step  "
                  f"{median / base:5.2f}x the default")  # fmt: skip
    print(f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
