"""Benchmark: a CNN built from ``cnnkit.layers`` against the same network in plain PyTorch.

Run: ``python benchmarks/layers_overhead.py [--batch 64] [--repeats 7] [--threads 2]``

Both networks run in this process on the same channels-last batch with the same
weights (the torch modules load the cnnkit state dict directly, which also checks
that the weight names and layouts are torch's):

* cnnkit: Conv2D(32, 3, "same") → BN → ReLU → MaxPool → Conv2D(64, 3, "same") → BN →
  ReLU → MaxPool → Conv2D(128, 3, strides=2, "same") (asymmetric TF padding) →
  GlobalAveragePooling2D → Dense(10), on NHWC tensors.
* torch: the same with nn.Conv2d/BatchNorm2d/… on NCHW tensors in ``channels_last``
  memory, with the one asymmetric pad written by hand, as a careful user would.

Outputs are checked equal first. Times are the best of ``--repeats`` runs after a
warm-up, alternating the two, for inference (``torch.inference_mode``) and for one
training step (forward + backward). Ratio = cnnkit / torch; 1.00 means no overhead.
Because wall-clock times on a shared machine are noisy, the script also lists the
aten operators each inference pass runs (views excluded): identical lists mean
cnnkit's layout handling adds no kernels and no copies, only free views. Use
``--batch 1`` to see the per-call Python overhead.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from cnnkit.layers import (
    BatchNormalization,
    Conv2D,
    Dense,
    GlobalAveragePooling2D,
    Input,
    MaxPooling2D,
    ReLU,
)


def cnnkit_net() -> nn.ModuleList:
    layers = nn.ModuleList(
        [
            Conv2D(32, 3, padding="same"),
            BatchNormalization(),
            ReLU(),
            MaxPooling2D(),
            Conv2D(64, 3, padding="same"),
            BatchNormalization(),
            ReLU(),
            MaxPooling2D(),
            Conv2D(128, 3, strides=2, padding="same"),
            GlobalAveragePooling2D(),
            Dense(10),
        ]
    )
    t = Input(shape=(32, 32, 3))
    for layer in layers:
        t = layer(t)
    return layers


class TorchNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1),
            nn.BatchNorm2d(32, eps=1e-3, momentum=0.01),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.BatchNorm2d(64, eps=1e-3, momentum=0.01),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.conv3 = nn.Conv2d(64, 128, 3, stride=2)
        self.fc = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.body(x)
        x = self.conv3(F.pad(x, (0, 1, 0, 1)))  # TF "same" for 8×8, k=3, s=2
        return self.fc(x.mean(dim=(2, 3)))


def run_cnnkit(layers: nn.ModuleList, x: torch.Tensor) -> torch.Tensor:
    for layer in layers:
        x = layer(x)
    return x


def best_times(
    a: Callable[[], object], b: Callable[[], object], repeats: int
) -> tuple[float, float]:
    """Best time of each, alternating a and b so that load from other processes hits both."""
    a()
    b()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for fn, out in ((a, times[0]), (b, times[1])):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return min(times[0]), min(times[1])


_VIEWS = {"aten::permute", "aten::movedim", "aten::as_strided", "aten::view", "aten::reshape"}


def op_counts(fn: Callable[[], object]) -> dict[str, int]:
    """aten ops run by one inference pass, views left out (they move no data)."""
    with torch.inference_mode(), torch.profiler.profile() as prof:
        fn()
    return {
        e.key: e.count
        for e in prof.key_averages()
        if e.key.startswith("aten::") and e.key not in _VIEWS
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    ours = cnnkit_net()
    ref = TorchNet()
    state = {k: v for k, v in ours.state_dict().items()}
    mapping = dict(zip(ref.state_dict(), state.values(), strict=True))
    ref.load_state_dict(mapping)
    x_nhwc = torch.randn(args.batch, 32, 32, 3)
    x_nchw = x_nhwc.permute(0, 3, 1, 2)  # channels_last memory, the same bytes

    ours.eval()
    ref.eval()
    with torch.inference_mode():
        torch.testing.assert_close(run_cnnkit(ours, x_nhwc), ref(x_nchw), rtol=1e-4, atol=1e-4)

    def infer(fn: Callable[[], torch.Tensor]) -> Callable[[], None]:
        def go() -> None:
            with torch.inference_mode():
                fn()

        return go

    def train(model: nn.Module, fn: Callable[[], torch.Tensor]) -> Callable[[], None]:
        def go() -> None:
            model.zero_grad(set_to_none=True)
            fn().square().mean().backward()

        return go

    rows = []
    t_ours, t_ref = best_times(
        infer(lambda: run_cnnkit(ours, x_nhwc)), infer(lambda: ref(x_nchw)), args.repeats
    )
    rows.append(("inference", t_ours, t_ref))
    ours.train()
    ref.train()
    t_ours, t_ref = best_times(
        train(ours, lambda: run_cnnkit(ours, x_nhwc)), train(ref, lambda: ref(x_nchw)), args.repeats
    )
    rows.append(("train step (fwd+bwd)", t_ours, t_ref))

    ops_ours, ops_ref = op_counts(lambda: run_cnnkit(ours, x_nhwc)), op_counts(lambda: ref(x_nchw))
    same = "identical" if ops_ours == ops_ref else f"DIFFERENT: {ops_ours} vs {ops_ref}"
    copies = (
        f"copy_: cnnkit {ops_ours.get('aten::copy_', 0)}, torch {ops_ref.get('aten::copy_', 0)}"
    )
    print(
        f"non-view aten ops per inference pass: {same} ({sum(ops_ours.values())} calls; {copies})"
    )
    print(f"batch {args.batch} of 32×32×3, torch {torch.__version__}, {args.threads} threads")
    print(f"{'case':<24}{'cnnkit ms':>12}{'torch ms':>12}{'ratio':>8}")
    for name, a, b in rows:
        print(f"{name:<24}{a * 1e3:>12.2f}{b * 1e3:>12.2f}{a / b:>8.2f}")


if __name__ == "__main__":
    main()
