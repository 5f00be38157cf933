"""hf_lrsched.accelerate against accelerate's own AcceleratedScheduler (single process, fast).

``AcceleratedScheduler.step`` steps the wrapped scheduler ``AcceleratorState().num_processes`` times
per optimizer update. Here that state is replaced by a stand-in with two processes, so the real
wrapper code runs as it does under ``accelerate launch --num_processes 2``; the real two-process
run is in ``test_recipes.py``.
"""

from __future__ import annotations

import io
import types

import accelerate.scheduler
import pytest
import torch
from accelerate.scheduler import AcceleratedScheduler

from hf_lrsched import get_scheduler, register_schedule, unregister_schedule
from hf_lrsched.accelerate import (
    adapt_scheduler,
    get_accelerate_scheduler,
    scheduler_steps_per_update,
    step_once_per_update,
)


def _optimizer(kind: str = "adamw", lr: float = 1.0):
    params = [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(2))]
    groups = [{"params": [params[0]]}, {"params": [params[1]], "lr": lr / 10}]
    if kind == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=0.9)
    return torch.optim.AdamW(groups, lr=lr)


def _accelerated(scheduler, optimizer, monkeypatch, num_processes: int):
    """An AcceleratedScheduler that believes it runs in ``num_processes`` processes."""
    state = types.SimpleNamespace(num_processes=num_processes)
    monkeypatch.setattr(accelerate.scheduler, "AcceleratorState", lambda: state)
    wrapped = AcceleratedScheduler(scheduler, types.SimpleNamespace(step_was_skipped=False))
    wrapped.gradient_state = types.SimpleNamespace(sync_gradients=True, adjust_scheduler=False)
    return wrapped


def _per_update(wrapped, optimizer, updates: int, accumulation: int = 1) -> list[tuple]:
    """(lr of each group, momentum of group 0) used at each optimizer update."""
    seen = []
    for _ in range(updates):
        for micro in range(accumulation):
            wrapped.gradient_state.sync_gradients = micro == accumulation - 1
            if wrapped.gradient_state.sync_gradients:
                group = optimizer.param_groups[0]
                momentum = group["betas"][0] if "betas" in group else group["momentum"]
                seen.append((tuple(g["lr"] for g in optimizer.param_groups), momentum))
                optimizer.step()
            wrapped.step()
    return seen


def _pure(name, optimizer_kind, warmup, total, options):
    """The schedule stepped once per update in one process: the reference."""
    optimizer = _optimizer(optimizer_kind)
    scheduler = get_scheduler(name, optimizer, warmup, total, options)
    seen = []
    for _ in range(total):
        group = optimizer.param_groups[0]
        momentum = group["betas"][0] if "betas" in group else group["momentum"]
        seen.append((tuple(g["lr"] for g in optimizer.param_groups), momentum))
        optimizer.step()
        scheduler.step()
    return seen


CASES = [
    ("one_cycle", "adamw", 0, 40, {"pct_start": 0.25}),
    ("one_cycle", "sgd", 0, 30, {"three_phase": True}),
    ("warmup_exponential", "adamw", 5, 40, {"gamma": 0.9}),
    ("warmup_multistep", "sgd", 4, 40, {"milestones": [15, 30], "gamma": 0.5}),
    ("sgdr", "adamw", 3, 40, {"cycle_steps": 7, "cycle_mult": 2}),
    ("cosine", "adamw", 6, 40, {}),
]


@pytest.mark.parametrize("num_processes", [2, 3])
@pytest.mark.parametrize(("name", "kind", "warmup", "total", "options"), CASES)
def test_adapted_scheduler_follows_the_schedule_per_update(
    monkeypatch, num_processes, name, kind, warmup, total, options
):
    optimizer = _optimizer(kind)
    scheduler = adapt_scheduler(get_scheduler(name, optimizer, warmup, total, options), num_processes)
    wrapped = _accelerated(scheduler, optimizer, monkeypatch, num_processes)
    assert _per_update(wrapped, optimizer, total, accumulation=2) == _pure(name, kind, warmup, total, options)


def test_without_the_fix_warmup_ends_num_processes_times_too_early(monkeypatch):
    # The pitfall the helper exists for: 2 processes run a 10-update warmup in 5 updates.
    optimizer = _optimizer()
    scheduler = get_scheduler("warmup_exponential", optimizer, 10, 40, {"gamma": 0.9})
    lrs = [lr[0] for lr, _ in _per_update(_accelerated(scheduler, optimizer, monkeypatch, 2), optimizer, 20)]
    pure = [lr[0] for lr, _ in _pure("warmup_exponential", "adamw", 10, 40, {"gamma": 0.9})]
    assert lrs[5] == pytest.approx(1.0) and pure[5] == pytest.approx(0.5)
    assert lrs[:20] == pytest.approx(pure[0:40:2])


def test_one_cycle_momentum_is_adapted_too(monkeypatch):
    optimizer = _optimizer("adamw")
    scheduler = adapt_scheduler(get_scheduler("one_cycle", optimizer, 0, 20, {"pct_start": 0.5}), 2)
    seen = _per_update(_accelerated(scheduler, optimizer, monkeypatch, 2), optimizer, 20)
    momenta = [m for _, m in seen]
    peak = max(range(20), key=lambda u: seen[u][0][0])
    assert 8 <= peak <= 10 and momenta[0] == pytest.approx(0.95)
    assert momenta[peak] == pytest.approx(0.85) == min(momenta)  # lowest momentum at the LR peak
    assert momenta == [m for _, m in _pure("one_cycle", "adamw", 0, 20, {"pct_start": 0.5})]
    assert scheduler.get_last_momentum() == [pytest.approx(0.95)] * 2  # the end of the cycle, after 20 updates


def test_state_dict_round_trip_resumes_the_same_trajectory(monkeypatch):
    def build():
        optimizer = _optimizer("adamw")
        scheduler = adapt_scheduler(get_scheduler("one_cycle", optimizer, 0, 30, {}), 2)
        return optimizer, scheduler, _accelerated(scheduler, optimizer, monkeypatch, 2)

    optimizer, scheduler, wrapped = build()
    whole = _per_update(wrapped, optimizer, 30)

    optimizer, scheduler, wrapped = build()
    _per_update(wrapped, optimizer, 12)
    buffer = io.BytesIO()
    torch.save({"scheduler": wrapped.state_dict(), "optimizer": optimizer.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    optimizer, scheduler, wrapped = build()
    optimizer.load_state_dict(saved["optimizer"])
    wrapped.load_state_dict(saved["scheduler"])
    assert scheduler.last_epoch == 24  # two scheduler steps per update
    assert _per_update(wrapped, optimizer, 18) == whole[12:]


def test_steps_per_update_follows_accelerate_rules():
    def accelerator(**kw):
        base = dict(num_processes=4, split_batches=False, step_scheduler_with_optimizer=True)
        return types.SimpleNamespace(**{**base, **kw})

    assert scheduler_steps_per_update(accelerator()) == 4
    assert scheduler_steps_per_update(accelerator(num_processes=1)) == 1
    assert scheduler_steps_per_update(accelerator(split_batches=True)) == 1
    assert scheduler_steps_per_update(accelerator(step_scheduler_with_optimizer=False)) == 1


def test_get_accelerate_scheduler_builds_for_real_updates_and_prepares():
    prepared = []
    accelerator = types.SimpleNamespace(
        num_processes=2,
        split_batches=False,
        step_scheduler_with_optimizer=True,
        prepare=lambda s: prepared.append(s) or s,
    )
    optimizer = _optimizer("adamw")
    scheduler = get_accelerate_scheduler(accelerator, "warmup_exponential", optimizer, 0.25, 20, '{"gamma": 0.5}')
    assert prepared == [scheduler]
    lrs = []
    for _ in range(8):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
        scheduler.step()
    assert lrs == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 0.5, 0.25])  # warmup = ceil(0.25 * 20) = 5 updates


def test_adapt_scheduler_rejects_bad_input():
    optimizer = _optimizer("sgd")
    with pytest.raises(ValueError, match="LambdaLR"):
        adapt_scheduler(torch.optim.lr_scheduler.StepLR(optimizer, 3), 2)
    for bad in (0, True, 1.5, "2"):
        with pytest.raises(ValueError, match="steps_per_update"):
            adapt_scheduler(get_scheduler("warmup_step", _optimizer("sgd"), 0, 10), bad)
    used = get_scheduler("warmup_step", optimizer, 0, 10)
    optimizer.step()
    used.step()
    with pytest.raises(ValueError, match="fresh scheduler"):
        adapt_scheduler(used, 2)


def test_one_process_leaves_the_scheduler_untouched():
    scheduler = get_scheduler("warmup_step", _optimizer("sgd"), 0, 10)
    lambdas = list(scheduler.lr_lambdas)
    assert adapt_scheduler(scheduler, 1) is scheduler and scheduler.lr_lambdas == lambdas


# --------------------------------------------------------------------------------------------------
# Schedulers that are not a LambdaLR (a registered schedule built on torch's StepLR / OneCycleLR)
# --------------------------------------------------------------------------------------------------


def _get_torch_step(optimizer, num_warmup_steps, num_training_steps, *, step_size=3):
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=0.5)


def _get_torch_one_cycle(optimizer, num_warmup_steps, num_training_steps):
    return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=num_training_steps)


TORCH_SCHEDULERS = {"test_torch_step": _get_torch_step, "test_torch_one_cycle": _get_torch_one_cycle}


@pytest.fixture
def torch_schedules():
    for name, factory in TORCH_SCHEDULERS.items():
        register_schedule(name, factory)
    yield list(TORCH_SCHEDULERS)
    for name in TORCH_SCHEDULERS:
        unregister_schedule(name)


def _fake_accelerator(monkeypatch, num_processes: int, split_batches: bool = False):
    def prepare(scheduler):
        wrapped = _accelerated(scheduler, optimizer_of[0], monkeypatch, num_processes)
        wrapped.split_batches = split_batches
        return wrapped

    optimizer_of = []
    accelerator = types.SimpleNamespace(
        num_processes=num_processes, split_batches=split_batches, step_scheduler_with_optimizer=True, prepare=prepare
    )
    return accelerator, optimizer_of


@pytest.mark.parametrize("name", list(TORCH_SCHEDULERS))
@pytest.mark.parametrize(("num_processes", "split_batches"), [(1, False), (2, True), (2, False), (3, False)])
def test_any_scheduler_steps_once_per_update(monkeypatch, torch_schedules, name, num_processes, split_batches):
    total, accumulation = 12, 2
    # the reference: the torch scheduler stepped once per update, in one process
    reference_optimizer = _optimizer("sgd")
    reference = TORCH_SCHEDULERS[name](reference_optimizer, 0, total)
    expected = []
    for _ in range(total):
        expected.append(tuple(g["lr"] for g in reference_optimizer.param_groups))
        reference_optimizer.step()
        reference.step()
    accelerator, optimizer_of = _fake_accelerator(monkeypatch, num_processes, split_batches)
    optimizer = _optimizer("sgd")
    optimizer_of.append(optimizer)
    wrapped = get_accelerate_scheduler(accelerator, name, optimizer, 0, total)
    seen = [lrs for lrs, _ in _per_update(wrapped, optimizer, total, accumulation)]
    assert seen == expected
    assert len(set(seen)) > 2  # not a flat curve by accident


def test_without_the_fix_step_lr_runs_num_processes_times_too_fast(monkeypatch):
    optimizer = _optimizer("sgd")
    wrapped = _accelerated(_get_torch_step(optimizer, 0, 12), optimizer, monkeypatch, 2)
    seen = [lrs[0] for lrs, _ in _per_update(wrapped, optimizer, 4)]
    assert seen == [1.0, 1.0, 0.5, 0.25]  # halves every 1.5 updates instead of every 3


def test_step_once_per_update_needs_an_accelerated_scheduler():
    with pytest.raises(ValueError, match="AcceleratedScheduler, got StepLR"):
        step_once_per_update(_get_torch_step(_optimizer("sgd"), 0, 12))


def test_steps_per_update_defaults_when_the_accelerator_lacks_the_flags():
    # an object with only num_processes: the scheduler is stepped with the optimizer, batches not split
    assert scheduler_steps_per_update(types.SimpleNamespace(num_processes=3)) == 3


def test_adapted_lr_holds_within_an_update():
    # between the k scheduler steps of one update the LR stays that of the update (step // k)
    optimizer = _optimizer("sgd")
    scheduler = adapt_scheduler(get_scheduler("warmup_exponential", optimizer, 0, 10, {"gamma": 0.5}), 2)
    seen = []
    for _ in range(3):
        optimizer.step()
        scheduler.step()
        seen.append(scheduler.get_last_lr()[0])
        scheduler.step()
        seen.append(scheduler.get_last_lr()[0])
    assert seen == [1.0, 0.5, 0.5, 0.25, 0.25, 0.125]


def test_adapt_scheduler_messages():
    with pytest.raises(ValueError, match=r"got StepLR; use step_once_per_update on the prepared scheduler instead$"):
        adapt_scheduler(torch.optim.lr_scheduler.StepLR(_optimizer("sgd"), 3), 2)
    optimizer = _optimizer("sgd")
    used = get_scheduler("warmup_step", optimizer, 0, 10)
    optimizer.step()
    used.step()
    with pytest.raises(ValueError, match=r"^adapt_scheduler must be applied to a fresh scheduler \(last_epoch == 0\)$"):
        adapt_scheduler(used, 2)
    with pytest.raises(ValueError, match="AcceleratedScheduler, got SimpleNamespace"):
        step_once_per_update(types.SimpleNamespace(split_batches=False))  # has the flag but wraps nothing
