"""Property tests of the pure schedules over random valid options (hypothesis).

For every schedule and warmup type: warmup rises monotonically from ``warmup_start_ratio`` and meets
the base LR (multiplier 1.0) exactly at step ``W`` without a jump; afterwards the multiplier stays in
``[min_lr_ratio, peak]``, decays monotonically where it should, and is never NaN or infinite.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from hf_lrsched import schedules
from hf_lrsched._checks import validation

SETTINGS = settings(max_examples=200, deadline=None)
# Rounding slack for comparisons of values computed by different formulas (a few ulps).
ULPS = 1e-15

unit = st.floats(0.0, 0.99, allow_nan=False)
floor_ratio = st.one_of(st.just(0.0), unit)


@st.composite
def common_options(draw, max_total: int = 300) -> dict:
    total = draw(st.integers(2, max_total))
    warmup = draw(st.one_of(st.just(0), st.integers(0, total - 1)))
    warmup_type = draw(st.sampled_from(schedules.WARMUP_TYPES))
    exponential = warmup_type == "exponential"  # multiplies up from the start: needs it > 0
    start = draw(st.one_of(st.just(0.01 if exponential else 0.0), st.floats(1e-6 if exponential else 0.0, 0.99)))
    return {
        "num_warmup_steps": warmup,
        "num_training_steps": total,
        "warmup_type": warmup_type,
        "warmup_start_ratio": start,
        "min_lr_ratio": draw(floor_ratio),
    }


@st.composite
def exponential_case(draw) -> tuple[str, dict]:
    options = draw(common_options())
    how = draw(st.sampled_from(["gamma", "final_lr_ratio", "default"]))
    if how == "gamma":
        options["gamma"] = draw(st.floats(0.5, 1.0))
    elif how == "final_lr_ratio":
        options["final_lr_ratio"] = draw(st.floats(1e-8, 1.0))
    span = options["num_training_steps"] - options["num_warmup_steps"]
    # a staircase as long as the decay would never drop (rejected)
    options["staircase_steps"] = draw(st.one_of(st.none(), st.integers(1, max(1, min(50, span - 1)))))
    return "exponential", options


@st.composite
def step_case(draw) -> tuple[str, dict]:
    options = draw(common_options())
    span = options["num_training_steps"] - options["num_warmup_steps"]
    # step_size >= the decay span would never drop (rejected); with one step after warmup: the default
    options["step_size"] = draw(st.none() if span < 2 else st.one_of(st.none(), st.integers(1, span - 1)))
    options["gamma"] = draw(st.floats(0.01, 1.0))
    return "step", options


@st.composite
def multistep_case(draw) -> tuple[str, dict]:
    options = draw(common_options())
    warmup, total = options["num_warmup_steps"], options["num_training_steps"]
    candidates = list(range(warmup + 1, total))
    chosen = draw(st.lists(st.sampled_from(candidates), unique=True, max_size=6)) if candidates else []
    options["milestones"] = sorted(chosen) or None  # None: the documented default
    options["gamma"] = draw(st.floats(0.01, 1.0))
    return "multistep", options


@st.composite
def sgdr_case(draw) -> tuple[str, dict]:
    options = draw(common_options())
    span = options["num_training_steps"] - options["num_warmup_steps"]
    options["cycle_mult"] = draw(st.integers(1, 4))
    # 1 step with cycle_mult=1 (a restart every step) and cycles longer than the decay are rejected
    shortest = 2 if options["cycle_mult"] == 1 and span > 1 else 1
    options["cycle_steps"] = draw(st.integers(shortest, max(shortest, span)))  # the default: test_schedules_tables
    options["cycle_decay"] = draw(st.one_of(st.just(1.0), st.floats(0.05, 1.0)))
    return "sgdr", options


@st.composite
def wsd_case(draw) -> tuple[str, dict]:
    options = draw(common_options())
    span = options["num_training_steps"] - options["num_warmup_steps"]
    options["decay_length"] = draw(st.integers(1, span))
    options["decay_type"] = draw(st.sampled_from(["linear", "cosine", "1-sqrt", "exponential"]))
    if options["decay_type"] == "exponential":  # geometric to the floor: needs one above 0
        options["min_lr_ratio"] = max(options["min_lr_ratio"], 0.01)
    return "wsd", options


@st.composite
def sequential_case(draw) -> tuple[str, dict]:
    options = draw(common_options())
    del options["min_lr_ratio"]  # each phase has its own
    span = options["num_training_steps"] - options["num_warmup_steps"]
    cuts = sorted(set(draw(st.lists(st.integers(1, span - 1), max_size=3)))) if span > 1 else []
    lengths = [b - a for a, b in zip([0, *cuts], cuts, strict=False)]
    phases = [{"schedule": "constant", "length": n} for n in lengths[:1]]
    phases += [{"schedule": "warmup_step", "length": n, "gamma": 0.5} for n in lengths[1:] if n >= 2]
    phases.append({"schedule": "warmup_exponential", "final_lr_ratio": draw(st.floats(0.01, 1.0))})
    options["phases"] = phases
    return "sequential", options


BUILDERS = {
    "exponential": schedules.exponential_schedule,
    "step": schedules.step_schedule,
    "multistep": schedules.multistep_schedule,
    "sgdr": schedules.sgdr_schedule,
    "wsd": schedules.wsd_schedule,
    "sequential": schedules.sequential_schedule,
}

any_warmup_case = st.one_of(
    exponential_case(), step_case(), multistep_case(), sgdr_case(), wsd_case(), sequential_case()
)


def build(case: tuple[str, dict]):
    kind, options = case
    return BUILDERS[kind](**options)


def values(schedule, start: int, stop: int) -> list[float]:
    out = [schedule(step) for step in range(start, stop)]
    assert all(math.isfinite(v) for v in out), out
    return out


def pairs(seq: list[float]):
    return zip(seq, seq[1:], strict=False)


# A few ulps of the peak (1.0) of slack: torch's linear anneal, (end - start) * pct + start, can land
# that far off the next phase's exact start value (e.g. 0.05263157894736836 then 0.05263157894736842);
# that is rounding, not a change of direction.
ULP_SLACK = 1e-15


def nonincreasing(seq: list[float]) -> bool:
    return all(b <= a + ULP_SLACK for a, b in pairs(seq))


def nondecreasing(seq: list[float]) -> bool:
    return all(b >= a - ULP_SLACK for a, b in pairs(seq))


# --------------------------------------------------------------------------------------------------
# Warmup, for every schedule that has one and every warmup type
# --------------------------------------------------------------------------------------------------


SHORT_RUN = {"warmup_type": "linear", "warmup_start_ratio": 0.0, "min_lr_ratio": 0.0}


@SETTINGS
@given(any_warmup_case)
# Default milestones when only one step follows warmup: there is no room for a drop.
@example(("multistep", {"num_warmup_steps": 5, "num_training_steps": 6, "milestones": None, **SHORT_RUN}))
@example(("multistep", {"num_warmup_steps": 0, "num_training_steps": 1, "milestones": None, **SHORT_RUN}))
def test_warmup_rises_to_exactly_one_without_a_jump(case):
    _, options = case
    schedule = build(case)
    warmup, start = options["num_warmup_steps"], options["warmup_start_ratio"]
    assert schedule(warmup) == 1.0  # the base LR at the end of warmup, exactly
    if warmup == 0:
        return
    ramp = values(schedule, 0, warmup)
    assert ramp[0] == start
    assert nondecreasing(ramp + [1.0])
    assert all(start <= v <= 1.0 for v in ramp)
    if warmup >= 2:
        # Continuity: the step onto the peak is no bigger than the steps of the ramp itself.
        if options["warmup_type"] == "exponential":  # geometric: compare ratios
            last = 1.0 / ramp[-1]
            largest = max(b / a for a, b in pairs(ramp))
        else:
            last = 1.0 - ramp[-1]
            largest = max(b - a for a, b in pairs(ramp))
        assert last <= largest * (1 + 1e-9) + ULPS
        if options["warmup_type"] == "linear":  # evenly spaced: the last step is exactly one increment
            assert math.isclose(last, (1.0 - start) / warmup, rel_tol=1e-9, abs_tol=ULPS)


# --------------------------------------------------------------------------------------------------
# After warmup
# --------------------------------------------------------------------------------------------------


@SETTINGS
@given(st.one_of(exponential_case(), step_case(), multistep_case()))
def test_decays_are_monotone_and_between_floor_and_peak(case):
    kind, options = case
    schedule = build(case)
    warmup, total, floor = options["num_warmup_steps"], options["num_training_steps"], options["min_lr_ratio"]
    decay = values(schedule, warmup, total + 20)  # also a little past the end
    assert decay[0] == 1.0
    assert nonincreasing(decay)
    assert all(floor <= v <= 1.0 for v in decay)
    if kind == "exponential" and options.get("final_lr_ratio") and options["staircase_steps"] is None:
        # reaches final_lr_ratio (or the floor) exactly at num_training_steps
        expected = max(options["final_lr_ratio"], floor)
        assert math.isclose(schedule(total), expected, rel_tol=1e-9)
    if kind == "multistep" and options["milestones"]:
        for i, milestone in enumerate(options["milestones"]):
            assert (
                schedule(milestone - 1) > schedule(milestone)
                or schedule(milestone - 1) == floor
                or (options["gamma"] == 1.0)
            )
            assert math.isclose(schedule(milestone), max(options["gamma"] ** (i + 1), floor), rel_tol=1e-12)


def sgdr_cycles(warmup: int, stop: int, cycle_steps: int, cycle_mult: int):
    """(index, first step, end step) of each cycle that starts before ``stop``, computed independently."""
    first, length, index = warmup, cycle_steps, 0
    while first < stop:
        yield index, first, first + length
        first, length, index = first + length, length * cycle_mult, index + 1


@SETTINGS
@given(sgdr_case())
# A decayed cycle peak below the floor: the floor wins.
@example(
    (
        "sgdr",
        {
            "num_warmup_steps": 3,
            "num_training_steps": 40,
            "cycle_steps": 5,
            "cycle_mult": 1,
            "cycle_decay": 0.5,
            **dict(SHORT_RUN, min_lr_ratio=0.3),
        },
    )
)
def test_sgdr_anneals_within_each_cycle_between_floor_and_cycle_peak(case):
    _, options = case
    schedule = build(case)
    warmup, total, floor = options["num_warmup_steps"], options["num_training_steps"], options["min_lr_ratio"]
    cycle_steps = options["cycle_steps"]
    checked = 0
    for index, first, end in sgdr_cycles(warmup, total + 20, cycle_steps, options["cycle_mult"]):
        cycle = values(schedule, first, min(end, total + 20))
        peak = max(options["cycle_decay"] ** index, floor)
        assert math.isclose(cycle[0], peak, rel_tol=1e-12)  # each restart jumps back to its peak
        assert nonincreasing(cycle)
        assert all(floor <= v <= peak * (1 + ULPS) for v in cycle)
        if end - first >= 2 and end <= total + 20:
            # the last step of a cycle is close to the floor: one cosine step above it
            assert cycle[-1] - floor <= (peak - floor) * (math.pi / (end - first)) ** 2 / 4 + ULPS
        checked += len(cycle)
    assert checked == total + 20 - warmup


# --------------------------------------------------------------------------------------------------
# One cycle: LR rises then falls, momentum the other way
# --------------------------------------------------------------------------------------------------


@st.composite
def one_cycle_case(draw) -> dict:
    total = draw(st.integers(3, 400))
    three_phase = draw(st.booleans())
    pct_start = draw(st.floats(1.0 / total, 0.49 if three_phase else 0.99, exclude_min=True))
    assume(pct_start * total > 1)
    assume(not three_phase or 2 * pct_start * total - 2 < total - 1)
    return {
        "num_training_steps": total,
        "pct_start": pct_start,
        "anneal_strategy": draw(st.sampled_from(schedules.ANNEAL_STRATEGIES)),
        "three_phase": three_phase,
        "div_factor": draw(st.floats(1.0, 1e3)),
        "final_div_factor": draw(st.floats(1.0, 1e5)),
        "min_lr_ratio": draw(floor_ratio),
    }


@SETTINGS
@given(one_cycle_case(), st.floats(0.0, 0.99), st.floats(0.0, 0.99))
@example(
    options={
        "num_training_steps": 6,
        "pct_start": 0.25,
        "anneal_strategy": "linear",
        "three_phase": True,
        "div_factor": 19.0,
        "final_div_factor": 1.0,
        "min_lr_ratio": 0.0,
    },
    momentum_a=0.0,
    momentum_b=0.0,
)
def test_one_cycle_rises_then_falls_and_momentum_mirrors_it(options, momentum_a, momentum_b):
    total, floor = options["num_training_steps"], options["min_lr_ratio"]
    schedule = schedules.one_cycle_schedule(**options)
    lr = values(schedule, 0, total + 20)
    peak_step = lr.index(max(lr))
    assert peak_step <= options["pct_start"] * total  # the peak is in the rising phase
    assert nondecreasing(lr[: peak_step + 1])
    assert nonincreasing(lr[peak_step:])
    assert all(floor <= v <= 1.0 + ULPS for v in lr)
    initial = 1.0 / options["div_factor"]
    assert math.isclose(lr[0], max(initial, floor), rel_tol=1e-12)
    final = max(initial / options["final_div_factor"], floor)
    assert math.isclose(lr[total - 1], final, rel_tol=1e-9, abs_tol=1e-15)
    assert lr[total - 1 :] == [lr[total - 1]] * 21  # held past the end
    rise_end = options["pct_start"] * total - 1
    if rise_end == int(rise_end):
        assert lr[int(rise_end)] == max(1.0, floor)  # the peak is max_lr, exactly

    low, high = sorted((momentum_a, momentum_b))
    momentum = schedules.one_cycle_momentum_schedule(
        total,
        pct_start=options["pct_start"],
        anneal_strategy=options["anneal_strategy"],
        three_phase=options["three_phase"],
        base_momentum=low,
        max_momentum=high,
    )
    m = values(momentum, 0, total + 20)
    # (subnormal momenta lose their last bit in torch's arithmetic `(start - end) / 2`: abs_tol)
    assert math.isclose(m[0], high, rel_tol=1e-12, abs_tol=1e-300)
    assert all(low - ULPS <= v <= high + ULPS for v in m)
    trough = m.index(min(m))
    assert nonincreasing(m[: trough + 1]) and nondecreasing(m[trough:])
    assert m[total - 1 :] == [m[total - 1]] * 21


# --------------------------------------------------------------------------------------------------
# Fractions of training resolve to the same schedule as the step count they stand for
# --------------------------------------------------------------------------------------------------


@SETTINGS
@given(
    total=st.integers(2, 2000),
    fraction=st.floats(0.0, 1.0, exclude_min=True, exclude_max=True),
    kind=st.sampled_from(["warmup", "step_size", "milestone", "cycle_steps", "staircase_steps"]),
)
def test_fractional_lengths_equal_their_step_count(total, fraction, kind):
    minimum = 0 if kind in ("warmup", "milestone") else 1
    steps = validation.resolve_length(kind, fraction, total, minimum=minimum)
    # Rounds up (never loses a step) to the first whole step at or past fraction * total, up to
    # float noise in the product; the exact rule is pinned by the literal table below.
    assert steps >= fraction * total - 1e-6
    assert steps == minimum or steps - 1 < fraction * total
    if kind == "warmup":
        assume(steps < total)
        build = lambda w: schedules.step_schedule(w, total, gamma=0.5)  # noqa: E731
    elif kind == "step_size":
        assume(steps < total)
        build = lambda s: schedules.step_schedule(0, total, step_size=s, gamma=0.5)  # noqa: E731
    elif kind == "milestone":
        assume(0 < steps < total)
        build = lambda m: schedules.multistep_schedule(0, total, milestones=[m], gamma=0.5)  # noqa: E731
    elif kind == "cycle_steps":
        build = lambda c: schedules.sgdr_schedule(0, total, cycle_steps=c, cycle_mult=2)  # noqa: E731
    else:
        assume(steps < total)
        build = lambda k: schedules.exponential_schedule(0, total, gamma=0.9, staircase_steps=k)  # noqa: E731
    by_fraction, by_steps = build(fraction), build(steps)
    probe = sorted({0, 1, steps - 1, steps, steps + 1, total // 2, total - 1, total})
    assert [by_fraction(s) for s in probe] == [by_steps(s) for s in probe]


# (total, fraction, minimum) -> steps, worked out by hand: fraction * total rounded up, except that
# float noise in the product (0.3 * 100 = 30.000000000000004) does not add a step.
FRACTION_TABLE = [
    (100, 0.3, 0, 30),
    (100, 0.29, 0, 29),
    (1000, 0.1, 0, 100),
    (7, 0.5, 0, 4),
    (10, 0.35, 0, 4),
    (3, 0.01, 0, 1),
    (200, 0.001, 1, 1),
    (10, 0.7, 0, 7),
    (30, 0.1, 0, 3),
    (2000, 0.0005, 0, 1),
    (3, 0.999, 0, 3),
    (100, 0.301, 0, 31),  # 30.1 rounds up
    (100, 0.300000000004, 0, 30),  # 30.0000000004: noise below 1e-9 is dropped
]


@pytest.mark.parametrize("total, fraction, minimum, steps", FRACTION_TABLE)
def test_fraction_resolution_table(total, fraction, minimum, steps):
    assert validation.resolve_length("x", fraction, total, minimum=minimum) == steps


# --------------------------------------------------------------------------------------------------
# Extreme but accepted options: every multiplier is finite and in [0, 1]
# --------------------------------------------------------------------------------------------------

JUST_BELOW_ONE = math.nextafter(1.0, 0.0)
SMALLEST = 5e-324  # the smallest positive float
HUGE_FLOAT = 1.7976931348623157e308


def extreme(low_values, strategy):
    """``strategy`` or one of the hand-picked edge values."""
    return st.one_of(st.sampled_from(low_values), strategy)


ratio01 = extreme([0.0, SMALLEST, 1e-300, 0.5, JUST_BELOW_ONE], st.floats(0.0, 1.0, exclude_max=True))
positive_ratio = extreme([SMALLEST, 1e-300, JUST_BELOW_ONE, 1.0], st.floats(0.0, 1.0, exclude_min=True))
totals = extreme([2, 3, 4, 10**9 + 7, 10**15, 2**53], st.integers(2, 2**53))


@st.composite
def extreme_case(draw):
    total = draw(totals)
    warmup = draw(extreme([0, 1, total - 1], st.integers(0, total - 1)))
    span = total - warmup
    warmup_type = draw(st.sampled_from(schedules.WARMUP_TYPES))
    start = draw(positive_ratio.filter(lambda s: s < 1.0) if warmup_type == "exponential" else ratio01)
    common = dict(
        num_warmup_steps=warmup,
        num_training_steps=total,
        warmup_type=warmup_type,
        warmup_start_ratio=start,
        min_lr_ratio=draw(ratio01),
    )
    kind = draw(st.sampled_from(["exponential", "step", "multistep", "sgdr", "one_cycle"]))
    if kind == "exponential":
        if draw(st.booleans()):
            common["gamma"] = draw(positive_ratio)
        else:
            common["final_lr_ratio"] = draw(positive_ratio)
        if span >= 2:
            common["staircase_steps"] = draw(st.one_of(st.none(), extreme([1, span - 1], st.integers(1, span - 1))))
    elif kind == "step":
        common["gamma"] = draw(positive_ratio)
        if span >= 2:
            common["step_size"] = draw(st.one_of(st.none(), extreme([1, span - 1], st.integers(1, span - 1))))
    elif kind == "multistep":
        common["gamma"] = draw(positive_ratio)
        if warmup + 1 <= total - 1:
            picks = draw(st.lists(extreme([warmup + 1, total - 1], st.integers(warmup + 1, total - 1)), max_size=4))
            common["milestones"] = sorted(set(picks)) or None
    elif kind == "sgdr":
        common["cycle_mult"] = mult = draw(extreme([1, 2, 2**53], st.integers(1, 2**53)))
        shortest = 2 if mult == 1 and span > 1 else 1
        common["cycle_steps"] = draw(extreme([shortest, span], st.integers(min(shortest, span), span)))
        common["cycle_decay"] = draw(positive_ratio)
    else:
        three_phase = draw(st.booleans())
        common = dict(
            num_training_steps=total,
            pct_start=draw(
                extreme([JUST_BELOW_ONE, 0.49, 0.5], st.floats(0.0, 1.0, exclude_min=True, exclude_max=True))
            ),
            anneal_strategy=draw(st.sampled_from(schedules.ANNEAL_STRATEGIES)),
            three_phase=three_phase,
            div_factor=draw(extreme([1.0, HUGE_FLOAT], st.floats(1.0, HUGE_FLOAT))),
            final_div_factor=draw(extreme([1.0, HUGE_FLOAT], st.floats(1.0, HUGE_FLOAT))),
            min_lr_ratio=common["min_lr_ratio"],
        )
    return kind, common


EXTREME_BUILDERS = {**BUILDERS, "one_cycle": schedules.one_cycle_schedule}


@settings(max_examples=300, deadline=None)
@given(extreme_case(), st.lists(st.integers(0, 2**54), max_size=8))
def test_extreme_accepted_options_give_multipliers_in_unit_interval(case, random_steps):
    kind, options = case
    try:
        schedule = EXTREME_BUILDERS[kind](**options)
    except ValueError:  # e.g. a one-cycle pct_start too small for its T: rejected, not a bad curve
        assume(False)
    total = options["num_training_steps"]
    warmup = options.get("num_warmup_steps", 0)
    steps = {0, 1, warmup - 1, warmup, warmup + 1, total // 2, total - 2, total - 1, total, total + 1, 10 * total}
    for step in sorted(s for s in steps | set(random_steps) if s >= 0):
        value = schedule(step)
        assert math.isfinite(value) and 0.0 <= value <= 1.0, (step, value)
    if kind == "one_cycle":
        momentum = schedules.one_cycle_momentum_schedule(
            total,
            pct_start=options["pct_start"],
            three_phase=options["three_phase"],
            base_momentum=0.0,
            max_momentum=JUST_BELOW_ONE,
        )
        assert all(0.0 <= momentum(s) <= 1.0 for s in sorted(steps) if s >= 0)
