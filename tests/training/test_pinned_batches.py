"""Per-batch data bound for CUDA goes through pinned memory with a non-blocking copy.

This machine has no GPU, so the two tensor methods that would need one are
replaced by recorders: the test checks what the engine asks for, per batch.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnkit.training._data import SequenceData, as_tensor, to_device


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, object]]:
    calls: list[tuple[str, object]] = []

    def pin_memory(self: torch.Tensor) -> torch.Tensor:
        calls.append(("pin", tuple(self.shape)))
        return self

    def to(self: torch.Tensor, device: object, non_blocking: bool = False) -> torch.Tensor:
        calls.append(("to", (str(device), non_blocking)))
        return self

    monkeypatch.setattr(torch.Tensor, "pin_memory", pin_memory)
    monkeypatch.setattr(torch.Tensor, "to", to)
    return calls


def test_a_cpu_tensor_for_cuda_is_pinned_then_copied_without_blocking(recorded: list) -> None:
    to_device(torch.zeros(2, 3), torch.device("cuda"), pin=True)
    assert recorded == [("pin", (2, 3)), ("to", ("cuda", True))]


@pytest.mark.parametrize(("device", "pin"), [("cpu", True), ("cuda", False)])
def test_no_pinning_for_the_cpu_or_when_not_asked(recorded: list, device: str, pin: bool) -> None:
    to_device(torch.zeros(2), torch.device(device), pin=pin)
    assert recorded == [("to", (device, True))]


def test_sequence_batches_are_pinned_every_one(recorded: list) -> None:
    batches = [(np.ones((4, 3), np.float64), np.arange(4), np.ones(4)) for _ in range(3)]
    data = SequenceData(batches, torch.device("cuda"))
    assert len(list(data.epoch())) == 3
    pinned = [shape for kind, shape in recorded if kind == "pin"]
    assert pinned == [(4, 3), (4,), (4,)] * 3


def test_whole_arrays_are_not_pinned(recorded: list) -> None:
    as_tensor(np.zeros((5, 2), np.uint8), torch.device("cuda"))
    assert [kind for kind, _ in recorded] == ["to"]
