"""Hardware timing of one zoo model: devices x precisions x memory layouts x compile.

Every configuration trains (SGD with momentum, cross-entropy on the model's
output) and runs inference on synthetic data of a fixed shape for ``steps``
timed steps after ``warmup`` untimed ones (the first step of a compiled model
compiles it; that time is reported apart as ``compile_seconds``). Images per
second are ``batch_size * steps / seconds``; CUDA work is synchronised
before each clock read. Each device's first row is fp32, eager, NCHW: the
other rows' ``speedup_*`` are their images per second over that row's.

Layouts. cnnkit layers take channels-last batches and permute them to
NCHW views, so the layout the convolutions see is set by the strides of the
batch and the weights: ``"nchw"`` feeds an NHWC view of contiguous NCHW
storage (its permute back is contiguous NCHW) with contiguous weights;
``"channels_last"`` feeds contiguous NHWC and converts the weights with
``model.to(memory_format=torch.channels_last)``.

Skips, each with one line in ``note``: a CUDA device where none is present,
bf16 where CUDA lacks it, fp16 on a CPU (autocast would emulate it on every
CPU this project targets). bf16 on a CPU without AVX512-BF16/AMX *runs*, and
its note says it is emulated (expect it slower than fp32).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F

from cnnkit._errors import invalid_value, unknown_name
from cnnkit._memory import PeakMemory
from cnnkit.applications import get_model, list_models
from cnnkit.training._engine import autocast_factory, grad_scaler, native_bf16

__all__ = ["DEVICES", "INPUT_SHAPES", "LAYOUTS", "PRECISIONS", "BenchRow", "bench", "skip_reason"]

DEVICES = ("cpu", "cuda")
PRECISIONS = ("fp32", "bf16", "fp16")
LAYOUTS = ("nchw", "channels_last")

#: Default input ``(H, W, C)`` by model; every other zoo model gets ImageNet's 224 x 224 x 3.
INPUT_SHAPES: dict[str, tuple[int, int, int]] = {"lenet5": (28, 28, 1)}
_IMAGENET = (224, 224, 3)


@dataclass
class BenchRow:
    """One configuration's figures (None where skipped). Memory in MiB."""

    model: str
    device: str
    precision: str
    layout: str
    compiled: bool
    status: str  # "ok" or "skipped"
    note: str = ""
    train_images_per_s: float | None = None
    infer_images_per_s: float | None = None
    train_peak_mib: float | None = None
    infer_peak_mib: float | None = None
    compile_seconds: float | None = None
    speedup_train: float | None = None
    speedup_infer: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def skip_reason(device: str, precision: str) -> str | None:
    """One line saying why ``precision`` cannot run on ``device`` here, else None."""
    if device == "cuda" and not torch.cuda.is_available():
        return "no CUDA device (torch.cuda.is_available() is False)"
    if device == "cuda" and precision == "bf16" and not torch.cuda.is_bf16_supported():
        return "this GPU has no bf16 support"
    if device == "cpu" and precision == "fp16":
        return "no native fp16 on CPU (autocast would emulate it)"
    return None


def _note(device: str, precision: str) -> str:
    if device == "cpu" and precision == "bf16" and not native_bf16(torch.device("cpu")):
        return "bf16 emulated (no AVX512-BF16/AMX)"
    return ""


def _choices(values: str | Sequence[str], allowed: Sequence[str], argument: str) -> list[str]:
    names = [v.strip() for v in values.split(",")] if isinstance(values, str) else list(values)
    names = [n for n in names if n]
    if not names:
        raise invalid_value(f"bench: `{argument}` is empty.", received={argument: values})
    for name in names:
        if name not in allowed:
            raise unknown_name(argument.rstrip("s"), name, allowed, argument=argument)
    return list(dict.fromkeys(names))


def _check_count(value: Any, name: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise invalid_value(
            f"bench: `{name}` must be an integer >= {minimum}.", received={name: value}
        )


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(step: Callable[[], Any], warmup: int, steps: int, device: torch.device) -> float:
    """Seconds of ``steps`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        step()
    _synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    _synchronize(device)
    return time.perf_counter() - start


def _batch(shape: tuple[int, int, int], batch: int, layout: str, device: torch.device) -> Any:
    h, w, c = shape
    gen = torch.Generator().manual_seed(0)
    if layout == "nchw":  # an NHWC view whose permute back is contiguous NCHW
        x = torch.randn(batch, c, h, w, generator=gen).to(device).permute(0, 2, 3, 1)
    else:
        x = torch.randn(batch, h, w, c, generator=gen).to(device)
    return x


def _run_one(
    name: str,
    shape: tuple[int, int, int],
    classes: int,
    row: BenchRow,
    *,
    batch_size: int,
    steps: int,
    warmup: int,
) -> None:
    device = torch.device(row.device)
    torch.manual_seed(0)
    model = get_model(name, weights=None, input_shape=shape, classes=classes).to(device)
    if row.layout == "channels_last":
        model = model.to(memory_format=torch.channels_last)
    forward = torch.compile(model) if row.compiled else model
    mixed = None if row.precision == "fp32" else row.precision
    autocast = autocast_factory(mixed, device)
    scaler = grad_scaler(mixed, device)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    x = _batch(shape, batch_size, row.layout, device)
    y = torch.randint(0, classes, (batch_size,), device=device)

    def train_step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with autocast():
            loss = F.cross_entropy(forward(x).float(), y)
        if scaler is None:
            loss.backward()
            optimizer.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()

    @torch.inference_mode()
    def infer_step() -> None:
        with autocast():
            forward(x)

    model.train()
    if row.compiled:  # the first call compiles; time it apart from the steady state
        start = time.perf_counter()
        train_step()
        _synchronize(device)
        row.compile_seconds = time.perf_counter() - start
    with PeakMemory(device) as train_mem:
        seconds = _timed(train_step, warmup, steps, device)
    row.train_images_per_s = batch_size * steps / seconds
    row.train_peak_mib = train_mem.peak_mib
    model.eval()
    with PeakMemory(device) as infer_mem:
        seconds = _timed(infer_step, warmup, steps, device)
    row.infer_images_per_s = batch_size * steps / seconds
    row.infer_peak_mib = infer_mem.peak_mib


def bench(
    model: str = "lenet5",
    *,
    devices: str | Sequence[str] = "cpu",
    precisions: str | Sequence[str] = "fp32",
    channels_last: bool = False,
    compile: bool = False,
    batch_size: int = 64,
    steps: int = 10,
    warmup: int = 2,
    image_size: int | None = None,
    classes: int = 10,
    on_row: Callable[[BenchRow], None] | None = None,
) -> list[BenchRow]:
    """Time training and inference of a zoo model in every asked configuration.

    Args:
        model: A zoo name (``cnnkit.applications.list_models()``), default ``"lenet5"``.
        devices: ``"cpu"``, ``"cuda"`` or both, comma-separated or a list.
        precisions: Any of ``"fp32"``, ``"bf16"``, ``"fp16"`` (autocast; fp16 with a grad scaler).
        channels_last: Also run every configuration in channels_last memory format.
        compile: Also run every configuration through ``torch.compile``.
        batch_size: Images per step (default 64).
        steps: Timed steps per measurement (default 10).
        warmup: Untimed steps before each measurement (default 2).
        image_size: Square input side (default: 28 for lenet5, 224 otherwise).
        classes: Output classes (default 10).
        on_row: Called with each row as soon as it is measured or skipped.

    Returns:
        One :class:`BenchRow` per configuration, each device's fp32 eager NCHW row first.
    """
    if model not in list_models():
        raise unknown_name("model", model, list_models(), argument="model")
    device_names = _choices(devices, DEVICES, "devices")
    precision_names = _choices(precisions, PRECISIONS, "precisions")
    _check_count(batch_size, "batch_size", 1)
    _check_count(steps, "steps", 1)
    _check_count(warmup, "warmup", 0)
    _check_count(classes, "classes", 2)
    shape = INPUT_SHAPES.get(model, _IMAGENET)
    if image_size is not None:
        _check_count(image_size, "image_size", 8)
        shape = (image_size, image_size, shape[2])
    precision_names = ["fp32", *[p for p in precision_names if p != "fp32"]]
    layouts = list(LAYOUTS) if channels_last else ["nchw"]
    compiled = [False, True] if compile else [False]
    rows: list[BenchRow] = []
    for device in device_names:
        base: BenchRow | None = None
        if device == "cuda" and not torch.cuda.is_available():  # one line, not one per config
            rows.append(BenchRow(model, device, "all", "all", compile, "skipped",
                                 skip_reason(device, "fp32") or ""))  # fmt: skip
            if on_row is not None:
                on_row(rows[-1])
            continue
        for precision, layout, comp in itertools.product(precision_names, layouts, compiled):
            row = BenchRow(model, device, precision, layout, comp, "ok", _note(device, precision))
            reason = skip_reason(device, precision)
            if reason is not None and any(r.note == reason for r in rows):
                continue  # one line per reason, not one per layout and compile
            if reason is not None:
                row.status, row.note, row.layout = "skipped", reason, "all"
                row.compiled = compile
            else:
                _run_one(model, shape, classes, row, batch_size=batch_size, steps=steps,
                         warmup=warmup)  # fmt: skip
                base = base or row
                row.speedup_train = row.train_images_per_s / base.train_images_per_s
                row.speedup_infer = row.infer_images_per_s / base.infer_images_per_s
            rows.append(row)
            if on_row is not None:
                on_row(row)
    return rows
