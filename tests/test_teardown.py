"""How a run's process group is ended (``hf_lrsched._hf.teardown``, ``hf_lrsched.accelerate.end_training``), in-process.

A real gloo group of one process stands in for a launch; the two-process runs of
``test_no_trainer_scripts.py`` and ``test_recipes.py`` check the exit status of real launches.
"""

from __future__ import annotations

import socket

import pytest
import torch.distributed as dist

from hf_lrsched._hf import teardown as _teardown
from hf_lrsched.accelerate import end_training


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_group() -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{_free_port()}", rank=0, world_size=1)


@pytest.fixture(autouse=True)
def _no_group_left():
    yield
    if dist.is_initialized():
        dist.destroy_process_group()
    _teardown._kept.clear()


def test_a_group_the_script_leaves_is_ended_after_it_returns():
    original = dist.destroy_process_group
    with _teardown.orderly_end():
        start_group()
        assert dist.destroy_process_group is not original  # kept while the script runs
    assert not dist.is_initialized()
    assert dist.destroy_process_group is original and _teardown._kept == []


def test_a_group_the_script_destroys_is_kept_until_the_script_ends():
    with _teardown.orderly_end():
        start_group()
        world = dist.group.WORLD
        dist.destroy_process_group()
        assert not dist.is_initialized() and _teardown._kept == [world]
    assert _teardown._kept == []


@pytest.mark.parametrize("code", [None, 0])
def test_a_script_that_exits_with_status_0_ends_its_group(code):
    with pytest.raises(SystemExit), _teardown.orderly_end():
        start_group()
        raise SystemExit(code)
    assert not dist.is_initialized()


@pytest.mark.parametrize("failure", [SystemExit(2), RuntimeError("boom")])
def test_after_a_failure_the_group_is_left_to_the_launcher(failure):
    # No barrier: the other ranks may be stuck in a collective; the launcher stops them.
    with pytest.raises(type(failure)), _teardown.orderly_end():
        start_group()
        raise failure
    assert dist.is_initialized()


class _Accelerator:
    """Records the calls end_training makes, in order."""

    def __init__(self, num_processes: int):
        self.num_processes = num_processes
        self.calls: list[str] = []

    def wait_for_everyone(self):
        self.calls.append("wait_for_everyone")

    def end_training(self):
        self.calls.append("end_training")
        if dist.is_initialized():
            dist.destroy_process_group()


def test_end_training_waits_keeps_the_group_and_releases_it_at_exit(monkeypatch):
    registered = []
    monkeypatch.setattr(_teardown, "_release_registered", False)
    monkeypatch.setattr(_teardown.atexit, "register", registered.append)
    start_group()
    world = dist.group.WORLD
    accelerator = _Accelerator(num_processes=2)
    end_training(accelerator)
    assert accelerator.calls == ["wait_for_everyone", "end_training"]
    assert not dist.is_initialized() and _teardown._kept == [world]
    assert registered == [_teardown.release]
    registered[0]()
    assert _teardown._kept == []


def test_end_training_with_one_process_is_accelerators_own(monkeypatch):
    registered = []
    monkeypatch.setattr(_teardown.atexit, "register", registered.append)
    accelerator = _Accelerator(num_processes=1)
    end_training(accelerator)
    assert accelerator.calls == ["end_training"] and registered == [] and _teardown._kept == []
