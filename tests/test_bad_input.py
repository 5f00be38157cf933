"""Bad input: a ``ValueError`` that names the option and the value it got, never NaN or a silent curve.

Every case is tried through the factory and through ``hf_lrsched.get_scheduler(name, ...,
scheduler_specific_kwargs)`` (the path ``Trainer`` and the recipes take). Accepted boundary values
must give finite, non-negative LRs.
"""

from __future__ import annotations

import functools
import math
import os
import re
import sys
import warnings

import pytest
import torch

import hf_lrsched
from hf_lrsched import catalog
from hf_lrsched._checks import validation
from hf_lrsched.catalog import BUILTIN_FACTORIES

WARMUP_SCHEDULES = catalog.warmup_names()
ALL_SCHEDULES = catalog.names()
JUST_BELOW_ONE = math.nextafter(1.0, 0.0)
TINY = sys.float_info.min * sys.float_info.epsilon  # smallest positive float


def names(option: str, value: str) -> str:
    """Regex: the message mentions ``option`` (as a whole word) and then the offending ``value``."""
    return rf"(?<!\w){re.escape(option)}(?!\w).*{re.escape(value)}"


def case(name, options, option, value, *, warmup=0, total=200, id=None):
    return pytest.param(name, warmup, total, options, names(option, value), id=id or f"{name}-{option}={value}")


def assert_rejected(make_optimizer, name, warmup, total, options, pattern) -> None:
    with pytest.raises(ValueError, match=pattern):
        BUILTIN_FACTORIES[name](make_optimizer(), warmup, total, **options)
    with pytest.raises(ValueError, match=pattern):
        hf_lrsched.get_scheduler(name, make_optimizer(), warmup, total, options)


# --------------------------------------------------------------------------------------------------
# Options every schedule shares
# --------------------------------------------------------------------------------------------------

COMMON_CASES = [
    # warmup >= total steps
    ({}, "num_warmup_steps", "=200", 200, 200),
    ({}, "num_training_steps", "=200", 350, 200),
    # negative / zero / wrongly typed step counts
    ({}, "num_warmup_steps", "-1", -1, 200),
    ({}, "num_training_steps", "-10", 0, -10),
    ({}, "num_warmup_steps", "True", True, 200),
    ({}, "num_training_steps", "100.0", 0, 100.0),
    ({}, "num_training_steps", "True", 0, True),
    ({}, "num_warmup_steps", "1.5", 1.5, 200),
    ({}, "num_warmup_steps", "-0.1", -0.1, 200),
    ({}, "num_warmup_steps", "'10'", "10", 200),
    # min_lr_ratio outside [0, 1)
    ({"min_lr_ratio": -0.1}, "min_lr_ratio", "-0.1", 0, 200),
    ({"min_lr_ratio": 1.0}, "min_lr_ratio", "1.0", 0, 200),
    ({"min_lr_ratio": 1.5}, "min_lr_ratio", "1.5", 0, 200),
    ({"min_lr_ratio": float("nan")}, "min_lr_ratio", "nan", 0, 200),
    ({"min_lr_ratio": float("inf")}, "min_lr_ratio", "inf", 0, 200),
    ({"min_lr_ratio": "0.1"}, "min_lr_ratio", "'0.1'", 0, 200),
    ({"min_lr_ratio": [0.1]}, "min_lr_ratio", "[0.1]", 0, 200),
    ({"min_lr_ratio": True}, "min_lr_ratio", "True", 0, 200),
]

WARMUP_CASES = [
    ({"warmup_type": "constant"}, "warmup_type", "'constant'"),
    ({"warmup_type": None}, "warmup_type", "None"),
    ({"warmup_start_ratio": 1.0}, "warmup_start_ratio", "1.0"),
    ({"warmup_start_ratio": -0.5}, "warmup_start_ratio", "-0.5"),
    ({"warmup_start_ratio": "0"}, "warmup_start_ratio", "'0'"),
    # exponential warmup multiplies up from the start value: 0 would stay 0
    ({"warmup_type": "exponential"}, "warmup_start_ratio", "0.0"),
    ({"warmup_type": "exponential", "warmup_start_ratio": 0}, "warmup_start_ratio", "0"),
]


@pytest.mark.parametrize("name", ALL_SCHEDULES)
@pytest.mark.parametrize(
    "options, option, value, warmup, total", COMMON_CASES, ids=[f"{c[1]}={c[2]}" for c in COMMON_CASES]
)
def test_common_options_rejected(make_optimizer, name, options, option, value, warmup, total):
    assert_rejected(make_optimizer, name, warmup, total, options, names(option, value))


@pytest.mark.parametrize("name", WARMUP_SCHEDULES)
@pytest.mark.parametrize("options, option, value", WARMUP_CASES, ids=[f"{c[1]}={c[2]}" for c in WARMUP_CASES])
def test_warmup_options_rejected(make_optimizer, name, options, option, value):
    assert_rejected(make_optimizer, name, 20, 200, options, names(option, value))


# --------------------------------------------------------------------------------------------------
# Per-schedule options
# --------------------------------------------------------------------------------------------------

EXP, STEP, MULTI, SGDR, ONE = "warmup_exponential", "warmup_step", "warmup_multistep", "sgdr", "one_cycle"

SCHEDULE_CASES = [
    # gamma <= 0, > 1, wrong types, for every decay that has one
    *[
        case(name, {"gamma": gamma}, "gamma", text)
        for name in (EXP, STEP, MULTI)
        for gamma, text in [
            (0, "0"),
            (0.0, "0.0"),
            (-0.5, "-0.5"),
            (1.5, "1.5"),
            (float("nan"), "nan"),
            (float("inf"), "inf"),
            ("0.5", "'0.5'"),
            ([0.5], "[0.5]"),
            (True, "True"),
        ]
    ],
    case(STEP, {"gamma": None}, "gamma", "None"),
    case(MULTI, {"gamma": None}, "gamma", "None"),
    case(EXP, {"gamma": 10**400}, "gamma", "1000000"),  # an int too large for a float
    # gamma and final_lr_ratio together; final_lr_ratio outside (0, 1]
    case(EXP, {"gamma": 0.9, "final_lr_ratio": 0.1}, "final_lr_ratio", "0.1", id="both-gamma-and-final_lr_ratio"),
    case(EXP, {"final_lr_ratio": 0}, "final_lr_ratio", "0"),
    case(EXP, {"final_lr_ratio": 1.5}, "final_lr_ratio", "1.5"),
    case(EXP, {"final_lr_ratio": -0.01}, "final_lr_ratio", "-0.01"),
    case(EXP, {"final_lr_ratio": "0.01"}, "final_lr_ratio", "'0.01'"),
    case(EXP, {"staircase_steps": 0}, "staircase_steps", "0"),
    case(EXP, {"staircase_steps": -2}, "staircase_steps", "-2"),
    case(EXP, {"staircase_steps": True}, "staircase_steps", "True"),
    case(EXP, {"staircase_steps": 2.5}, "staircase_steps", "2.5"),
    case(EXP, {"staircase_steps": "5"}, "staircase_steps", "'5'"),
    # step_size
    case(STEP, {"step_size": 0}, "step_size", "0"),
    case(STEP, {"step_size": -3}, "step_size", "-3"),
    case(STEP, {"step_size": True}, "step_size", "True"),
    case(STEP, {"step_size": 2.5}, "step_size", "2.5"),
    case(STEP, {"step_size": "10"}, "step_size", "'10'"),
    case(STEP, {"step_size": [10]}, "step_size", "[10]"),
    # milestones: unsorted, duplicated, inside warmup, at the peak step, past the end, wrong types
    case(MULTI, {"milestones": [120, 60]}, "milestones", "[120, 60]"),
    case(MULTI, {"milestones": [60, 60, 160]}, "milestones", "[60, 60, 160]"),
    case(MULTI, {"milestones": [0.5, 100]}, "milestones", "[0.5, 100]", id="duplicate-after-resolving-fraction"),
    case(MULTI, {"milestones": [30, 60]}, "milestones[0]", "30 (step 30) falls inside warmup", warmup=50),
    case(MULTI, {"milestones": [50, 60]}, "milestones[0]", "50", warmup=50),
    case(MULTI, {"milestones": [60, 120, 100]}, "milestones[2]", "100 resolves to step 100, not after 120)"),
    case(MULTI, {"milestones": [0.1, 0.5]}, "milestones[0]", "0.1", warmup=50, id="fraction-inside-warmup"),
    case(MULTI, {"milestones": [0, 60]}, "milestones[0]", "0 (step 0) is the first step, so the base LR is never used"),
    case(MULTI, {"milestones": [60, 200]}, "milestones[1]", "200"),
    case(MULTI, {"milestones": [60, 250]}, "milestones[1]", "250"),
    case(MULTI, {"milestones": [-5, 60]}, "milestones[0]", "-5"),
    case(MULTI, {"milestones": [60.0, 120]}, "milestones[0]", "60.0"),
    case(MULTI, {"milestones": [True, 120]}, "milestones[0]", "True"),
    case(MULTI, {"milestones": ["60"]}, "milestones[0]", "'60'"),
    case(MULTI, {"milestones": []}, "milestones", "[]"),
    case(MULTI, {"milestones": 60}, "milestones", "60"),
    case(MULTI, {"milestones": "60,120"}, "milestones", "'60,120'"),
    # sgdr
    case(SGDR, {"cycle_steps": 0}, "cycle_steps", "0"),
    case(SGDR, {"cycle_steps": -1}, "cycle_steps", "-1"),
    case(SGDR, {"cycle_steps": True}, "cycle_steps", "True"),
    case(SGDR, {"cycle_steps": 1.5}, "cycle_steps", "1.5"),
    case(SGDR, {"cycle_mult": 0}, "cycle_mult", "0"),
    case(SGDR, {"cycle_mult": -1}, "cycle_mult", "-1"),
    case(SGDR, {"cycle_mult": 1.5}, "cycle_mult", "1.5"),
    case(SGDR, {"cycle_mult": 2.0}, "cycle_mult", "2.0"),
    case(SGDR, {"cycle_mult": "2"}, "cycle_mult", "'2'"),
    case(SGDR, {"cycle_mult": True}, "cycle_mult", "True"),
    case(SGDR, {"cycle_decay": 0}, "cycle_decay", "0"),
    case(SGDR, {"cycle_decay": 1.5}, "cycle_decay", "1.5"),
    case(SGDR, {"cycle_decay": -0.1}, "cycle_decay", "-0.1"),
    # degenerate lengths: a drop or restart that never happens inside training
    case(STEP, {"step_size": 1000}, "step_size", "1000", total=50),
    case(STEP, {"step_size": 40}, "step_size", "40", warmup=10, total=50, id="step_size-equals-decay-span"),
    case(STEP, {"step_size": 0.9}, "step_size", "0.9", warmup=10, total=50, id="step_size-fraction-past-end"),
    case(EXP, {"staircase_steps": 10**20}, "staircase_steps", "100000000000000000000"),
    case(EXP, {"staircase_steps": 190}, "staircase_steps", "190", warmup=10, id="staircase-equals-decay-span"),
    case(
        SGDR,
        {"cycle_steps": 1},
        "cycle_steps",
        "1 is 1 step with cycle_mult=1: every step would restart at the peak, so the LR would never anneal "
        "(a constant curve); use cycle_steps >= 2",
    ),
    case(SGDR, {"cycle_steps": 1}, "cycle_steps", "1 is 1 step", total=2, id="cycle_steps=1-of-2-steps"),
    case(SGDR, {"cycle_steps": 1e-9}, "cycle_steps", "1e-09", id="cycle_steps-fraction-resolving-to-1"),
    case(SGDR, {"cycle_steps": 191}, "cycle_steps", "191", warmup=10, id="cycle-longer-than-decay"),
    # huge ints: a ValueError at construction, never an OverflowError (now or mid-training)
    case(SGDR, {"cycle_mult": 10**400}, "cycle_mult", "100000"),
    case(EXP, {"staircase_steps": 10**400}, "staircase_steps", "100000"),
    case(STEP, {"step_size": 10**400}, "step_size", "100000"),
    case(MULTI, {"milestones": [10**400]}, "milestones[0]", "100000"),
    # one_cycle: pct_start outside (0, 1) or too small for the rise
    *[
        case(ONE, {"pct_start": p}, "pct_start", text)
        for p, text in [
            (0, "0"),
            (0.0, "0.0"),
            (1, "1"),
            (1.0, "1.0"),
            (-0.1, "-0.1"),
            (1.5, "1.5"),
            ("0.3", "'0.3'"),
            (True, "True"),
            (float("nan"), "nan"),
        ]
    ],
    case(ONE, {"pct_start": 0.005}, "pct_start", "0.005"),  # 1 step of rise: torch divides by zero
    case(ONE, {"pct_start": 0.6, "three_phase": True}, "pct_start", "0.6", id="three_phase-pct_start=0.6"),
    case(ONE, {}, "num_warmup_steps", "1", warmup=1, id="warmup-gives-too-small-pct_start"),
    case(ONE, {"anneal_strategy": "cosine"}, "anneal_strategy", "'cosine'"),
    case(ONE, {"div_factor": 0}, "div_factor", "0"),
    case(ONE, {"div_factor": -25.0}, "div_factor", "-25.0"),
    case(ONE, {"final_div_factor": 0.0}, "final_div_factor", "0.0"),
    case(ONE, {"final_div_factor": "1e4"}, "final_div_factor", "'1e4'"),
    # below 1 the start would exceed max_lr (or the end the start); tiny ones overflowed to inf/NaN
    case(ONE, {"div_factor": 5e-324}, "div_factor", "5e-324"),
    case(ONE, {"div_factor": 0.5}, "div_factor", "0.5"),
    case(ONE, {"final_div_factor": 1e-320}, "final_div_factor", "1e-320"),
    case(ONE, {"final_div_factor": 0.1}, "final_div_factor", "0.1"),
    case(ONE, {"div_factor": JUST_BELOW_ONE}, "div_factor", repr(JUST_BELOW_ONE)),
    # unhashable per-group momentum used to be a TypeError
    case(ONE, {"base_momentum": {}}, "base_momentum", "{}"),
    case(ONE, {"max_momentum": {"a": 1}}, "max_momentum", "{'a': 1}"),
    case(ONE, {"base_momentum": [[0.8], 0.8]}, "base_momentum[0]", "[0.8]"),
    case(ONE, {"max_lr": [0.1, 0.2, 0.3]}, "max_lr", "[0.1, 0.2, 0.3]"),
    case(ONE, {"max_lr": [0.1]}, "max_lr", "[0.1]"),
    case(ONE, {"max_lr": 0}, "max_lr", "0"),
    case(ONE, {"max_lr": -0.1}, "max_lr", "-0.1"),
    case(ONE, {"max_lr": "0.1"}, "max_lr", "'0.1'"),
    case(ONE, {"max_lr": [0.1, -1]}, "max_lr[1]", "-1"),
    case(ONE, {"max_lr": [0.1, None]}, "max_lr[1]", "None"),
    case(ONE, {"base_momentum": 1.0}, "base_momentum", "1.0"),
    case(ONE, {"base_momentum": -0.1}, "base_momentum", "-0.1"),
    case(ONE, {"max_momentum": 1.5}, "max_momentum", "1.5"),
    case(ONE, {"base_momentum": [0.8]}, "base_momentum", "[0.8]"),
    case(ONE, {"max_momentum": [0.9, 0.95, 0.99]}, "max_momentum", "[0.9, 0.95, 0.99]"),
    case(ONE, {"three_phase": "yes"}, "three_phase", "'yes'"),
    case(ONE, {"cycle_momentum": "true"}, "cycle_momentum", "'true'"),
    case(ONE, {}, "num_training_steps", "1", total=1),
]


@pytest.mark.parametrize("name, warmup, total, options, pattern", SCHEDULE_CASES)
def test_schedule_options_rejected(make_optimizer, name, warmup, total, options, pattern):
    assert_rejected(make_optimizer, name, warmup, total, options, pattern)


def test_sgd_momentum_optimizer_for_one_cycle_rejections(make_optimizer):
    # the momentum options are checked for SGD (momentum) as well as AdamW (betas, the default above)
    def sgd():
        return make_optimizer(torch.optim.SGD, momentum=0.9)

    with pytest.raises(ValueError, match=names("max_momentum", "1.0")):
        hf_lrsched.get_one_cycle_schedule(sgd(), 0, 100, max_momentum=1.0)
    with pytest.raises(ValueError, match=names("base_momentum", "[0.8, 0.8, 0.8]")):
        hf_lrsched.get_scheduler("one_cycle", sgd(), 0, 100, {"base_momentum": [0.8, 0.8, 0.8]})


@pytest.mark.parametrize("name", ALL_SCHEDULES)
@pytest.mark.parametrize("total, warmup", [(10**400, 0), (2**53 + 1, 0), (200, 10**400)])
def test_huge_step_counts_are_rejected_at_construction(make_optimizer, name, total, warmup):
    option = "num_training_steps" if total > 200 else "num_warmup_steps"
    assert_rejected(make_optimizer, name, warmup, total, {}, rf"{option} must be <= 9007199254740992")


def test_sgdr_one_step_cycle_is_fine_when_one_step_follows_warmup(make_optimizer):
    # nothing to anneal in a single step after warmup: cycle_steps=1 is no degenerate choice there
    sched = hf_lrsched.get_sgdr_schedule_with_warmup(make_optimizer(), 1, 2, cycle_steps=1)
    assert [sched.lr_lambdas[0](s) for s in (0, 1)] == [0.0, 1.0]


@pytest.mark.parametrize(
    "value, shown",
    [(10**29, "100000000000000000000000000000"), (10**30, "100000... (an int of 31 digits)")],
)
def test_huge_ints_are_shown_in_full_up_to_30_digits(value, shown):
    with pytest.raises(ValueError, match=re.escape(f"must be <= 9007199254740992, got {shown}")):
        validation.check_int("x", value)


def test_sgdr_with_huge_cycle_mult_at_the_limit_runs_to_the_end(make_optimizer):
    # cycle_mult=2**53 is accepted: the second cycle never ends, and no step overflows (a bigger
    # cycle_mult crashed at the first restart)
    sched = hf_lrsched.get_sgdr_schedule_with_warmup(make_optimizer(), 0, 20, cycle_steps=5, cycle_mult=2**53)
    values = [sched.lr_lambdas[0](step) for step in (0, 5, 19, 10**6)]
    assert values[:2] == [1.0, 1.0]
    assert all(0.0 < v <= 1.0 for v in values)


@pytest.mark.parametrize("name", ALL_SCHEDULES)
def test_missing_num_training_steps_is_named(make_optimizer, name):
    options = {"gamma": 0.9} if name == EXP else {}
    with pytest.raises(ValueError, match="num_training_steps"):
        BUILTIN_FACTORIES[name](make_optimizer(), 0.1, None, **options)


def test_exponential_without_total_needs_gamma(make_optimizer):
    with pytest.raises(ValueError, match=names("final_lr_ratio", "0.01") + ".*num_training_steps=None"):
        hf_lrsched.get_exponential_schedule_with_warmup(make_optimizer(), 0)
    # with gamma it needs no total: the decay is open-ended
    sched = hf_lrsched.get_exponential_schedule_with_warmup(make_optimizer(), 2, gamma=0.5)
    assert [sched.lr_lambdas[0](s) for s in (0, 1, 2, 3, 1000)] == [0.0, 0.5, 1.0, 0.5, 0.5**998]


# --------------------------------------------------------------------------------------------------
# Names, options and JSON, as they come from lr_scheduler_type / lr_scheduler_kwargs
# --------------------------------------------------------------------------------------------------


def test_unknown_schedule_name_lists_known_ones(make_optimizer):
    with pytest.raises(ValueError, match=r"unknown lr_scheduler_type 'warmup_stepp'.*known schedules: ") as info:
        hf_lrsched.get_scheduler("warmup_stepp", make_optimizer(), 0, 100)
    message = str(info.value)
    assert "did you mean 'warmup_step'" in message
    for known in [*ALL_SCHEDULES, "linear", "cosine"]:
        assert re.search(rf"\b{known}\b", message.split("known schedules:")[1]), known


@pytest.mark.parametrize("name", ALL_SCHEDULES)
def test_unknown_option_is_named_with_the_accepted_ones(make_optimizer, name):
    accepted = hf_lrsched.schedule_options(name)
    with pytest.raises(ValueError, match=r"unknown option 'gama' for schedule") as info:
        hf_lrsched.get_scheduler(name, make_optimizer(), 0, 100, {"gama": 0.5})
    listing = str(info.value).split("accepted options:")[1]
    assert [option.strip() for option in listing.split(",")] == list(accepted)
    assert "num_training_steps" not in listing and "last_epoch" not in listing
    # straight to the factory, Python itself names the stray keyword
    with pytest.raises(TypeError, match="'gama'"):
        BUILTIN_FACTORIES[name](make_optimizer(), 0, 100, gama=0.5)


def test_mistyped_option_suggests_the_right_one(make_optimizer):
    with pytest.raises(ValueError, match=r"'milestone'.*did you mean 'milestones'"):
        hf_lrsched.get_scheduler("warmup_multistep", make_optimizer(), 0, 100, {"milestone": [50]})


@pytest.mark.parametrize(
    "text, pattern",
    [
        ('{"gamma": 0.5', r"lr_scheduler_kwargs is not valid JSON.*'\{\"gamma\": 0\.5'"),
        ("{'gamma': 0.5}", r"lr_scheduler_kwargs is not valid JSON.*\"\{'gamma': 0\.5\}\""),
        ("gamma=0.5", r"lr_scheduler_kwargs is not valid JSON.*'gamma=0\.5'"),
        ("[0.5]", r"lr_scheduler_kwargs must be a JSON object.*'\[0\.5\]'"),
        ("0.5", r"lr_scheduler_kwargs must be a JSON object.*'0\.5'"),
        ('{"gamma": "0.5"}', r"gamma must be a number, got '0\.5' \(str\)"),
        ('{"gamma": NaN}', r"gamma.*nan"),
        ('{"step_size": 10.0}', r"step_size.*10\.0"),
        ('{"step_size": true}', r"step_size.*True"),
        ('{"gamma": [0.5]}', r"gamma.*\[0\.5\]"),
    ],
)
def test_json_kwargs_rejected(make_optimizer, text, pattern):
    with pytest.raises(ValueError, match=pattern):
        hf_lrsched.get_scheduler("warmup_step", make_optimizer(), 0, 100, text)


# --------------------------------------------------------------------------------------------------
# Accepted boundary values never give NaN, inf or a negative LR
# --------------------------------------------------------------------------------------------------

BOUNDARY_CASES = [
    (EXP, 0, 100, {"gamma": 1.0}),
    (EXP, 0, 100, {"gamma": 1.0, "min_lr_ratio": JUST_BELOW_ONE}),
    (EXP, 10, 100, {"gamma": TINY, "min_lr_ratio": JUST_BELOW_ONE}),
    (EXP, 10, 100, {"final_lr_ratio": TINY}),
    (EXP, 10, 100, {"final_lr_ratio": 1.0, "staircase_steps": 89}),
    (EXP, 99, 100, {"warmup_type": "exponential", "warmup_start_ratio": TINY}),
    (EXP, 50, 100, {"warmup_type": "cosine", "warmup_start_ratio": JUST_BELOW_ONE}),
    (EXP, 0, 1, {}),
    (EXP, 0, 10**12, {}),
    (STEP, 0, 100, {"gamma": 1.0, "step_size": 1}),
    (STEP, 0, 100, {"gamma": TINY, "step_size": 1, "min_lr_ratio": JUST_BELOW_ONE}),
    (STEP, 98, 100, {"step_size": 1}),
    (STEP, 99, 100, {}),
    (STEP, 0, 2, {}),
    (STEP, 0, 3, {}),
    (STEP, 0, 1, {}),
    (MULTI, 0, 100, {"milestones": [1, 99], "gamma": TINY}),
    (MULTI, 98, 100, {"milestones": [99], "gamma": 1.0}),
    (MULTI, 0, 1, {}),
    (MULTI, 0, 2, {}),
    (SGDR, 0, 100, {"cycle_steps": 2}),
    (SGDR, 0, 100, {"cycle_steps": 100}),
    (SGDR, 0, 2, {}),
    (SGDR, 0, 3, {}),
    (SGDR, 1, 2, {}),
    (EXP, 0, 2, {}),
    (EXP, 0, 3, {"staircase_steps": 2}),
    (MULTI, 0, 3, {}),
    (SGDR, 0, 100, {"cycle_steps": 1, "cycle_mult": 10**6, "cycle_decay": TINY}),
    (SGDR, 10, 100, {"cycle_steps": 3, "cycle_mult": 2, "cycle_decay": TINY, "min_lr_ratio": JUST_BELOW_ONE}),
    (SGDR, 99, 100, {"warmup_type": "exponential", "warmup_start_ratio": JUST_BELOW_ONE}),
    (SGDR, 0, 1, {}),
    (ONE, 0, 100, {"pct_start": 0.011}),
    (ONE, 0, 100, {"pct_start": JUST_BELOW_ONE, "anneal_strategy": "linear"}),
    (ONE, 0, 100, {"pct_start": 0.49, "three_phase": True, "anneal_strategy": "linear"}),
    (ONE, 0, 2, {"pct_start": 0.75}),
    (ONE, 0, 100, {"div_factor": 1e300, "final_div_factor": 1e300}),
    (ONE, 0, 100, {"div_factor": 1.0, "final_div_factor": 1.0, "min_lr_ratio": JUST_BELOW_ONE}),
    (ONE, 0, 100, {"max_lr": [1e-300, 1e300], "base_momentum": 0.0, "max_momentum": JUST_BELOW_ONE}),
    (ONE, 99, 100, {}),
]


@pytest.mark.parametrize("name, warmup, total, options", BOUNDARY_CASES)
def test_boundary_values_give_finite_lrs(make_optimizer, name, warmup, total, options):
    lrs = (0.1, 0.03)
    for build in (BUILTIN_FACTORIES[name], lambda *a, **kw: hf_lrsched.get_scheduler(name, *a[:3], kw)):
        opt = make_optimizer(torch.optim.SGD, lrs=lrs, momentum=0.9)
        sched = build(opt, warmup, total, **options)
        probe = sorted({0, 1, warmup - 1, warmup, warmup + 1, total - 1, total, total + 1, 10 * total + 7} - {-1})
        for step in probe:
            multiplier = sched.lr_lambdas[0](step)
            assert math.isfinite(multiplier) and 0.0 <= multiplier <= 1.0, (step, multiplier)
        for _ in range(min(total, 150) + 3):
            values = [g["lr"] for g in opt.param_groups] + [g["momentum"] for g in opt.param_groups]
            assert all(math.isfinite(v) and v >= 0.0 for v in values), values
            opt.step()
            sched.step()


@pytest.mark.parametrize("kwargs", [[1, 2], [("gamma", 0.5)], 0.5])
def test_non_mapping_scheduler_kwargs_rejected(kwargs):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match=r"lr_scheduler_kwargs must be a dict"):
        hf_lrsched.get_scheduler("warmup_step", opt, 0, 100, kwargs)


def test_required_option_of_transformers_schedule_is_named():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match=r"'warmup_stable_decay' needs num_decay_steps in lr_scheduler_kwargs"):
        hf_lrsched.get_scheduler("warmup_stable_decay", opt, 0, 100)


# --------------------------------------------------------------------------------------------------
# one_cycle on an optimizer whose momentum is off: torch's behaviour, with one warning
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, option",
    [
        (lambda ps: torch.optim.SGD(ps, lr=0.1), "momentum=0"),
        (lambda ps: torch.optim.RMSprop(ps, lr=0.1), "momentum=0"),
        (lambda ps: torch.optim.Adam(ps, lr=0.1, betas=(0.0, 0.99)), r"betas\[0\]=0"),
    ],
    ids=["sgd", "rmsprop", "adam-beta1-0"],
)
def test_one_cycle_warns_once_when_it_turns_momentum_on(make, option):
    params = [torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))]
    optimizer = make([{"params": [p]} for p in params])
    with pytest.warns(UserWarning, match=rf"{option}.*cycle_momentum=False") as caught:
        hf_lrsched.get_scheduler("one_cycle", optimizer, 0, 100)
    assert len([w for w in caught if "cycle_momentum=False" in str(w.message)]) == 1  # once, not per group
    first = optimizer.param_groups[0]
    assert (first["betas"][0] if "betas" in first else first["momentum"]) == 0.95  # torch's behaviour kept
    # cycle_momentum=False keeps momentum off, without a warning
    optimizer = make([{"params": [p]} for p in params])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hf_lrsched.get_scheduler("one_cycle", optimizer, 0, 100, {"cycle_momentum": False})
    assert all((g["betas"][0] if "betas" in g else g["momentum"]) == 0 for g in optimizer.param_groups)


def test_one_cycle_with_momentum_on_does_not_warn(make_optimizer):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hf_lrsched.get_scheduler("one_cycle", make_optimizer(torch.optim.SGD, momentum=0.9), 0, 100)
        hf_lrsched.get_scheduler("one_cycle", make_optimizer(torch.optim.AdamW), 0, 100)


# --------------------------------------------------------------------------------------------------
# transformers' own names through hf_lrsched.get_scheduler / check_schedule: the shared checks, and
# any failure of their factories as one ValueError naming the schedule and option
# --------------------------------------------------------------------------------------------------

NEEDS_TOTAL = ["linear", "cosine", "cosine_with_restarts", "polynomial", "cosine_with_min_lr"]
TOTAL_OPTIONAL = ["constant_with_warmup", "inverse_sqrt"]
MIN_LR = {"cosine_with_min_lr": {"min_lr_rate": 0.1}}


def _one_param_sgd():
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)


def _rejected_everywhere(name, options, warmup, total, pattern):
    with pytest.raises(ValueError, match=pattern):
        hf_lrsched.get_scheduler(name, _one_param_sgd(), warmup, total, options)
    with pytest.raises(ValueError, match=pattern):
        hf_lrsched.check_schedule(name, options, warmup, total)


@pytest.mark.parametrize("name", NEEDS_TOTAL + TOTAL_OPTIONAL)
@pytest.mark.parametrize(
    "warmup, total, pattern",
    [
        (-1, 100, r"num_warmup_steps must be >= 0, got -1"),
        (True, 100, r"num_warmup_steps must be an int .*True"),
        (0, True, r"num_training_steps must be an int, got True"),
        (0, 0, r"num_training_steps must be >= 1, got 0"),
        (0, 100.0, r"num_training_steps must be an int, got 100.0"),
        (0, 10**400, r"num_training_steps must be <= 9007199254740992, got 100000\.\.\."),
        (10**400, 100, r"num_warmup_steps must be <= 9007199254740992"),
        (1.5, 100, r"num_warmup_steps must be an int number of steps or a float in \(0, 1\)"),
    ],
    ids=["warmup-1", "warmup-True", "total-True", "total-0", "total-float", "total-huge", "warmup-huge", "warmup-1.5"],
)
def test_transformers_names_get_the_shared_checks(name, warmup, total, pattern):
    _rejected_everywhere(name, MIN_LR.get(name, {}), warmup, total, pattern)


@pytest.mark.parametrize("name", NEEDS_TOTAL)
def test_transformers_names_that_need_a_total_check_warmup_against_it(name):
    options = MIN_LR.get(name, {})
    _rejected_everywhere(name, options, 100, 100, r"num_warmup_steps=100 must be smaller than num_training_steps=100")
    _rejected_everywhere(name, options, 0, None, rf"num_training_steps is required for '{name}', got None")
    # cosine with 0 steps alternated 1, 0, 1, 0; with 1 step it is a valid one-step curve
    hf_lrsched.check_schedule(name, options, 0, 1)
    hf_lrsched.check_schedule(name, options, 0.1, 100)


@pytest.mark.parametrize(
    "name, options, fragment",
    [
        ("polynomial", {"power": -2}, 'lr_scheduler_kwargs {"power": -2} gives an LR multiplier of 1.306122'),
        ("polynomial", {"lr_end": 1.0}, "could not be built: ValueError: lr_end (1.0) must be smaller than"),
        ("cosine", {"num_cycles": "a"}, 'kwargs {"num_cycles": "a"} fails at step 2: ValueError: could not convert'),
        # fine at step 0 (in warmup), a ZeroDivisionError at the first step after it: caught by the probe
        ("inverse_sqrt", {"timescale": 0}, 'kwargs {"timescale": 0} fails at step 2: ZeroDivisionError'),
        ("cosine_with_min_lr", {"min_lr_rate": 2.0}, "gives an LR multiplier of 1."),
    ],
)
def test_third_party_factory_failures_are_one_value_error(name, options, fragment):
    with pytest.raises(ValueError, match=f"^schedule '{name}' with lr_scheduler_kwargs") as info:
        hf_lrsched.get_scheduler(name, _one_param_sgd(), 2, 10, options)
    assert fragment in str(info.value)
    with pytest.raises(ValueError, match=re.escape(fragment)):
        hf_lrsched.check_schedule(name, options, 2, 10)


def test_check_schedule_accepts_what_get_scheduler_builds():
    for name in [*ALL_SCHEDULES, "linear", "cosine", "constant", "constant_with_warmup", "reduce_lr_on_plateau"]:
        hf_lrsched.check_schedule(name, None, 2, 20)
    hf_lrsched.check_schedule("warmup_step", '{"step_size": 5}', 0, 20)
    _rejected_everywhere("warmup_step", {"step_size": 20}, 0, 20, r"step_size=20 .*would never drop")


# --------------------------------------------------------------------------------------------------
# one_cycle's factory: per-group options, defaults, messages
# --------------------------------------------------------------------------------------------------


def _two_group_sgd(lr=0.1, momentum=0.9):
    params = [torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))]
    return torch.optim.SGD([{"params": [p]} for p in params], lr=lr, momentum=momentum)


@pytest.mark.parametrize(
    "option, value, named",
    [
        ("base_momentum", [0.8, 1.0], "base_momentum[1] must be in [0.0, 1.0), got 1.0"),
        ("base_momentum", [-0.1, 0.8], "base_momentum[0] must be in [0.0, 1.0), got -0.1"),
        ("max_momentum", [0.9, 1.0], "max_momentum[1] must be in [0.0, 1.0), got 1.0"),
        ("max_momentum", [-0.1, 0.9], "max_momentum[0] must be in [0.0, 1.0), got -0.1"),
        ("max_lr", 0, "max_lr must be > 0.0, got 0.0"),
        ("max_lr", [0.1, 0], "max_lr[1] must be > 0.0, got 0.0"),
    ],
)
def test_one_cycle_per_group_values_are_named_with_their_index(option, value, named):
    with pytest.raises(ValueError, match="^" + re.escape(named) + "$"):
        hf_lrsched.get_one_cycle_schedule(_two_group_sgd(), 0, 100, **{option: value})


def test_one_cycle_messages_start_with_the_option():
    opt = _two_group_sgd()
    with pytest.raises(ValueError, match=r"^num_training_steps is required for one_cycle, got None$"):
        hf_lrsched.get_one_cycle_schedule(opt, 0)
    with pytest.raises(ValueError, match=r"^num_warmup_steps=100 must be smaller than num_training_steps=100$"):
        hf_lrsched.get_one_cycle_schedule(opt, 100, 100)
    with pytest.raises(ValueError, match=r"^pct_start=0\.005 with num_training_steps=100"):
        hf_lrsched.get_one_cycle_schedule(opt, 0, 100, pct_start=0.005)
    with pytest.raises(ValueError, match=r"^div_factor must be >= 1\.0, got 0\.5$"):
        hf_lrsched.get_one_cycle_schedule(opt, 0, 100, div_factor=0.5)
    with pytest.raises(ValueError, match=r"^num_warmup_steps=1 gives pct_start = 1/100 = 0\.01: pct_start"):
        hf_lrsched.get_one_cycle_schedule(opt, 1, 100)


def test_one_cycle_defaults_and_fractional_warmup():
    opt = _two_group_sgd(lr=0.1)
    sched = hf_lrsched.get_one_cycle_schedule(opt, num_training_steps=100)  # pct_start 0.3, div 25, final 1e4
    f = sched.lr_lambdas[0]
    assert f(0) == pytest.approx(0.04, rel=1e-12)
    assert f(29) == 1.0 and f(28) < 1.0  # the rise ends at 0.3 * 100 - 1
    assert f(99) == pytest.approx(4e-6, rel=1e-9)
    quarter = hf_lrsched.get_one_cycle_schedule(_two_group_sgd(), 0.25, 100).lr_lambdas[0]
    assert quarter(24) == 1.0 and quarter(23) < 1.0  # warmup 25 steps: pct_start 0.25


def test_one_cycle_per_group_momenta_and_max_lr():
    opt = _two_group_sgd(lr=0.1)
    for group in opt.param_groups:
        group["initial_lr"] = 0.1  # as a previous scheduler on this optimizer leaves it
    sched = hf_lrsched.get_one_cycle_schedule(
        opt, 0, 100, pct_start=0.25, max_lr=[0.5, 0.2], base_momentum=[0.8, 0.7], max_momentum=[0.9, 0.92]
    )
    assert sched.base_lrs == [0.5, 0.2]
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.02, 0.008], rel=1e-12)
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.92]
    for _ in range(24):
        opt.step()
        sched.step()
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.2]
    assert [g["momentum"] for g in opt.param_groups] == [0.8, 0.7]


def _assert_points_at_this_file(warning) -> None:
    # Under mutation testing (mutmut) every call goes through an extra trampoline frame.
    if "MUTANT_UNDER_TEST" not in os.environ:
        assert warning.filename == __file__


def test_one_cycle_warnings_point_at_the_caller():
    with pytest.warns(UserWarning) as caught:
        hf_lrsched.get_one_cycle_schedule(_two_group_sgd(momentum=0.0), 0, 100)
    (warning,) = caught
    _assert_points_at_this_file(warning)
    assert str(warning.message) == (
        "one_cycle: SGD has momentum=0, and one_cycle cycles it between max_momentum and base_momentum "
        "(0.95 -> 0.85 -> 0.95 by default), as torch's OneCycleLR does; pass cycle_momentum=False to keep "
        "momentum off"
    )
    params = [torch.nn.Parameter(torch.zeros(1))]
    with pytest.warns(UserWarning) as caught:
        hf_lrsched.get_one_cycle_schedule(torch.optim.Adagrad(params, lr=0.1), 0, 100)
    (warning,) = caught
    _assert_points_at_this_file(warning)
    assert str(warning.message) == (
        "one_cycle: Adagrad has no momentum or betas; cycling the LR only (pass cycle_momentum=False to silence this)"
    )


@pytest.mark.parametrize(
    "options, message",
    [
        ({"base_momentum": 1.0}, "base_momentum must be in [0.0, 1.0), got 1.0"),
        ({"base_momentum": -0.1}, "base_momentum must be in [0.0, 1.0), got -0.1"),
        ({"max_momentum": 1.0}, "max_momentum must be in [0.0, 1.0), got 1.0"),
        ({"max_momentum": -0.1}, "max_momentum must be in [0.0, 1.0), got -0.1"),
        ({"anneal_strategy": "cosine"}, "anneal_strategy must be one of ['cos', 'linear'], got 'cosine'"),
    ],
)
def test_the_pure_momentum_builder_checks_its_own_options(options, message):
    # the public builder is not only reached through get_one_cycle_schedule (which checks first)
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        hf_lrsched.schedules.one_cycle_momentum_schedule(100, **options)


# --------------------------------------------------------------------------------------------------
# The validation helpers of hf_lrsched._checks.validation, message for message (found by mutation testing)
# --------------------------------------------------------------------------------------------------

S = validation


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: S.check_int("x", 2.5), "x must be an int, got 2.5 (float)"),
        (lambda: S.check_real("x", 5.0, high=1.0), "x must be <= 1.0, got 5.0"),
        (lambda: S.resolve_length("x", 0.0, 100), "x must be an int number of steps or a float in (0, 1)"),
        (lambda: S.resolve_length("x", 1.0, 100), "x must be an int number of steps or a float in (0, 1)"),
        (
            lambda: S.resolve_length("x", 0.5, None),
            "x=0.5 is a fraction of training, which needs num_training_steps; give num_training_steps or an int "
            "number of steps",
        ),
        (lambda: S.check_lengths(0, None), "num_training_steps is required for this schedule, got None"),
        (
            lambda: hf_lrsched.schedules.step_schedule(0, None),
            "num_training_steps is required for this schedule, got None",
        ),
        (
            lambda: hf_lrsched.schedules.step_schedule(None, 10),
            "num_warmup_steps must be an int number of steps or a float in (0, 1)",
        ),
        (
            lambda: hf_lrsched.schedules.step_schedule(2, 10, warmup_type="exponential"),
            "warmup_type='exponential' needs warmup_start_ratio > 0 (it multiplies up from it), got "
            "warmup_start_ratio=0.0",
        ),
        (
            lambda: hf_lrsched.schedules.exponential_schedule(0, 2, gamma=0.5, staircase_steps=2),
            "staircase_steps=2 (2 steps) is not shorter than the 2 steps after warmup",
        ),
        (
            lambda: hf_lrsched.schedules.exponential_schedule(10, 200, staircase_steps=0.95),
            "staircase_steps=0.95 (190 steps) is not shorter than the 190 steps after warmup",
        ),
    ],
)
def test_helper_messages(call, message):
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        call()


def test_check_lengths_without_warmup_and_fractional_staircase():
    assert S.check_lengths(None, 100, require_warmup=False) == (None, 100)
    f = hf_lrsched.schedules.exponential_schedule(0, 100, gamma=0.5, staircase_steps=0.1)  # 10 steps
    assert [f(9), f(10)] == [1.0, 0.5**10]


def test_schedule_lr_without_identity_and_with_a_bad_lambda():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = hf_lrsched.ScheduleLR(opt, functools.partial(pow, 0.5))
    assert sched.state_dict()["schedule_name"] is None and sched.state_dict()["schedule_options"] is None
    with pytest.raises(TypeError, match=r"^lr_lambda must be a callable step -> multiplier, got 0\.5$"):
        hf_lrsched.ScheduleLR(opt, 0.5)


def test_exponential_factory_default_warmup_is_none():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = hf_lrsched.get_exponential_schedule_with_warmup(opt, num_training_steps=10, gamma=0.5)
    assert sched.get_last_lr() == [1.0]


def test_step_with_the_deprecated_epoch_argument_jumps_there():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = hf_lrsched.get_exponential_schedule_with_warmup(opt, 0, 10, gamma=0.5)
    opt.step()
    sched.step()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch deprecates the epoch argument; it still jumps
        sched.step(5)
    assert sched.last_epoch == 5 and sched.get_last_lr() == [0.5**5]


# ----------------------------------------------------------------------------------------------
# The shared checks' wording and bounds (validation.py), and the length-free option checks
# (schedule_checks.py) that run before the run length is known. Expected texts are written out.
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("x", 1.0, None, 1.0), {"high_open": True}, "x must be < 1.0, got 1.0"),
        (("x", 1.5, None, 1.0), {}, "x must be <= 1.0, got 1.5"),
        (("x", 0.0, 0.0, 1.0), {"low_open": True}, r"x must be in \(0.0, 1.0\], got 0.0"),
        (("x", 1.0, 0.0, 1.0), {"high_open": True}, r"x must be in \[0.0, 1.0\), got 1.0"),
        (("x", math.inf, 0.0, 1.0), {}, r"x must be in \[0.0, 1.0\], got inf"),
        (("x", math.inf, 0.0), {}, "x must be a finite number >= 0.0, got inf"),
        (("x", math.inf, None, 1.0), {}, "x must be a finite number <= 1.0, got inf"),
        (("x", math.nan), {}, "x must be a finite number, got nan"),
    ],
)
def test_check_real_words_each_kind_of_range(args, kwargs, message):
    from hf_lrsched._checks.validation import check_real

    with pytest.raises(ValueError, match=f"^{message}$"):
        check_real(*args, **kwargs)


def test_check_per_group_keeps_the_upper_bound_and_names_the_group():
    from hf_lrsched._checks.validation import check_per_group

    with pytest.raises(ValueError, match=r"^x must be in \[0.0, 1.0\], got 2.0$"):
        check_per_group("x", 2.0, 0.0, 1.0)
    with pytest.raises(ValueError, match=r"^x\[1\] must be in \[0.0, 1.0\], got 2.0$"):
        check_per_group("x", [0.5, 2.0], 0.0, 1.0)


def test_lengths_are_capped_and_floored_as_asked():
    from hf_lrsched._checks.validation import check_int, check_length, resolve_length

    assert check_int("x", 0) == 0  # the default floor is 0
    with pytest.raises(ValueError, match="^x must be >= 0, got -1$"):
        check_int("x", -1)
    with pytest.raises(ValueError, match="^x must be <= 9007199254740992, got 9007199254740993$"):
        check_length("x", 2**53 + 1)
    with pytest.raises(ValueError, match="^x must be >= 2, got 1$"):
        check_length("x", 1, minimum=2)
    with pytest.raises(ValueError, match="^x must be >= 1, got 0$"):
        resolve_length("x", 0, 10, minimum=1)


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("warmup_step", {"step_size": 0}, "step_size must be >= 1, got 0"),
        ("warmup_exponential", {"staircase_steps": 0}, "staircase_steps must be >= 1, got 0"),
        ("sgdr", {"cycle_steps": 0}, "cycle_steps must be >= 1, got 0"),
        (
            "warmup_multistep",
            {"milestones": [3, 3]},
            r"milestones must be strictly increasing, got \[3, 3\] "
            r"\(milestones\[1\]=3 resolves to step 3, not after 3\)",
        ),
        (
            "warmup_multistep",
            {"milestones": [3, 5, 4]},
            r"milestones must be strictly increasing, got \[3, 5, 4\] \(milestones\[2\]=4 resolves to step 4, "
            r"not after 5\)",
        ),
        (
            "warmup_multistep",
            {"milestones": [0.2, 0.5, 0.4]},
            r"milestones must be strictly increasing, got \[0.2, 0.5, 0.4\] \(milestones\[2\]=0.4 is not after "
            r"milestones\[1\]=0.5\)",
        ),
    ],
)
def test_length_free_option_checks_reject_before_the_length_is_known(name, options, message):
    with pytest.raises(ValueError, match=message):
        hf_lrsched.check_schedule_options(name, options)


def test_mixed_milestones_are_ordered_after_resolving_and_named_by_index():
    from hf_lrsched.schedules import multistep_schedule

    with pytest.raises(ValueError, match=r"\(milestones\[1\]=0.2 resolves to step 2, not after 3\)"):
        multistep_schedule(0, 10, milestones=[3, 0.2])
    with pytest.raises(ValueError, match=r"milestones\[1\] must be <= 9007199254740992"):
        multistep_schedule(0, 10, milestones=[3, 2**53 + 1])


def test_pct_start_from_warmup_two_phase_by_default_and_says_where_it_came_from():
    from hf_lrsched._checks.options import one_cycle_lengths, one_cycle_pct_start

    assert one_cycle_pct_start(None, 6, 10) == 0.6  # two phases: 0.6 is allowed
    assert one_cycle_lengths(6, 10, None, False) == (6, 10)
    assert one_cycle_pct_start(None, 0, 10) == 0.3  # no warmup: torch's default
    with pytest.raises(ValueError, match=r"^num_warmup_steps=6 gives pct_start = 6/10 = 0.6: pct_start=0.6 is too"):
        one_cycle_lengths(6, 10, None, True)
    with pytest.raises(ValueError, match=r"^pct_start=0.9 is too large for three_phase=True"):
        one_cycle_lengths(0, 10, 0.9, True)
    with pytest.raises(ValueError, match="^num_training_steps must be >= 2, got 1$"):
        one_cycle_lengths(0, 1, 0.3, False)


@pytest.mark.parametrize(
    ("max_lr", "message"),
    [(0.0, r"max_lr must be > 0.0, got 0.0"), ([1e-3, -1.0], r"max_lr\[1\] must be > 0.0, got -1.0")],
)
def test_one_cycle_max_lr_must_be_positive_per_group(max_lr, message):
    params = [torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))]
    opt = torch.optim.SGD([{"params": [params[0]]}, {"params": [params[1]]}], lr=1.0, momentum=0.9)
    with pytest.raises(ValueError, match=message):
        hf_lrsched.get_one_cycle_schedule(opt, 0, 10, max_lr=max_lr)


@pytest.mark.parametrize(
    ("max_lr", "message"),
    [(0.0, r"^max_lr must be > 0.0, got 0.0$"), ([1e-3, -1.0], r"^max_lr\[1\] must be > 0.0, got -1.0$")],
)
def test_one_cycle_max_lr_is_checked_before_the_length_or_the_optimizer_is_known(max_lr, message):
    with pytest.raises(ValueError, match=message):
        hf_lrsched.check_schedule_options("one_cycle", {"max_lr": max_lr})


def test_adapt_scheduler_names_steps_per_update():
    from hf_lrsched.accelerate import adapt_scheduler

    with pytest.raises(ValueError, match="^steps_per_update must be >= 1, got 0$"):
        adapt_scheduler(object(), 0)
