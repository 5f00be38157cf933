"""Shared test fixtures."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture
def make_optimizer():
    """Build a small optimizer with one param group per base LR (groups differ, as real setups do).

    ``make_optimizer(cls=torch.optim.SGD, lrs=(0.1, 0.03), **optimizer_kwargs)``
    """

    def make(cls=torch.optim.SGD, lrs=(0.1, 0.03), **kwargs):
        groups = [{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": lr} for lr in lrs]
        return cls(groups, **kwargs)

    return make
