"""Hand-computed tables for every formula that torch has no scheduler for.

Warmup shapes and ``warmup_start_ratio``, the exponential staircase, ``min_lr_ratio`` floors,
SGDR's ``cycle_decay`` with the floor, one-cycle's floor and every default length for short runs:
each expected value below was worked out by hand from the documented formula and is written as a
literal number or a ``math`` expression of it, never computed with ``hf_lrsched``. A change to any
formula in ``hf_lrsched/schedules.py`` moves one side only, so it fails here.
"""

from __future__ import annotations

import math
import re

import pytest

from hf_lrsched import schedules
from hf_lrsched._checks import validation

COS_QUARTER = math.cos(math.pi / 4)  # sqrt(2) / 2


def close(values, expected):
    assert values == pytest.approx(expected, rel=1e-12, abs=1e-15)


# --------------------------------------------------------------------------------------------------
# Warmup shapes: W = 4 steps from s = 0.2, so p = step / 4
# --------------------------------------------------------------------------------------------------

WARMUP_TABLE = {
    # linear: s + (1 - s) p
    "linear": [0.2, 0.4, 0.6, 0.8, 1.0],
    # cosine: s + (1 - s) (1 - cos(pi p)) / 2; at p = 1/2 it is s + (1 - s) / 2, like linear
    "cosine": [0.2, 0.2 + 0.8 * (1 - COS_QUARTER) / 2, 0.6, 0.2 + 0.8 * (1 + COS_QUARTER) / 2, 1.0],
    # exponential: s ** (1 - p); at p = 1/2 it is sqrt(s)
    "exponential": [0.2, 0.2**0.75, math.sqrt(0.2), 0.2**0.25, 1.0],
}


@pytest.mark.parametrize("warmup_type", sorted(WARMUP_TABLE))
@pytest.mark.parametrize(
    "build",
    [
        lambda **kw: schedules.exponential_schedule(4, 20, gamma=0.5, **kw),
        lambda **kw: schedules.step_schedule(4, 20, step_size=5, **kw),
        lambda **kw: schedules.multistep_schedule(4, 20, milestones=[10], **kw),
        lambda **kw: schedules.sgdr_schedule(4, 20, cycle_steps=8, **kw),
    ],
    ids=["exponential", "step", "multistep", "sgdr"],
)
def test_warmup_shapes_with_start_ratio(build, warmup_type):
    f = build(warmup_type=warmup_type, warmup_start_ratio=0.2)
    close([f(step) for step in range(5)], WARMUP_TABLE[warmup_type])


def test_warmup_from_zero_and_exponential_midpoint():
    linear = schedules.step_schedule(10, 20, step_size=5)
    close([linear(s) for s in (0, 3, 5, 10)], [0.0, 0.3, 0.5, 1.0])
    cosine = schedules.step_schedule(10, 20, step_size=5, warmup_type="cosine")
    close([cosine(s) for s in (0, 5, 10)], [0.0, 0.5, 1.0])
    close([cosine(s) for s in (2, 8)], [(1 - math.cos(math.pi / 5)) / 2, (1 - math.cos(4 * math.pi / 5)) / 2])
    exponential = schedules.step_schedule(10, 20, step_size=5, warmup_type="exponential", warmup_start_ratio=0.01)
    close([exponential(s) for s in (0, 5, 10)], [0.01, 0.1, 1.0])  # sqrt(0.01) halfway


# --------------------------------------------------------------------------------------------------
# Decays after warmup (W = 2): staircase, floors
# --------------------------------------------------------------------------------------------------


def test_exponential_staircase():
    # gamma = 0.5 every step, held in stairs of k = 3: exponent t - t % 3 with t = step - 2
    f = schedules.exponential_schedule(2, 20, gamma=0.5, staircase_steps=3)
    close([f(s) for s in range(2, 12)], [1, 1, 1, 0.125, 0.125, 0.125, 0.015625, 0.015625, 0.015625, 0.001953125])


def test_exponential_staircase_of_two_and_of_one():
    f = schedules.exponential_schedule(0, 10, gamma=0.5, staircase_steps=2)
    close([f(s) for s in range(6)], [1, 1, 0.25, 0.25, 0.0625, 0.0625])
    g = schedules.exponential_schedule(0, 10, gamma=0.5, staircase_steps=1)  # same as smooth
    close([g(s) for s in range(4)], [1, 0.5, 0.25, 0.125])


def test_sgdr_default_and_fractional_cycle():
    # default cycle: ceil(20 / 4) = 5 steps; cycle_steps=0.25 resolves to the same 5 steps of T = 20
    for f in (schedules.sgdr_schedule(0, 20), schedules.sgdr_schedule(0, 20, cycle_steps=0.25)):
        close(
            [f(0), f(1), f(4), f(5), f(19)],
            [
                1,
                (1 + math.cos(math.pi / 5)) / 2,
                (1 + math.cos(4 * math.pi / 5)) / 2,
                1,
                (1 + math.cos(4 * math.pi / 5)) / 2,
            ],
        )


def test_exponential_final_lr_ratio_and_floor():
    # final_lr_ratio 0.01 over 100 steps: gamma = 0.01 ** (1 / 100); halfway 0.1
    f = schedules.exponential_schedule(0, 100)
    close([f(0), f(50), f(100)], [1.0, 0.1, 0.01])
    # gamma 0.5 with floor 0.1: 1, .5, .25, .125, then 0.0625 -> 0.1
    g = schedules.exponential_schedule(2, 20, gamma=0.5, min_lr_ratio=0.1)
    close([g(s) for s in range(2, 9)], [1.0, 0.5, 0.25, 0.125, 0.1, 0.1, 0.1])


def test_step_and_multistep_floors():
    f = schedules.step_schedule(2, 20, step_size=2, gamma=0.1, min_lr_ratio=0.05)
    close([f(s) for s in (2, 3, 4, 5, 6, 19)], [1.0, 1.0, 0.1, 0.1, 0.05, 0.05])
    g = schedules.multistep_schedule(2, 20, milestones=[5, 8, 0.75], gamma=0.3, min_lr_ratio=0.05)
    # milestones at steps 5, 8, 15: 1 -> 0.3 -> 0.09 -> 0.027 floored to 0.05
    close([g(s) for s in (4, 5, 7, 8, 14, 15, 19)], [1.0, 0.3, 0.3, 0.09, 0.09, 0.05, 0.05])


def test_sgdr_cycle_decay_with_floor():
    # cycles of 4 steps after W = 2; peaks 1, 0.5, then 0.25 below the floor 0.3: flat at 0.3
    f = schedules.sgdr_schedule(2, 40, cycle_steps=4, cycle_decay=0.5, min_lr_ratio=0.3)
    half = (1 + COS_QUARTER) / 2  # (1 + cos(pi / 4)) / 2, one step into a 4-step cycle
    expected = [
        1.0,
        0.3 + 0.7 * half,
        0.3 + 0.7 * 0.5,
        0.3 + 0.7 * (1 - half),
        0.5,
        0.3 + 0.2 * half,
        0.4,
        0.3 + 0.2 * (1 - half),
        0.3,
        0.3,
        0.3,
        0.3,
    ]
    close([f(s) for s in range(2, 14)], expected)


def test_sgdr_cycle_mult_and_decay():
    # cycles 2, 4, 8 steps (cycle_mult 2), peaks 1, 0.8, 0.64; no floor
    f = schedules.sgdr_schedule(0, 14, cycle_steps=2, cycle_mult=2, cycle_decay=0.8)
    close(
        [f(s) for s in (0, 1, 2, 3, 4, 5, 6, 8, 10)],
        [
            1,
            0.5,
            0.8,
            0.8 * (1 + COS_QUARTER) / 2,
            0.4,
            0.8 * (1 - COS_QUARTER) / 2,
            0.64,
            0.64 * (1 + math.cos(math.pi / 4)) / 2,
            0.32,
        ],
    )


def test_one_cycle_floor():
    # no torch oracle for min_lr_ratio: the anneal to 1 / (25 * 1e4) = 4e-6 stops at the floor 1e-3
    f = schedules.one_cycle_schedule(100, pct_start=0.25, min_lr_ratio=0.001)
    close([f(0), f(24), f(99), f(150)], [0.04, 1.0, 0.001, 0.001])
    g = schedules.one_cycle_schedule(100, pct_start=0.25, min_lr_ratio=0.05)
    close([g(0)], [0.05])  # the floor applies to the start too (1 / 25 = 0.04 < 0.05)


# --------------------------------------------------------------------------------------------------
# Defaults, including the shortest runs (T = 2, 3)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, expected",
    [
        # exponential: end at 1% of the peak at step T: gamma = 0.01 ** (1 / T)
        (lambda: schedules.exponential_schedule(0, 2), [1.0, 0.1]),
        (lambda: schedules.exponential_schedule(1, 3), [0.0, 1.0, 0.1]),
        # step: step_size = ceil((T - W) / 3), gamma 0.1
        (lambda: schedules.step_schedule(0, 2), [1.0, 0.1]),
        (lambda: schedules.step_schedule(0, 3), [1.0, 0.1, 0.01]),
        (lambda: schedules.step_schedule(1, 2), [0.0, 1.0]),  # one step after warmup: no room to drop
        (lambda: schedules.step_schedule(1, 11), [0, 1, 1, 1, 1, 0.1, 0.1, 0.1, 0.1, 0.01, 0.01]),
        (lambda: schedules.step_schedule(3, 12), [0, 1 / 3, 2 / 3, 1, 1, 1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01]),
        # multistep: milestones at W + ceil(span / 2) and W + ceil(3 span / 4), those before T
        (lambda: schedules.multistep_schedule(0, 2), [1.0, 0.1]),
        (lambda: schedules.multistep_schedule(0, 3), [1.0, 1.0, 0.1]),
        (lambda: schedules.multistep_schedule(0, 8), [1, 1, 1, 1, 0.1, 0.1, 0.01, 0.01]),
        (lambda: schedules.multistep_schedule(2, 10), [0, 0.5, 1, 1, 1, 1, 0.1, 0.1, 0.01, 0.01]),
        # one step after warmup: both default milestones would fall on step T, so none (also past T)
        (lambda: schedules.multistep_schedule(1, 2), [0.0, 1.0, 1.0, 1.0]),
        # sgdr: cycle = a quarter of the span, at least 2 (and at most the span)
        (lambda: schedules.sgdr_schedule(0, 2), [1.0, 0.5]),
        (lambda: schedules.sgdr_schedule(0, 3), [1.0, 0.5, 1.0]),
        (lambda: schedules.sgdr_schedule(1, 2), [0.0, 1.0]),
        (lambda: schedules.sgdr_schedule(0, 12), [1, 0.75, 0.25, 1, 0.75, 0.25, 1, 0.75, 0.25, 1, 0.75, 0.25]),
        # one_cycle: pct_start 0.3, div 25: the rise ends at step 0.3 * 10 - 1 = 2; cos halfway at step 1
        (lambda: schedules.one_cycle_schedule(10), [0.04, 0.52, 1.0]),
    ],
    ids=[
        "exp-T2",
        "exp-W1-T3",
        "step-T2",
        "step-T3",
        "step-W1-T2",
        "step-W1-T11",
        "step-W3-T12",
        "multi-T2",
        "multi-T3",
        "multi-T8",
        "multi-W2-T10",
        "multi-W1-T2",
        "sgdr-T2",
        "sgdr-T3",
        "sgdr-W1-T2",
        "sgdr-T12",
        "one_cycle-T10",
    ],
)
def test_defaults_for_short_runs(build, expected):
    f = build()
    close([f(s) for s in range(len(expected))], expected)


def test_one_cycle_momentum_defaults():
    # 0.95 -> 0.85 while the LR rises (to step 0.3 * 100 - 1 = 29), back to 0.95 by step 99 (two phases)
    m = schedules.one_cycle_momentum_schedule(100)
    close([m(0), m(29), m(64), m(99)], [0.95, 0.85, 0.9, 0.95])  # step 64: halfway down the cosine
    close([m(10)], [0.85 + 0.1 / 2 * (math.cos(math.pi * 10 / 29) + 1)])  # cosine, not linear
    lin = schedules.one_cycle_momentum_schedule(100, anneal_strategy="linear", three_phase=True)
    # three phases end at 29, 58 and 99: down, back up, then held at max_momentum
    close([lin(0), lin(29), lin(43.5), lin(58), lin(80)], [0.95, 0.85, 0.9, 0.95, 0.95])


# --------------------------------------------------------------------------------------------------
# One cycle by hand (torch's OneCycleLR is the oracle in test_schedules_oracle.py; these tables keep
# the mutation run fast). Phase ends: rise pct * T - 1, (three-phase: fall 2 pct T - 2), T - 1.
# --------------------------------------------------------------------------------------------------


def test_one_cycle_two_phases_linear():
    # T = 10, pct 0.5: rise 0 -> 4 from 1/10 to 1, anneal 4 -> 9 to 1/(10 * 100) = 0.001
    f = schedules.one_cycle_schedule(
        10, pct_start=0.5, anneal_strategy="linear", div_factor=10.0, final_div_factor=100.0
    )
    close([f(s) for s in (0, 2, 4, 6, 9, 12)], [0.1, 0.55, 1.0, 0.6004, 0.001, 0.001])


def test_one_cycle_defaults_two_phases_cos():
    # pct 0.3 (rise to step 2 of T = 10), div 25, final_div 1e4: two phases, cosine
    f = schedules.one_cycle_schedule(10)
    end = 0.04 / 1e4
    close([f(0), f(1), f(2), f(9)], [0.04, 0.52, 1.0, end])
    close([f(5)], [end + (1 - end) / 2 * (math.cos(math.pi * 3 / 7) + 1)])  # 3 of the 7 annealing steps


def test_one_cycle_three_phases_linear():
    # T = 10, pct 0.3: rise 0 -> 2, fall back to 1/10 by 2 * 3 - 2 = 4, anneal 4 -> 9 to 0.001
    f = schedules.one_cycle_schedule(
        10, pct_start=0.3, anneal_strategy="linear", div_factor=10.0, final_div_factor=100.0, three_phase=True
    )
    close([f(s) for s in (0, 1, 2, 3, 4, 6, 8, 9)], [0.1, 0.55, 1.0, 0.55, 0.1, 0.0604, 0.0208, 0.001])


def test_one_cycle_three_phases_at_the_largest_pct_start():
    # pct 0.5 with T = 10: the fall ends at 2 * 5 - 2 = 8 = T - 2, one step of final anneal is left
    f = schedules.one_cycle_schedule(10, pct_start=0.5, three_phase=True, div_factor=10.0, final_div_factor=100.0)
    close([f(4), f(8), f(9)], [1.0, 0.1, 0.001])
    with pytest.raises(ValueError, match=r"^pct_start=0\.55 is too large for three_phase=True"):
        schedules.one_cycle_schedule(10, pct_start=0.55, three_phase=True)  # the fall would end at T - 1


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: schedules.one_cycle_schedule(1), "num_training_steps must be >= 2, got 1"),
        (lambda: schedules.one_cycle_schedule(100, pct_start=0.0), "pct_start must be a float in (0, 1), got 0.0"),
        (
            lambda: schedules.one_cycle_schedule(100, pct_start=0.005),
            "pct_start=0.005 with num_training_steps=100 leaves 0.5 steps for the rise; it needs more than 1 "
            "(pct_start > 0.01)",
        ),
        (
            lambda: schedules.exponential_schedule(0),
            "num_training_steps is required unless gamma is given (final_lr_ratio=0.01 is reached at "
            "num_training_steps), got num_training_steps=None",
        ),
    ],
)
def test_builder_messages(call, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        call()


def test_exponential_default_warmup_is_none():
    f = schedules.exponential_schedule(num_training_steps=2)
    close([f(0), f(1)], [1.0, 0.1])


@pytest.mark.parametrize(
    "total, fraction, steps",
    [(100, 0.3, 30), (100, 0.301, 31), (100, 0.300000000004, 30), (7, 0.5, 4), (3, 0.01, 1)],
)
def test_fractions_round_up_without_float_noise(total, fraction, steps):
    # 0.3 * 100 = 30.000000000000004 is 30 steps; 30.1 is 31; noise below 1e-9 never adds a step
    assert validation.resolve_length("x", fraction, total) == steps
