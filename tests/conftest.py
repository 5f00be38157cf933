"""Shared test fixtures."""

from __future__ import annotations

import os

import pytest
import torch
from hypothesis import settings

# In CI the property tests draw the same examples every run, so a red build can be reproduced.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _one_thread():
    """In-process tests use tiny models: on a busy 2-core CPU torch's second thread costs far more than
    it saves (up to 50x measured). The recipe tests' subprocesses set OMP_NUM_THREADS=1 themselves."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def make_optimizer():
    """Build a small optimizer with one param group per base LR (groups differ, as real setups do).

    ``make_optimizer(cls=torch.optim.SGD, lrs=(0.1, 0.03), **optimizer_kwargs)``
    """

    def make(cls=torch.optim.SGD, lrs=(0.1, 0.03), **kwargs):
        groups = [{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": lr} for lr in lrs]
        return cls(groups, **kwargs)

    return make
