"""cnnkit.explain vs torchcam / captum called directly, in one process, on CPU.

Grad-CAM, Score-CAM (on ``layer4``) and Integrated Gradients (50 steps) for a
ResNet-18 (random weights; no ImageNet ResNet-18 file is reachable here) on
224 x 224 images. The direct calls are what a user writes for a channels-last
model: a module that permutes the input to channels-last, torchcam's
``reshape_transform`` for the layer, the predicted class from the same forward
pass, and the same upsampling and min-max normalisation. Each pair is checked to
give the same maps before its time counts; ratios are cnnkit / direct (lower is
faster). Goals: <= 1.05 for Grad-CAM and IG, <= 0.7 for Score-CAM.

    .venv/bin/python benchmarks/cam.py [--images 16] [--scorecam-images 16] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn


class ChannelsFirst(nn.Module):
    """The direct user's wrapper: torchcam feeds (N, C, H, W); the model takes (N, H, W, C)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x.permute(0, 2, 3, 1))


def normalise(maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    up = F.interpolate(maps[:, None], size, mode="bilinear", align_corners=False)[:, 0]
    low = up.amin(dim=(1, 2), keepdim=True)
    span = up.amax(dim=(1, 2), keepdim=True) - low
    return (up - low) / torch.where(span > 0, span, 1.0)


def torchcam_direct(name: str, model: nn.Module, x: torch.Tensor, **kwargs) -> torch.Tensor:
    from torchcam import methods

    wrapped = ChannelsFirst(model).eval()
    x_nchw = x.permute(0, 3, 1, 2)
    extractor = getattr(methods, name)(
        wrapped, model.layer4, reshape_transform=lambda t: t.permute(0, 3, 1, 2), **kwargs
    )
    with extractor:
        if name == "ScoreCAM":
            with torch.no_grad():
                scores = wrapped(x_nchw)
        else:
            scores = wrapped(x_nchw.detach().requires_grad_(True))
        maps = extractor(class_idx=scores.argmax(1).tolist(), scores=scores, normalized=False)[0]
    return normalise(maps.detach(), tuple(x.shape[1:3]))


def captum_ig(model: nn.Module, x: torch.Tensor, batch: int) -> torch.Tensor:
    from captum.attr import IntegratedGradients

    with torch.no_grad():
        targets = model(x).argmax(1)
    ig = IntegratedGradients(model)
    return ig.attribute(
        x, baselines=torch.zeros_like(x), target=targets, n_steps=50, internal_batch_size=batch
    ).detach()


def alternate(
    direct: Callable[[], object], ours: Callable[[], object], rounds: int
) -> tuple[list[float], list[float], object, object, float]:
    """Run the two sides in turn ``rounds`` times (so load swings hit both alike).

    Returns each side's wall times, the last results, and the mean 1-min load.
    """
    times: tuple[list[float], list[float]] = ([], [])
    results: list[object] = [None, None]
    loads = []
    for _ in range(rounds):
        for side, fn in enumerate((direct, ours)):
            start = time.perf_counter()
            results[side] = fn()
            times[side].append(time.perf_counter() - start)
            loads.append(os.getloadavg()[0])
    return times[0], times[1], results[0], results[1], sum(loads) / len(loads)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--scorecam-images", type=int, default=16)
    parser.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="alternating rounds of Grad-CAM (the best of each side counts)",
    )
    parser.add_argument("--batch", type=int, default=64, help="IG rows per pass (both sides)")
    parser.add_argument("--skip", nargs="*", default=[], choices=["gradcam", "scorecam", "ig"])
    args = parser.parse_args()

    from cnnkit.applications import ResNet18
    from cnnkit.explain import attribute, cam

    torch.manual_seed(0)
    model = ResNet18(weights=None, input_shape=(224, 224, 3), classifier_activation=None).eval()
    x = torch.rand(args.images, 224, 224, 3, generator=torch.Generator().manual_seed(1)) * 255
    print(f"CPU: {cpu_model()}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"ResNet-18 (random weights), {args.images} images 224x224, layer4")
    rows = []

    def pair(label: str, direct: Callable[[], object], ours: Callable[[], object], rounds: int):
        t_direct, t_ours, ref, got, load = alternate(direct, ours, rounds)
        diff = float((torch.as_tensor(got) - torch.as_tensor(ref)).abs().max())
        first, best = t_ours[0] / t_direct[0], min(t_ours) / min(t_direct)
        rows.append((label, min(t_direct), min(t_ours), first, best, diff, load))
        print(
            f"{label:<30} direct {min(t_direct):8.2f} s  cnnkit {min(t_ours):8.2f} s  "
            f"first-call ratio {first:5.3f}  best-of-{rounds} ratio {best:5.3f}  "
            f"max|diff| {diff:.1e}  load {load:.1f}",
            flush=True,
        )

    if "gradcam" not in args.skip:
        pair(
            "Grad-CAM (torchcam)",
            lambda: torchcam_direct("GradCAM", model, x),
            lambda: cam(model, x, method="gradcam"),
            args.repeats,
        )
    if "ig" not in args.skip:
        pair(
            "Integrated Gradients (captum)",
            lambda: captum_ig(model, x, args.batch),
            lambda: attribute(model, x, method="integrated_gradients", batch_size=args.batch),
            1,
        )
    if "scorecam" not in args.skip:
        xs = x[: args.scorecam_images]
        pair(
            f"Score-CAM, {len(xs)} images",
            lambda: torchcam_direct("ScoreCAM", model, xs),
            lambda: cam(model, xs, method="scorecam"),
            1,
        )
    print(
        "\n| method | direct (s) | cnnkit (s) | first-call ratio | best ratio | max diff | load |"
    )
    print("|---|---|---|---|---|---|---|")
    for label, t_d, t_o, first, best, diff, load in rows:
        print(
            f"| {label} | {t_d:.2f} | {t_o:.2f} | {first:.3f} | {best:.3f} "
            f"| {diff:.1e} | {load:.1f} |"
        )


if __name__ == "__main__":
    main()
