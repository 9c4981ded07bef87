"""Peak memory of one block of work: CUDA allocator peak, or the CPU process's resident peak.

Kept at the top level, next to ``_io`` and ``_errors``, because both
``cnnkit.baselines`` (the comparison table) and ``cnnkit.bench`` (hardware
timing) measure it and neither may import the other.

On CUDA the figure is ``torch.cuda.max_memory_allocated`` after
``reset_peak_memory_stats``: tensors only, not the allocator's cache or the
CUDA context. On CPU it is the rise of the process's peak resident set
(``VmHWM`` in ``/proc/self/status``) above the resident set at the start,
after resetting that peak by writing ``5`` to ``/proc/self/clear_refs``
(Linux >= 4.0). Where the peak cannot be reset (other systems, locked-down
containers) the figure is ``None`` rather than a lifetime peak that would
belong to an earlier block.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["PeakMemory"]

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_kib(field: str) -> int | None:
    """A ``kB`` field of ``/proc/self/status`` (``VmRSS``, ``VmHWM``), or None."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_rss_peak() -> bool:
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


class PeakMemory:
    """Context manager: ``peak_bytes`` is the block's peak memory (see the module notes).

    Args:
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or a ``torch.device``; default CPU.

    Example:
        >>> with PeakMemory() as mem:
        ...     work()
        >>> mem.peak_bytes  # int, or None where the platform cannot measure it
    """

    def __init__(self, device: Any = "cpu") -> None:
        self.device = str(device)
        self.peak_bytes: int | None = None
        self._start_kib: int | None = None

    @property
    def peak_mib(self) -> float | None:
        """``peak_bytes`` in MiB (None where unmeasured)."""
        return None if self.peak_bytes is None else self.peak_bytes / 2**20

    def __enter__(self) -> PeakMemory:
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._start_kib = torch.cuda.memory_allocated(self.device) // 1024
        elif _reset_rss_peak():
            self._start_kib = _status_kib("VmRSS")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._start_kib is None:
            return
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.synchronize(self.device)
            peak = torch.cuda.max_memory_allocated(self.device)
            self.peak_bytes = max(0, peak - self._start_kib * 1024)
            return
        high = _status_kib("VmHWM")
        if high is not None:
            self.peak_bytes = max(0, (high - self._start_kib) * 1024)
