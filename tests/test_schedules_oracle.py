"""Exactness: each factory against torch's own scheduler (and transformers' warmup), stepped the same way.

``T`` optimizer steps use the LRs of scheduler steps ``0 .. T-1``; every group's LR (and momentum)
is compared at each of them. Without warmup and floor our schedules must equal
``ExponentialLR``, ``StepLR``, ``MultiStepLR``, ``OneCycleLR`` and ``CosineAnnealingWarmRestarts``
to 1e-12 relative over 5,000 steps, with two param groups of different base LRs.
"""

from __future__ import annotations

import io
import math

import pytest
import torch
from torch.optim import lr_scheduler as torch_sched
from transformers import get_linear_schedule_with_warmup

import hf_lrsched
from hf_lrsched import schedules
from hf_lrsched.factories import (
    get_exponential_schedule_with_warmup,
    get_multistep_schedule_with_warmup,
    get_one_cycle_schedule,
    get_sgdr_schedule_with_warmup,
    get_step_schedule_with_warmup,
)

T = 5000
RTOL = 1e-12
LRS = (0.1, 0.03)


def momentum_of(group: dict) -> float:
    return group["betas"][0] if "betas" in group else group["momentum"]


def trajectory(scheduler, optimizer, steps: int, *, momentum: bool = False) -> list[list[float]]:
    """Per step: every group's LR (then momentum) as the optimizer uses it, then one update."""
    rows = []
    for _ in range(steps):
        row = [group["lr"] for group in optimizer.param_groups]
        if momentum:
            row += [momentum_of(group) for group in optimizer.param_groups]
        rows.append(row)
        optimizer.step()
        scheduler.step()
    return rows


def assert_trajectories_match(ours, theirs, *, rtol: float = RTOL, atol=0.0) -> None:
    """``|ours - theirs| <= rtol * |theirs| + atol`` at every step and column (atol may be per column)."""
    assert len(ours) == len(theirs)
    atols = atol if isinstance(atol, (list, tuple)) else [atol] * len(ours[0])
    worst = (0.0, None)
    for step, (row, ref_row) in enumerate(zip(ours, theirs, strict=True)):
        for col, (value, ref) in enumerate(zip(row, ref_row, strict=True)):
            assert math.isfinite(value), f"step {step} column {col}: {value}"
            assert math.isfinite(ref), f"step {step} column {col}: torch gives {ref}"  # NaN would compare false
            excess = abs(value - ref) - (rtol * abs(ref) + atols[col])
            if excess > worst[0]:
                worst = (excess, (step, col, value, ref))
    assert worst[1] is None, "step {}, column {}: ours {!r} vs torch {!r}".format(*worst[1])


@pytest.mark.parametrize(
    "ours, theirs",
    [([[1.0]], [[math.nan]]), ([[1.0]], [[math.inf]]), ([[math.nan]], [[1.0]]), ([[1.0, 1.0]], [[1.0, 1.1]])],
)
def test_assert_trajectories_match_fails_on_nan_and_differences(ours, theirs):
    with pytest.raises(AssertionError):
        assert_trajectories_match(ours, theirs)


# --------------------------------------------------------------------------------------------------
# ExponentialLR, StepLR, MultiStepLR
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options, torch_gamma",
    [
        ({"gamma": 0.999}, 0.999),
        ({"gamma": 0.9}, 0.9),
        ({"gamma": 1.0}, 1.0),
        ({"final_lr_ratio": 0.01}, 0.01 ** (1 / T)),
        ({"final_lr_ratio": 1e-4}, 1e-4 ** (1 / T)),
        ({}, 0.01 ** (1 / T)),  # documented default: end at 1% of the peak
    ],
)
def test_exponential_equals_exponential_lr(make_optimizer, options, torch_gamma):
    ours_opt, torch_opt = make_optimizer(lrs=LRS), make_optimizer(lrs=LRS)
    ours = get_exponential_schedule_with_warmup(ours_opt, 0, T, **options)
    theirs = torch_sched.ExponentialLR(torch_opt, gamma=torch_gamma)
    assert_trajectories_match(trajectory(ours, ours_opt, T), trajectory(theirs, torch_opt, T))


@pytest.mark.parametrize(
    "step_size, torch_step_size, gamma",
    [(7, 7, 0.9), (500, 500, 0.5), (1, 1, 0.999), (0.1, 500, 0.3), (1666, 1666, 0.1)],
)
def test_step_equals_step_lr(make_optimizer, step_size, torch_step_size, gamma):
    ours_opt, torch_opt = make_optimizer(lrs=LRS), make_optimizer(lrs=LRS)
    ours = get_step_schedule_with_warmup(ours_opt, 0, T, step_size=step_size, gamma=gamma)
    theirs = torch_sched.StepLR(torch_opt, step_size=torch_step_size, gamma=gamma)
    assert_trajectories_match(trajectory(ours, ours_opt, T), trajectory(theirs, torch_opt, T))


@pytest.mark.parametrize(
    "milestones, torch_milestones, gamma",
    [
        ([60, 120, 160], [60, 120, 160], 0.2),  # the seed example, verbatim
        ([1, 2, 3, 4999], [1, 2, 3, 4999], 0.5),
        ([0.3, 0.6, 0.9], [1500, 3000, 4500], 0.1),  # fractions of training
        ([100, 0.5], [100, 2500], 0.7),  # steps and fractions mixed
    ],
)
def test_multistep_equals_multistep_lr(make_optimizer, milestones, torch_milestones, gamma):
    ours_opt, torch_opt = make_optimizer(lrs=LRS), make_optimizer(lrs=LRS)
    ours = get_multistep_schedule_with_warmup(ours_opt, 0, T, milestones=milestones, gamma=gamma)
    theirs = torch_sched.MultiStepLR(torch_opt, milestones=torch_milestones, gamma=gamma)
    assert_trajectories_match(trajectory(ours, ours_opt, T), trajectory(theirs, torch_opt, T))


def test_seed_example_through_get_scheduler(make_optimizer):
    ours_opt, torch_opt = make_optimizer(lrs=LRS), make_optimizer(lrs=LRS)
    ours = hf_lrsched.get_scheduler("warmup_multistep", ours_opt, 0, 200, {"milestones": [60, 120, 160], "gamma": 0.2})
    theirs = torch_sched.MultiStepLR(torch_opt, milestones=[60, 120, 160], gamma=0.2)
    rows = trajectory(ours, ours_opt, 200)
    assert_trajectories_match(rows, trajectory(theirs, torch_opt, 200))
    # the drops land exactly on the milestones
    assert rows[59][0] == 0.1 and rows[60][0] == pytest.approx(0.02, rel=1e-15)
    assert rows[199][1] == pytest.approx(0.03 * 0.2**3, rel=1e-15)


# --------------------------------------------------------------------------------------------------
# OneCycleLR: LR and momentum (SGD momentum, AdamW beta1)
# --------------------------------------------------------------------------------------------------

OPTIMIZERS = {
    "sgd": (torch.optim.SGD, {"momentum": 0.9}),
    "adamw": (torch.optim.AdamW, {"betas": (0.9, 0.98)}),
}


def _one_cycle_atol(anneal_strategy: str, max_lrs) -> list[float]:
    # torch's linear anneal, (end - start) * pct + start, cancels near the end of a phase: its own
    # rounding error there is ~eps * max_lr, which is >1e-12 of the tiny final LR (max_lr / 2.5e5).
    # No multiplier formulation can reproduce that rounding, so linear gets an ulp of max_lr on top.
    if anneal_strategy == "cos":
        return [0.0] * (2 * len(max_lrs))
    return [2 * 2.0**-52 * lr for lr in max_lrs] + [0.0] * len(max_lrs)


@pytest.mark.parametrize("optimizer_name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize("anneal_strategy", ["cos", "linear"])
def test_one_cycle_equals_one_cycle_lr(make_optimizer, optimizer_name, three_phase, anneal_strategy):
    cls, kwargs = OPTIMIZERS[optimizer_name]
    ours_opt, torch_opt = make_optimizer(cls, lrs=LRS, **kwargs), make_optimizer(cls, lrs=LRS, **kwargs)
    max_lr = [0.5, 0.2]  # per group, replacing the groups' LRs as torch does
    common = dict(pct_start=0.25, anneal_strategy=anneal_strategy, three_phase=three_phase)
    ours = get_one_cycle_schedule(ours_opt, 0, T, max_lr=max_lr, **common)
    theirs = torch_sched.OneCycleLR(torch_opt, max_lr=max_lr, total_steps=T, **common)
    assert_trajectories_match(
        trajectory(ours, ours_opt, T, momentum=True),
        trajectory(theirs, torch_opt, T, momentum=True),
        atol=_one_cycle_atol(anneal_strategy, max_lr),
    )
    if optimizer_name == "adamw":  # only beta1 is cycled
        assert [group["betas"][1] for group in ours_opt.param_groups] == [0.98, 0.98]


@pytest.mark.parametrize(
    "ours_options, torch_options",
    [
        # defaults: max_lr = each group's LR, pct_start 0.3, momentum 0.85..0.95
        ({}, {"max_lr": list(LRS)}),
        # pct_start derived from num_warmup_steps
        ({"num_warmup_steps": 1000}, {"max_lr": list(LRS), "pct_start": 0.2}),
        ({"num_warmup_steps": 0.1}, {"max_lr": list(LRS), "pct_start": 0.1}),
        # one max_lr for all groups, other factors, per-group momentum bounds
        (
            {
                "max_lr": 0.4,
                "pct_start": 0.45,
                "div_factor": 10.0,
                "final_div_factor": 100.0,
                "base_momentum": [0.8, 0.7],
                "max_momentum": [0.9, 0.99],
            },
            {
                "max_lr": 0.4,
                "pct_start": 0.45,
                "div_factor": 10.0,
                "final_div_factor": 100.0,
                "base_momentum": [0.8, 0.7],
                "max_momentum": [0.9, 0.99],
            },
        ),
        (
            {"pct_start": 0.123, "three_phase": True, "base_momentum": 0.5, "max_momentum": 0.6},
            {"max_lr": list(LRS), "pct_start": 0.123, "three_phase": True, "base_momentum": 0.5, "max_momentum": 0.6},
        ),
    ],
)
@pytest.mark.parametrize("optimizer_name", sorted(OPTIMIZERS))
def test_one_cycle_options_equal_one_cycle_lr(make_optimizer, optimizer_name, ours_options, torch_options):
    cls, kwargs = OPTIMIZERS[optimizer_name]
    ours_opt, torch_opt = make_optimizer(cls, lrs=LRS, **kwargs), make_optimizer(cls, lrs=LRS, **kwargs)
    ours_options = dict(ours_options)
    warmup = ours_options.pop("num_warmup_steps", 0)
    ours = get_one_cycle_schedule(ours_opt, warmup, T, **ours_options)
    theirs = torch_sched.OneCycleLR(torch_opt, total_steps=T, **torch_options)
    assert_trajectories_match(
        trajectory(ours, ours_opt, T, momentum=True), trajectory(theirs, torch_opt, T, momentum=True)
    )


def test_one_cycle_without_momentum_cycles_lr_only(make_optimizer):
    ours_opt, torch_opt = make_optimizer(torch.optim.Adagrad), make_optimizer(torch.optim.Adagrad)
    with pytest.warns(UserWarning, match="Adagrad has no momentum or betas"):
        ours = get_one_cycle_schedule(ours_opt, 0, 500)
    theirs = torch_sched.OneCycleLR(torch_opt, max_lr=list(LRS), total_steps=500, cycle_momentum=False)
    assert ours.get_last_momentum() is None
    assert_trajectories_match(trajectory(ours, ours_opt, 500), trajectory(theirs, torch_opt, 500))


@pytest.mark.parametrize("anneal_strategy", ["cos", "linear"])
@pytest.mark.parametrize("three_phase", [False, True])
def test_one_cycle_holds_final_value_past_the_end(make_optimizer, anneal_strategy, three_phase):
    # Deliberate deviation: OneCycleLR extrapolates at step T (negative with linear anneal) and raises
    # after it; a Trainer that steps once more, or a resumed run, must not crash or go negative.
    total = 100
    opt = make_optimizer(torch.optim.SGD, lrs=LRS, momentum=0.9)
    sched = get_one_cycle_schedule(opt, 0, total, anneal_strategy=anneal_strategy, three_phase=three_phase)
    rows = trajectory(sched, opt, 10 * total, momentum=True)
    final = rows[total - 1]
    assert final[0] == pytest.approx(LRS[0] / 25 / 1e4, rel=1e-9)
    assert final[2] == 0.95
    assert all(row == final for row in rows[total - 1 :])
    lr_mult = schedules.one_cycle_schedule(total, anneal_strategy=anneal_strategy, three_phase=three_phase)
    assert lr_mult(10**12) == lr_mult(total) == lr_mult(total - 1) > 0


# --------------------------------------------------------------------------------------------------
# CosineAnnealingWarmRestarts
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cycle_steps, torch_t0",
    [(37, 37), (500, 500), (0.1, 500), (1, 1), (4999, 4999)],
)
@pytest.mark.parametrize("cycle_mult", [1, 2, 3])
def test_sgdr_equals_cosine_annealing_warm_restarts(make_optimizer, cycle_steps, torch_t0, cycle_mult):
    ours_opt, torch_opt = make_optimizer(lrs=LRS), make_optimizer(lrs=LRS)
    if cycle_steps == 1 and cycle_mult == 1:  # a restart every step: torch's curve is a constant peak
        with pytest.raises(ValueError, match="cycle_steps=1 .*never anneal"):
            get_sgdr_schedule_with_warmup(ours_opt, 0, T, cycle_steps=1, cycle_mult=1)
        return
    ours = get_sgdr_schedule_with_warmup(ours_opt, 0, T, cycle_steps=cycle_steps, cycle_mult=cycle_mult)
    theirs = torch_sched.CosineAnnealingWarmRestarts(torch_opt, T_0=torch_t0, T_mult=cycle_mult)
    assert_trajectories_match(trajectory(ours, ours_opt, T), trajectory(theirs, torch_opt, T))


@pytest.mark.parametrize("min_lr_ratio", [0.05, 0.5, 0.999])
@pytest.mark.parametrize("cycle_mult", [1, 2])
def test_sgdr_floor_equals_eta_min(make_optimizer, min_lr_ratio, cycle_mult):
    # torch's eta_min is one absolute LR; ours is a ratio of each group's base LR, so each group is
    # compared with its own CosineAnnealingWarmRestarts(eta_min=min_lr_ratio * base_lr).
    ours_opt = make_optimizer(lrs=LRS)
    ours = get_sgdr_schedule_with_warmup(
        ours_opt, 0, T, cycle_steps=300, cycle_mult=cycle_mult, min_lr_ratio=min_lr_ratio
    )
    ours_rows = trajectory(ours, ours_opt, T)
    for index, lr in enumerate(LRS):
        torch_opt = make_optimizer(lrs=(lr,))
        theirs = torch_sched.CosineAnnealingWarmRestarts(
            torch_opt, T_0=300, T_mult=cycle_mult, eta_min=min_lr_ratio * lr
        )
        assert_trajectories_match([[row[index]] for row in ours_rows], trajectory(theirs, torch_opt, T))


# --------------------------------------------------------------------------------------------------
# transformers' linear warmup
# --------------------------------------------------------------------------------------------------

WARMUP_FACTORIES = {
    "warmup_exponential": (get_exponential_schedule_with_warmup, {"gamma": 0.99}),
    "warmup_step": (get_step_schedule_with_warmup, {"step_size": 50}),
    "warmup_multistep": (get_multistep_schedule_with_warmup, {"milestones": [300, 600]}),
    "sgdr": (get_sgdr_schedule_with_warmup, {"cycle_steps": 100, "min_lr_ratio": 0.1}),
    "sequential": (hf_lrsched.get_sequential_schedule, {"phases": [{"schedule": "constant"}]}),
    "wsd": (hf_lrsched.get_wsd_schedule, {"decay_length": 0.1}),
}


@pytest.mark.parametrize("name", sorted(WARMUP_FACTORIES))
@pytest.mark.parametrize("warmup", [1, 7, 250])
def test_linear_warmup_equals_transformers(make_optimizer, name, warmup):
    factory, options = WARMUP_FACTORIES[name]
    total = 1000
    ours_opt, hf_opt = make_optimizer(lrs=LRS), make_optimizer(lrs=LRS)
    ours = factory(ours_opt, warmup, total, warmup_type="linear", warmup_start_ratio=0.0, **options)
    theirs = get_linear_schedule_with_warmup(hf_opt, warmup, total)
    ours_rows, hf_rows = trajectory(ours, ours_opt, warmup + 1), trajectory(theirs, hf_opt, warmup + 1)
    assert ours_rows == hf_rows  # bit for bit, through the peak at step `warmup`
    assert ours_rows[warmup] == list(LRS)


# --------------------------------------------------------------------------------------------------
# Wiring, not an oracle: factory LR == base LR * the pure builder's multiplier. Both sides come from
# hf_lrsched, so a wrong formula moves both; what checks the formulas are the torch oracles above
# (which drive the factories themselves) and the hand-computed tables in test_schedules_tables.py.
# --------------------------------------------------------------------------------------------------

FACTORY_CASES = [
    (
        get_exponential_schedule_with_warmup,
        schedules.exponential_schedule,
        {"gamma": 0.98, "staircase_steps": 5, "min_lr_ratio": 0.1, "warmup_type": "cosine", "warmup_start_ratio": 0.1},
    ),
    (
        get_exponential_schedule_with_warmup,
        schedules.exponential_schedule,
        {"final_lr_ratio": 0.05, "warmup_type": "exponential", "warmup_start_ratio": 0.01},
    ),
    (get_step_schedule_with_warmup, schedules.step_schedule, {"step_size": 0.1, "gamma": 0.5, "min_lr_ratio": 0.2}),
    (
        get_multistep_schedule_with_warmup,
        schedules.multistep_schedule,
        {"milestones": [60, 120, 160], "gamma": 0.2, "warmup_type": "exponential", "warmup_start_ratio": 0.5},
    ),
    (get_multistep_schedule_with_warmup, schedules.multistep_schedule, {}),
    (
        get_sgdr_schedule_with_warmup,
        schedules.sgdr_schedule,
        {"cycle_steps": 20, "cycle_mult": 2, "cycle_decay": 0.7, "min_lr_ratio": 0.05},
    ),
]


@pytest.mark.parametrize("factory, builder, options", FACTORY_CASES)
def test_factory_lr_is_base_lr_times_builder(make_optimizer, factory, builder, options):
    total, warmup = 200, 15
    opt = make_optimizer(lrs=LRS)
    sched = factory(opt, warmup, total, **options)
    multiplier = builder(warmup, total, **options)
    for step, row in enumerate(trajectory(sched, opt, total + 20)):
        assert row == [lr * multiplier(step) for lr in LRS], step


@pytest.mark.parametrize("optimizer_name", sorted(OPTIMIZERS))
def test_one_cycle_factory_is_builders(make_optimizer, optimizer_name):
    cls, kwargs = OPTIMIZERS[optimizer_name]
    total = 200
    opt = make_optimizer(cls, lrs=LRS, **kwargs)
    common = {"pct_start": 0.3, "anneal_strategy": "linear", "three_phase": True}
    sched = get_one_cycle_schedule(
        opt,
        0,
        total,
        div_factor=5.0,
        final_div_factor=50.0,
        min_lr_ratio=0.001,
        base_momentum=[0.8, 0.7],
        max_momentum=0.9,
        **common,
    )
    lr_mult = schedules.one_cycle_schedule(total, div_factor=5.0, final_div_factor=50.0, min_lr_ratio=0.001, **common)
    momenta = [
        schedules.one_cycle_momentum_schedule(total, base_momentum=low, max_momentum=0.9, **common)
        for low in (0.8, 0.7)
    ]
    for step, row in enumerate(trajectory(sched, opt, total + 20, momentum=True)):
        expected = [lr * lr_mult(step) for lr in LRS] + [m(step) for m in momenta]
        assert row == expected, step
    assert sched.get_last_momentum() == [m(total + 20) for m in momenta]


# --------------------------------------------------------------------------------------------------
# Checkpoints: weights_only-loadable state, bit-identical continuation
# --------------------------------------------------------------------------------------------------

CHECKPOINT_CASES = {
    "warmup_exponential": (torch.optim.SGD, {}, {"gamma": 0.97, "warmup_type": "cosine", "min_lr_ratio": 0.1}),
    "warmup_step": (torch.optim.SGD, {}, {"step_size": 7, "gamma": 0.5}),
    "warmup_multistep": (torch.optim.SGD, {}, {"milestones": [20, 30, 45]}),
    "sgdr": (torch.optim.SGD, {}, {"cycle_steps": 9, "cycle_mult": 2, "cycle_decay": 0.8}),
    "one_cycle": (torch.optim.SGD, {"momentum": 0.9}, {"max_lr": [0.5, 0.2], "three_phase": True}),
    "one_cycle_adamw": (torch.optim.AdamW, {}, {"anneal_strategy": "linear", "base_momentum": [0.8, 0.85]}),
    "sequential": (
        torch.optim.SGD,
        {},
        {"phases": [{"schedule": "cosine", "length": 20}, {"schedule": "warmup_exponential", "gamma": 0.9}]},
    ),
    "wsd": (torch.optim.SGD, {}, {"decay_length": 0.3, "decay_type": "1-sqrt", "min_lr_ratio": 0.05}),
}


def _build(name: str, make_optimizer):
    cls, optimizer_kwargs, options = CHECKPOINT_CASES[name]
    opt = make_optimizer(cls, lrs=LRS, **optimizer_kwargs)
    schedule_name = "one_cycle" if name.startswith("one_cycle") else name
    sched = hf_lrsched.get_scheduler(schedule_name, opt, 0 if schedule_name == "one_cycle" else 5, 60, options)
    return opt, sched


@pytest.mark.parametrize("name", sorted(CHECKPOINT_CASES))
def test_state_dict_loads_weights_only_and_resumes_bit_identically(make_optimizer, name):
    opt, sched = _build(name, make_optimizer)
    momentum = sched.get_last_momentum() is not None
    uninterrupted = trajectory(sched, opt, 70, momentum=momentum)

    opt, sched = _build(name, make_optimizer)
    first = trajectory(sched, opt, 25, momentum=momentum)
    buffer = io.BytesIO()
    torch.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)

    opt, sched = _build(name, make_optimizer)
    opt.load_state_dict(saved["optimizer"])
    sched.load_state_dict(saved["scheduler"])
    assert sched.last_epoch == 25
    resumed = first + trajectory(sched, opt, 45, momentum=momentum)
    assert resumed == uninterrupted
    assert len({tuple(row) for row in uninterrupted}) > 5  # the schedule actually moves
