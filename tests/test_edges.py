"""Edges that the mutation run found unpinned: tiny fractions, lengths without a total, derived defaults
with warmup, the exact wording of a few messages, and the checks run on factories that check nothing.

Every expected value is written by hand from the documented rule.
"""

from __future__ import annotations

import math
import re

import pytest
import torch
from transformers import get_linear_schedule_with_warmup

import hf_lrsched
from hf_lrsched import schedules
from hf_lrsched._checks import foreign, options, validation

# --------------------------------------------------------------------------------------------------
# Lengths: a tiny fraction is still one step; a length in steps needs no total.
# --------------------------------------------------------------------------------------------------


def test_a_tiny_fraction_is_one_step_where_a_length_must_be_one_at_least():
    for size in (1e-12, 0.01):  # 1e-12 * 100 rounds to 0 steps, 0.01 * 100 is 1 step
        f = schedules.step_schedule(0, 100, step_size=size, gamma=0.5)
        assert [f(0), f(1), f(2)] == [1.0, 0.5, 0.25]
        g = schedules.exponential_schedule(0, 100, gamma=0.5, staircase_steps=size)
        assert [g(1), g(2)] == [0.5, 0.25]  # a staircase of 1 step is the smooth curve
    # First (a cycle of 0 steps would divide by zero here, and loop forever below: a fast failure first)
    with pytest.raises(ValueError, match=r"^cycle_steps=1e-12 is 1 step with cycle_mult=1"):
        schedules.sgdr_schedule(0, 100, cycle_steps=1e-12)
    # cycles of 1, 2, 4 ... steps: step 1 restarts at the peak, step 2 is half-way down the second cycle
    h = schedules.sgdr_schedule(0, 100, cycle_steps=1e-12, cycle_mult=2)
    assert h(0) == 1.0 and h(1) == 1.0 and h(2) == pytest.approx(0.5, abs=1e-15)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    g = hf_lrsched.get_exponential_schedule_with_warmup(opt, 0, 100, gamma=0.5, staircase_steps=1e-12)
    assert g.schedule_options["staircase_steps"] == 1  # the identity records the step, not 0


def test_a_tiny_warmup_fraction_is_no_warmup():
    assert validation.check_lengths(1e-12, 100) == (0, 100)  # rounds to 0 steps; warmup may be 0


def test_exponential_without_a_total():
    f = schedules.exponential_schedule(0, None, gamma=0.5, staircase_steps=3)
    assert [f(2), f(3), f(5), f(6)] == [1.0, 0.125, 0.125, 0.5**6]
    with pytest.raises(ValueError, match=r"^staircase_steps=0\.5 is a fraction of training, which needs num_train"):
        schedules.exponential_schedule(0, None, gamma=0.5, staircase_steps=0.5)
    with pytest.raises(ValueError, match=r"\(final_lr_ratio=0\.5 is reached at num_training_steps\)"):
        schedules.exponential_schedule(0, None, final_lr_ratio=0.5)


def test_a_milestone_may_round_to_step_0_and_is_then_refused():
    # a milestone has no minimum of its own: 1e-12 of 100 steps is step 0, which would hide the base LR
    with pytest.raises(
        ValueError,
        match=r"^milestones\[0\]=1e-12 \(step 0\) is the first step, so the base LR is never used "
        r"\(num_warmup_steps=0\); milestones are absolute steps and must be > 0$",
    ):
        schedules.multistep_schedule(0, 100, milestones=[1e-12])


def test_resolve_length_keeps_its_minimum_for_fractions():
    assert validation.resolve_length("x", 1e-12, 100, minimum=1) == 1
    assert validation.resolve_length("x", 1e-12, 100) == 0


def test_epochs_round_up_after_rounding_to_9_decimals():
    # 1.5 epochs of 3 steps is 4.5 steps: 5 (rounded up, not to the nearest); 3.00000000004 epochs of 10 steps is
    # 30.0000000004, which is 30 at 9 decimals (as for fractions: 0.300000000004 * 100 is 30)
    assert validation.length_in_steps("x", "1.5ep", None, steps_per_epoch=3) == 5
    assert validation.length_in_steps("x", "3.00000000004ep", None, steps_per_epoch=10) == 30
    assert validation.length_in_steps("x", "3.000000001ep", None, steps_per_epoch=10) == 31


@pytest.mark.parametrize(
    "builder, options",
    [
        (schedules.step_schedule, {"step_size": "2ep"}),
        (schedules.sgdr_schedule, {"cycle_steps": "2ep"}),
    ],
)
def test_a_length_in_epochs_without_steps_per_epoch_is_named(builder, options):
    ((name, value),) = options.items()
    message = (
        f"{name}={value!r} is in epochs, which needs steps_per_epoch (optimizer updates per epoch); it is unknown "
        "here: give steps_per_epoch (to get_scheduler, a factory or in lr_scheduler_kwargs), or train with a "
        "dataloader that has a length (not an IterableDataset)"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        builder(0, 100, **options)


def test_a_staircase_of_one_step_fits_a_one_step_run():
    assert schedules.exponential_schedule(0, 1, gamma=0.5, staircase_steps=1)(0) == 1.0


def test_final_lr_ratio_sets_the_end_of_the_curve():
    f = schedules.exponential_schedule(0, 10, final_lr_ratio=0.5)
    assert f(10) == pytest.approx(0.5, rel=1e-12)
    assert f(5) == pytest.approx(math.sqrt(0.5), rel=1e-12)


def test_sgdr_default_cycle_is_a_quarter_of_the_steps_after_warmup():
    f = schedules.sgdr_schedule(4, 20)  # 16 steps after warmup: cycles of 4
    assert f(4) == 1.0 and f(6) == pytest.approx(0.5, abs=1e-15) and f(8) == 1.0


# --------------------------------------------------------------------------------------------------
# One-cycle's pure builders.
# --------------------------------------------------------------------------------------------------


def test_one_cycle_builders_need_a_pct_start():
    with pytest.raises(ValueError, match=r"^pct_start must be a float in \(0, 1\), got None$"):
        schedules.one_cycle_schedule(100, pct_start=None)


def test_one_cycle_momentum_builder_checks_three_phase():
    with pytest.raises(ValueError, match=r"^three_phase must be a bool, got 'yes'$"):
        schedules.one_cycle_momentum_schedule(10, three_phase="yes")
    with pytest.raises(ValueError, match=r"^pct_start=0\.55 is too large for three_phase=True"):
        schedules.one_cycle_momentum_schedule(10, pct_start=0.55, three_phase=True)


def test_one_cycle_momentum_follows_a_pct_start_derived_from_the_warmup():
    # 25 warmup steps of 100 and no pct_start: the LR rises for 25 steps, and the momentum falls with it
    # to base_momentum at step 24 (torch's OneCycleLR with pct_start=0.25 is the oracle)
    ours = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0, momentum=0.9)
    theirs = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0, momentum=0.9)
    runs = [
        (ours, hf_lrsched.get_one_cycle_schedule(ours, 25, 100)),
        (theirs, torch.optim.lr_scheduler.OneCycleLR(theirs, max_lr=1.0, total_steps=100, pct_start=0.25)),
    ]
    momenta = [[], []]
    for _ in range(100):
        for (opt, scheduler), seen in zip(runs, momenta, strict=True):
            seen.append(opt.param_groups[0]["momentum"])
            opt.step()
            if len(seen) < 100:
                scheduler.step()
    assert momenta[0][0] == 0.95 and math.isclose(momenta[0][24], 0.85, rel_tol=1e-12)
    for step, (mine, expected) in enumerate(zip(*momenta, strict=True)):
        assert math.isclose(mine, expected, rel_tol=1e-12), step


def test_a_given_pct_start_is_not_said_to_come_from_the_warmup():
    with pytest.raises(ValueError, match=r"^pct_start=0\.005 with num_training_steps=100 leaves"):
        options.one_cycle_lengths(10, 100, 0.005, False)


# --------------------------------------------------------------------------------------------------
# Resuming from a state that records no schedule.
# --------------------------------------------------------------------------------------------------


def _linear_state(lr):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    linear = get_linear_schedule_with_warmup(opt, 0, 10)
    for _ in range(3):
        opt.step()
        linear.step()
    return linear.state_dict()


def test_a_state_without_schedule_says_so(monkeypatch):
    monkeypatch.delenv("HF_LRSCHED_ALLOW_SCHEDULE_CHANGE", raising=False)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = hf_lrsched.get_exponential_schedule_with_warmup(opt, 0, 10, gamma=0.5)
    with pytest.raises(ValueError, match=r"^the scheduler state does not record its schedule: "):
        sched.load_state_dict(_linear_state(0.1))


def test_a_deliberate_change_sets_tensor_lrs_in_place(monkeypatch):
    monkeypatch.setenv("HF_LRSCHED_ALLOW_SCHEDULE_CHANGE", "1")
    lr = torch.tensor(0.1)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    sched = hf_lrsched.get_exponential_schedule_with_warmup(opt, 0, 10, gamma=0.5)
    sched.load_state_dict(_linear_state(torch.tensor(0.1)))
    assert opt.param_groups[0]["lr"] is lr  # the same tensor, filled in place
    assert float(lr) == pytest.approx(0.1 * 0.5**3, rel=1e-6)  # the new schedule at the saved step 3
    last = sched.get_last_lr()[0]
    assert last is not lr and float(last) == float(lr)  # a copy: later steps do not move it


# --------------------------------------------------------------------------------------------------
# The checks run on factories that check nothing themselves (hf_lrsched._checks.foreign).
# --------------------------------------------------------------------------------------------------


def test_probe_steps():
    assert foreign._probe_steps(3, 10) == [0, 1, 2, 3, 4, 5, 9, 10]
    assert foreign._probe_steps(None, None) == [0, 1]
    assert foreign._probe_steps(0, 7) == [0, 1, 3, 6, 7]


class _Lambdas:
    def __init__(self, *functions):
        self.lr_lambdas = list(functions)


def _zero_check(function, warmup=2, total=10, first=None):
    lambdas = _Lambdas(function) if first is None else _Lambdas(first, function)
    foreign.check_not_zero_after_warmup("x", lambdas, {}, warmup, total)


@pytest.mark.parametrize(
    "nonzero_at, warmup, raises",
    [
        (lambda s: s < 2 or s >= 10, 2, True),  # 0 from the peak to the last trained step: the end does not count
        (lambda s: s == 2, 2, False),  # the peak step itself counts
        (lambda s: s == 3, 2, False),  # the step after the peak
        (lambda s: s == 5, 2, False),  # the middle of training
        (lambda s: s == 0, None, False),  # no warmup: step 0 is the peak
    ],
)
def test_a_curve_is_zero_after_warmup_only_if_every_trained_probe_is_zero(nonzero_at, warmup, raises):
    function = lambda s: 1.0 if nonzero_at(s) else 0.0  # noqa: E731
    if raises:
        with pytest.raises(
            ValueError, match=r"^schedule 'x' with lr_scheduler_kwargs \{\} gives an LR multiplier of 0 "
        ):
            _zero_check(function, warmup)
    else:
        _zero_check(function, warmup)


def test_the_zero_check_lists_the_probed_steps():
    # probes of (warmup 2, total 10): 0, 1, 2, 3, 5, 9, 10; from the peak to the last trained step: 2, 3, 5, 9
    message = (
        "schedule 'x' with lr_scheduler_kwargs {} gives an LR multiplier of 0 at every probed step after warmup "
        "(steps 2, 3, 5, 9): the LR would be 0 for the rest of training"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        _zero_check(lambda s: 0.0)


def test_a_multiplier_may_exceed_1_by_rounding_only():
    bound = 1.0 + 1e-12  # rounding in a third-party formula: accepted up to here, inclusive
    foreign.check_multipliers("x", _Lambdas(lambda s: bound), {}, 0, 10)
    above = math.nextafter(bound, 2.0)
    with pytest.raises(ValueError, match=rf"gives an LR multiplier of {re.escape(repr(above))} at step 0, outside"):
        foreign.check_multipliers("x", _Lambdas(lambda s: above), {}, 0, 10)


def test_every_lambda_is_probed():
    flat = lambda s: 1.0  # noqa: E731
    with pytest.raises(ValueError, match="multiplier of 0 at every probed step"):
        _zero_check(flat, first=lambda s: 0.0)
    with pytest.raises(ValueError, match=r"gives an LR multiplier of 2\.0 at step 0, outside \[0, 1\] of the peak LR$"):
        foreign.check_multipliers("x", _Lambdas(lambda s: 2.0, flat), {}, 0, 10)


def test_the_middle_of_training_is_probed_for_its_range():
    bad_in_the_middle = lambda s: 2.0 if s == 5 else 1.0  # noqa: E731
    with pytest.raises(ValueError, match=r"at step 5, outside"):
        foreign.check_multipliers("x", _Lambdas(bad_in_the_middle), {}, 0, 10)


def test_shared_lengths_of_factories_that_check_nothing():
    assert foreign.check_shared_lengths("mine", 5, None, transformers_own=False) == (5, None)
    assert foreign.check_shared_lengths("mine", None, 10, transformers_own=False) == (None, 10)
    assert foreign.check_shared_lengths("mine", 0.1, 100, transformers_own=False) == (10, 100)
    assert foreign.check_shared_lengths("linear", None, 100, transformers_own=True) == (None, 100)
    assert foreign.check_shared_lengths("constant", None, None, transformers_own=True) == (None, None)
    # a warmup in epochs, where the total is optional or the factory is a user's
    assert foreign.check_shared_lengths(
        "constant_with_warmup", "2ep", None, transformers_own=True, steps_per_epoch=5
    ) == (
        10,
        None,
    )
    assert foreign.check_shared_lengths("mine", "1ep", 100, transformers_own=False, steps_per_epoch=4) == (4, 100)


def test_described_shows_options_json_cannot_write():
    assert (
        foreign.described("x", {"a": (1, 2), "b": {3}})
        == 'schedule \'x\' with lr_scheduler_kwargs {"a": [1, 2], "b": "{3}"}'
    )


def test_non_finite_numbers_are_found_inside_lists_and_dicts():
    foreign.check_finite_options("x", {"a": [1.0, {"b": 2.0}], "c": "nan"})  # a string is not a number
    with pytest.raises(
        ValueError, match=re.escape("lr_scheduler_kwargs for 'x': a[1] must be a finite number, got nan")
    ):
        foreign.check_finite_options("x", {"a": [1.0, float("nan")]})
    with pytest.raises(ValueError, match=re.escape("a[1]['b'] must be a finite number, got inf")):
        foreign.check_finite_options("x", {"a": [1.0, {"b": float("inf")}]})


def test_steps_per_epoch_is_given_once_not_per_phase():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    phases = [{"schedule": "constant", "length": 10, "steps_per_epoch": 5}, {"schedule": "linear"}]
    message = (
        "phases[0].steps_per_epoch=5: give steps_per_epoch once, for the whole schedule (get_scheduler / the "
        "factory), not inside a phase"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        hf_lrsched.get_scheduler("sequential", opt, 0, 100, {"phases": phases})
    with pytest.raises(ValueError, match=r"phases\[0\]\.steps_per_epoch=5: give steps_per_epoch once"):
        hf_lrsched.check_schedule_options("sequential", {"phases": phases})


# --------------------------------------------------------------------------------------------------
# Accelerate helpers and the momentum key.
# --------------------------------------------------------------------------------------------------


def test_an_epoch_has_one_update_at_least():
    from types import SimpleNamespace

    from hf_lrsched.accelerate import updates_per_epoch

    one, four = SimpleNamespace(gradient_accumulation_steps=1), SimpleNamespace(gradient_accumulation_steps=4)
    assert updates_per_epoch(range(1), one) == 1
    assert updates_per_epoch(range(3), four) == 1  # the end of the dataloader updates too
    assert updates_per_epoch(range(9), four) == 3


def _one_process_accelerator():
    from types import SimpleNamespace

    return SimpleNamespace(
        num_processes=1,
        split_batches=False,
        step_scheduler_with_optimizer=True,
        gradient_accumulation_steps=1,
        prepare=lambda scheduler: scheduler,
    )


def test_steps_per_epoch_given_wins_over_the_dataloader():
    from hf_lrsched.accelerate import get_accelerate_scheduler

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    options = {"milestones": ["1ep"]}
    given = get_accelerate_scheduler(
        _one_process_accelerator(), "warmup_multistep", opt, 0, 20, options, dataloader=range(5), steps_per_epoch=3
    )
    assert given.schedule_options["milestones"] == [3]
    counted = get_accelerate_scheduler(
        _one_process_accelerator(), "warmup_multistep", opt, 0, 20, options, dataloader=range(5)
    )
    assert counted.schedule_options["milestones"] == [5]


@pytest.mark.parametrize(
    "processes, expected", [(1, ["end_training"]), (2, ["wait", "keep", "end_training", "release"])]
)
def test_end_training_keeps_the_process_group_only_with_several_processes(monkeypatch, processes, expected):
    from types import SimpleNamespace

    from hf_lrsched._hf import teardown
    from hf_lrsched.accelerate import end_training

    calls = []
    monkeypatch.setattr(teardown, "keep_process_group", lambda: calls.append("keep"))
    monkeypatch.setattr(teardown, "release_at_exit", lambda: calls.append("release"))
    accelerator = SimpleNamespace(
        num_processes=processes,
        wait_for_everyone=lambda: calls.append("wait"),
        end_training=lambda: calls.append("end_training"),
    )
    end_training(accelerator)
    assert calls == expected


def test_momentum_key_needs_a_non_empty_tuple_of_betas():
    from hf_lrsched.schedule_lr import momentum_key

    assert momentum_key({"betas": (), "momentum": 0.9}) == "momentum"
    assert momentum_key({"betas": 0.9}) is None  # not Adam-style betas: nothing to cycle
    assert momentum_key({"betas": [0.9, 0.999]}) == "betas"
