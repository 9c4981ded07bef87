"""The forward pass that ``compile(jit_compile=...)`` asks for, built so compiling pays for itself.

``torch.compile`` is a bet: minutes of compiling against a per-step saving.
The naive ``torch.compile(model)`` loses it in three ways that a course
program hits at once (measured in ``benchmarks/compile.py``, docs/benchmarks.md
``## compile``):

* **On a CPU** convolutions and matmuls already run in oneDNN/MKL kernels, which
  inductor calls as they are; what it fuses (BatchNorm, ReLU, adds) is a small
  part of a step, while compiling the training graph takes minutes. So on CPUs
  cnnkit runs eagerly and says so in one line.
* **Every new shape recompiles**: the ragged last batch of an epoch, the
  evaluate/predict batch size, the one photo given to ``predict``. Here a mode
  (train, evaluate, predict) is compiled for ONE batch shape; smaller
  evaluate/predict batches are padded up to it (eval mode treats rows
  independently) and other shapes run eagerly, which costs one eager step
  instead of a recompile.
* **A short run never earns the compile back.** A mode is compiled only once it
  has spent ``compile_after_s`` seconds running eagerly (the ski-rental rule:
  keep renting until the rent paid equals the price of buying), so a one-epoch
  demo or a one-photo ``predict`` never compiles, and a long run pays at most that
  much eager time before it runs compiled.

Where compiling itself fails (no Triton, an unsupported op) the mode falls back
to eager with a warning rather than stopping the run.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils._pytree import tree_map

from cnnkit._errors import invalid_value

__all__ = ["POLICIES", "AmortizedCompile", "CompilePolicy", "build_forward", "rewrap_forward"]

Compiler = Callable[[nn.Module], Callable[[torch.Tensor], Any]]

#: The longest gap between two calls in one mode counted as eager running time; longer
#: gaps are a user pausing between ``predict`` calls, not work that compiling would save.
_MAX_GAP_S = 5.0


@dataclass(frozen=True)
class CompilePolicy:
    """When ``jit_compile=True`` compiles on one device family.

    Attributes:
        compiles: Whether ``torch.compile`` can beat eager there at all.
        compile_after_s: Eager seconds a mode must run before it is compiled.
        reason: The one line said when ``jit_compile=True`` runs eagerly instead.
    """

    compiles: bool
    compile_after_s: float = math.inf
    reason: str = ""


#: Device type -> policy. Variants are data: add a device family here, not a branch.
POLICIES: dict[str, CompilePolicy] = {
    "cpu": CompilePolicy(
        compiles=False,
        reason=(
            "jit_compile=True: running eagerly on the CPU, where torch.compile spends minutes "
            "compiling and saves little per step (oneDNN already runs the convolutions; see "
            "docs/benchmarks.md '## compile'); on a CUDA GPU cnnkit compiles."
        ),
    ),
    "cuda": CompilePolicy(compiles=True, compile_after_s=60.0),
    "mps": CompilePolicy(
        compiles=False,
        reason="jit_compile=True: running eagerly on MPS, where torch.compile is experimental.",
    ),
}


@dataclass
class _Mode:
    """What one mode (training/eval, grad/inference, autocast) has seen so far."""

    eager_s: float = 0.0
    last_call: float | None = None
    largest: int = 0  # the largest batch seen, so a ragged last batch is never the one compiled
    shape: tuple[int, ...] | None = None  # the one shape compiled for; None: still eager
    failed: bool = False
    calls: dict[str, int] = field(default_factory=lambda: {"eager": 0, "compiled": 0})


class AmortizedCompile:
    """Call ``module`` eagerly until a mode has earned its compile, then compiled.

    Args:
        module: The model (or its DDP wrapper) mapping a batch to outputs.
        compile_after_s: Eager seconds per mode before compiling it (0: at once).
        compiler: Turns ``module`` into its compiled callable; default
            ``torch.compile(module, dynamic=False)``: the shapes that reach it are
            chosen here, so torch's automatic dynamic-shape recompile would only add
            a second compile.
    """

    def __init__(
        self, module: nn.Module, compile_after_s: float, compiler: Compiler | None = None
    ) -> None:
        self.module = module
        self.compile_after_s = compile_after_s
        self.compiler = compiler
        self._compiled = (compiler or _torch_compile)(module)
        self._modes: dict[tuple[Any, ...], _Mode] = {}

    def _mode(self, x: torch.Tensor) -> _Mode:
        # Everything dynamo guards on besides the shape: one compiled graph per key.
        key = (
            x.is_inference(),
            x.dtype,
            self.module.training,
            torch.is_grad_enabled(),
            torch.is_inference_mode_enabled(),
            torch.is_autocast_enabled("cuda"),
            torch.is_autocast_enabled("cpu"),
        )
        return self._modes.setdefault(key, _Mode())

    def __call__(self, x: torch.Tensor) -> Any:
        mode = self._mode(x)
        now = time.perf_counter()
        if mode.shape is None and not mode.failed:
            if mode.last_call is not None:
                mode.eager_s += min(now - mode.last_call, _MAX_GAP_S)
            mode.last_call = now
            mode.largest = max(mode.largest, len(x))
            if mode.eager_s >= self.compile_after_s and len(x) == mode.largest > 1:
                mode.shape = tuple(x.shape)  # this mode has earned its compile
        if mode.shape is not None:
            if tuple(x.shape) == mode.shape:
                return self._run_compiled(mode, x)
            if not self.module.training and self._paddable(x, mode.shape):
                return self._run_padded(mode, x)
        mode.calls["eager"] += 1
        return self.module(x)

    @staticmethod
    def _paddable(x: torch.Tensor, shape: tuple[int, ...]) -> bool:
        return x.dim() == len(shape) and tuple(x.shape[1:]) == shape[1:] and len(x) < shape[0]

    def _run_padded(self, mode: _Mode, x: torch.Tensor) -> Any:
        n = len(x)
        # Repeat the last row: real pixel values keep every op in its usual range. The
        # padded batch must be an inference tensor exactly when ``x`` is (dynamo guards it).
        with torch.inference_mode(x.is_inference()):
            padded = torch.cat([x, x[-1:].expand(mode.shape[0] - n, *x.shape[1:])])
        out = self._run_compiled(mode, padded)
        return tree_map(lambda t: t[:n] if isinstance(t, torch.Tensor) else t, out)

    def _run_compiled(self, mode: _Mode, x: torch.Tensor) -> Any:
        if mode.calls["compiled"] == 0:
            try:
                out = self._compiled(x)
            except Exception as error:  # the compiler's failure, not the model's: eager ran
                mode.shape, mode.failed = None, True
                warnings.warn(
                    f"jit_compile=True: torch.compile failed ({type(error).__name__}: "
                    f"{str(error).splitlines()[0] if str(error) else ''}); running eagerly.",
                    RuntimeWarning,
                    stacklevel=3,
                )
                mode.calls["eager"] += 1
                return self.module(x)
            mode.calls["compiled"] += 1
            return out
        mode.calls["compiled"] += 1
        return self._compiled(x)

    def counts(self) -> dict[str, int]:
        """Calls run eagerly and compiled, over all modes (for tests and benchmarks)."""
        return {
            kind: sum(mode.calls[kind] for mode in self._modes.values())
            for kind in ("eager", "compiled")
        }


def _torch_compile(module: nn.Module) -> Callable[[torch.Tensor], Any]:
    return torch.compile(module, dynamic=False)


def build_forward(
    model: nn.Module,
    jit_compile: Any,
    device: torch.device,
    *,
    policy: CompilePolicy | None = None,
    compiler: Compiler | None = None,
) -> Callable[[torch.Tensor], Any]:
    """The forward callable the trainer uses for ``model`` on ``device``.

    Args:
        model: The model.
        jit_compile: False or None (eager), True (compile where it pays; one line
            where it runs eagerly instead) or ``"auto"`` (the same, silently; Keras 3's
            default).
        device: The device the model runs on; its type picks the :data:`POLICIES` row.
        policy: Overrides the device's policy.
        compiler: Overrides ``torch.compile(module, dynamic=False)``.

    Returns:
        ``model`` itself, or an :class:`AmortizedCompile` around it.

    Raises:
        ValueError: for a ``jit_compile`` that is not False, True or ``"auto"``.
    """
    if not (jit_compile is None or isinstance(jit_compile, bool) or jit_compile == "auto"):
        raise invalid_value(
            "compile(): `jit_compile` must be False, True or 'auto'.",
            received={"jit_compile": jit_compile},
            choices=["False", "True", "auto"],
        )
    if not jit_compile:
        return model
    chosen = policy or POLICIES.get(device.type, POLICIES["mps"])
    if not chosen.compiles:
        if jit_compile is True:
            warnings.warn(chosen.reason, UserWarning, stacklevel=4)
        return model
    return AmortizedCompile(model, chosen.compile_after_s, compiler=compiler)


def rewrap_forward(forward: Callable[[torch.Tensor], Any], module: nn.Module) -> Any:
    """``module`` (e.g. a DDP wrapper) under the same compile rule as ``forward``."""
    if isinstance(forward, AmortizedCompile):
        return AmortizedCompile(module, forward.compile_after_s, compiler=forward.compiler)
    return module
