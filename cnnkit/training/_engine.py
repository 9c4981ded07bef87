"""Engine settings resolved once per ``compile``: device, precision, threads, seeds.

Kept apart from the training loop so the loop only reads ready-made objects
(an autocast context factory, a grad scaler or None, a device).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Any

import torch

from cnnkit._errors import invalid_type, invalid_value

__all__ = [
    "apply_channels_last",
    "autocast_factory",
    "configure_threads",
    "fast_precision",
    "grad_scaler",
    "native_bf16",
    "resolve_device",
    "usable_cpus",
]

_DEVICES = ("auto", "cpu", "cuda", "mps")
_PRECISIONS = {"bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(device: Any) -> torch.device:
    """``"auto"`` -> cuda, else mps, else cpu; also accepts ``"cuda:1"`` or a torch.device."""
    if isinstance(device, torch.device):
        return device
    if not isinstance(device, str) or device.split(":")[0] not in _DEVICES:
        raise invalid_value(
            "compile(): unknown `device`.", received={"device": device}, choices=list(_DEVICES)
        )
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise invalid_value(
            "compile(): `device='cuda'` was asked for but no CUDA GPU is available.",
            received={"device": device},
            hint="Use device='auto' to fall back to the CPU.",
        )
    return torch.device(device)


def autocast_factory(
    mixed_precision: Any, device: torch.device
) -> Callable[[], contextlib.AbstractContextManager[Any]]:
    """A zero-argument factory of the forward-pass context (autocast or a no-op)."""
    if mixed_precision is None:
        return contextlib.nullcontext
    if mixed_precision not in _PRECISIONS:
        raise invalid_value(
            "compile(): unknown `mixed_precision`.",
            received={"mixed_precision": mixed_precision},
            choices=["None", *_PRECISIONS],
        )
    dtype = _PRECISIONS[mixed_precision]
    return lambda: torch.autocast(device_type=device.type, dtype=dtype)


def grad_scaler(mixed_precision: Any, device: torch.device) -> torch.amp.GradScaler | None:
    """fp16 needs loss scaling so small gradients do not underflow; bf16 does not."""
    if mixed_precision != "fp16":
        return None
    return torch.amp.GradScaler(device.type)


def apply_channels_last(model: torch.nn.Module, channels_last: Any) -> None:
    """Convert ``model``'s 4-D weights to ``torch.channels_last`` when asked.

    cnnkit layers already hand convolutions channels-last batches (the
    boundary permute of an NHWC batch); converting the weights too lets
    oneDNN/cuDNN pick NHWC kernels without a layout conversion per call.
    Saving stays unchanged: weights are made contiguous when written.
    """
    if not isinstance(channels_last, bool):
        raise invalid_type(
            "compile(): `channels_last` must be True or False.",
            received={"channels_last": channels_last},
        )
    if channels_last:
        model.to(memory_format=torch.channels_last)


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS/Windows have no affinity API
        return os.cpu_count() or 1


def configure_threads() -> None:
    """Never run more intra-op threads than the CPUs this process may use.

    torch counts the host's cores; inside a container or a CPU-pinned job that
    oversubscribes and slows every convolution down.
    """
    usable = usable_cpus()
    if torch.get_num_threads() > usable:
        torch.set_num_threads(usable)


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 natively (CUDA with bf16, or a CPU with
    AVX512-BF16 or AMX); elsewhere autocast emulates it, slower than float32."""
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        cpu = getattr(torch, "cpu", None)
        checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
        return any(getattr(cpu, c, lambda: False)() for c in checks)
    return False


def fast_precision() -> str | None:
    """``"bf16"`` where the default device computes bfloat16 natively, else None.

    The default device is CUDA, else MPS (never bf16 here), else the CPU; see
    :func:`native_bf16`.
    """
    if torch.cuda.is_available():
        return "bf16" if native_bf16(torch.device("cuda")) else None
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return None
    return "bf16" if native_bf16(torch.device("cpu")) else None
