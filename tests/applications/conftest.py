"""Fixtures for the zoo tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="session")
def parity_input() -> torch.Tensor:
    """The README's fixed input, in cnnkit's channels-last layout: (2, 224, 224, 3)."""
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    return x.permute(0, 2, 3, 1)
