"""One-cycle (Smith & Topin 2017), phase for phase as ``torch.optim.lr_scheduler.OneCycleLR``.

Pure ``step -> value`` builders for the LR multiplier and the momentum that goes with it; the
factory :func:`hf_lrsched.get_one_cycle_schedule` wraps them. Re-exported by :mod:`hf_lrsched.schedules`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

from ._checks.validation import (
    _is_real,
    check_bool,
    check_choice,
    check_int,
    check_lengths,
    check_multipliers,
    check_per_group,
    check_real,
    with_option_checks,
)

Schedule = Callable[[int], float]

ANNEAL_STRATEGIES = ("cos", "linear")

__all__ = ["ANNEAL_STRATEGIES", "one_cycle_momentum_schedule", "one_cycle_schedule", "resolve_pct_start"]


def _one_cycle_value(
    step: int,
    *,
    phases: tuple[tuple[float, float, float, float], ...],
    anneal_strategy: str,
    floor: float = 0.0,
) -> float:
    # phases: (start_step, end_step, start_value, end_value). The first phase whose end_step is not
    # passed applies, else the last; past the last update (step T-1) its final value is held (torch
    # raises after T and extrapolates at T).
    for start_step, end_step, start, end in phases:  # noqa: B007  (the phase found is used below)
        if step <= end_step:
            break
    else:
        step = min(step, end_step)
    pct = (step - start_step) / (end_step - start_step)
    # The arithmetic of OneCycleLR's _annealing_cos / _annealing_linear, so results agree to the ulp.
    if anneal_strategy == "cos":
        value = end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
    else:
        value = (end - start) * pct + start
    return floor if value < floor else value  # a NaN is never replaced by the floor


def _one_cycle_phases(end_steps: tuple[float, ...], points) -> tuple[tuple[float, float, float, float], ...]:
    starts = (0.0, *end_steps[:-1])
    return tuple((a, b, p[0], p[1]) for a, b, p in zip(starts, end_steps, points, strict=True))


def _check_pct_start(pct_start) -> float:
    if not _is_real(pct_start) or not 0.0 < pct_start < 1.0:
        raise ValueError(f"pct_start must be a float in (0, 1), got {pct_start!r}")
    return float(pct_start)


def _check_one_cycle_options(
    pct_start, anneal_strategy, div_factor, final_div_factor, three_phase, min_lr_ratio
) -> tuple[float, float, float]:
    """The LR options, which need no run length (``pct_start=None``: derived later); returns the divisors and floor."""
    if pct_start is not None:
        _check_pct_start(pct_start)
    check_bool("three_phase", three_phase)
    check_choice("anneal_strategy", anneal_strategy, ANNEAL_STRATEGIES)
    # Below 1 the initial LR would exceed max_lr, or the final LR the initial one.
    div = check_real("div_factor", div_factor, 1.0)
    final_div = check_real("final_div_factor", final_div_factor, 1.0)
    floor = check_real("min_lr_ratio", min_lr_ratio, 0.0, 1.0, high_open=True)
    return div, final_div, floor


def _check_momentum_options(base_momentum, max_momentum) -> None:
    # One value, or one per param group (the factory's form).
    check_per_group("base_momentum", base_momentum, 0.0, 1.0, high_open=True)
    check_per_group("max_momentum", max_momentum, 0.0, 1.0, high_open=True)


def _one_cycle_end_steps(num_training_steps, pct_start, three_phase, *, origin: str = "") -> tuple[float, ...]:
    # origin: where a derived pct_start came from, put first in the messages (see resolve_pct_start).
    total = check_int("num_training_steps", num_training_steps, minimum=2)
    _check_pct_start(pct_start)
    check_bool("three_phase", three_phase)
    first = float(pct_start * total) - 1
    if first <= 0:
        raise ValueError(
            f"{origin}pct_start={pct_start!r} with num_training_steps={total} leaves {pct_start * total:g} steps "
            f"for the rise; it needs more than 1 (pct_start > {1 / total:g})"
        )
    if not three_phase:
        return (first, total - 1)
    second = float(2 * pct_start * total) - 2
    if second >= total - 1:
        raise ValueError(
            f"{origin}pct_start={pct_start!r} is too large for three_phase=True: rise and fall take "
            f"2 * pct_start of training, leaving nothing for the final anneal (use pct_start < 0.5)"
        )
    return (first, second, total - 1)


def resolve_pct_start(pct_start, num_warmup_steps, num_training_steps, *, three_phase: bool = False) -> float:
    """The fraction of training one-cycle spends rising: the one place it is derived from warmup.

    ``pct_start`` when given; else ``num_warmup_steps / num_training_steps`` (the warmup is the
    rise), or 0.3 (``OneCycleLR``'s default) without warmup. The lengths are checked either way, so
    a bad warmup is never silently ignored; an error about a derived value names the warmup it
    came from.

    Args:
      pct_start: the option as given (``None``: derive it).
      num_warmup_steps: warmup steps, or a fraction of ``num_training_steps``.
      num_training_steps: total optimizer steps, >= 2.
      three_phase: whether the three-phase variant will use it.

    Returns:
      ``pct_start``, checked.

    Examples:
      >>> resolve_pct_start(None, 25, 100), resolve_pct_start(None, 0, 100), resolve_pct_start(0.4, 25, 100)
      (0.25, 0.3, 0.4)
      >>> resolve_pct_start(None, 1, 100)
      Traceback (most recent call last):
      ...
      ValueError: num_warmup_steps=1 gives pct_start = 1/100 = 0.01: pct_start=0.01 with ...
    """
    warmup, total = check_lengths(num_warmup_steps, num_training_steps, schedule="one_cycle")
    total = check_int("num_training_steps", total, minimum=2)
    origin = ""
    if pct_start is None:
        pct_start = warmup / total if warmup else 0.3
        origin = f"num_warmup_steps={warmup} gives pct_start = {warmup}/{total} = {pct_start!r}: " if warmup else ""
    _one_cycle_end_steps(total, pct_start, three_phase, origin=origin)
    return pct_start


@with_option_checks(_check_one_cycle_options)
def one_cycle_schedule(
    num_training_steps: int,
    *,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
    min_lr_ratio: float = 0.0,
) -> Schedule:
    r"""The 1cycle learning-rate policy, as a multiplier of ``max_lr``.

    Two phases (default): rise from ``1/div_factor`` to 1 over the first ``pct_start`` of training,
    then anneal to ``1/(div_factor * final_div_factor)``. With ``three_phase`` the LR rises, falls
    back symmetrically to ``1/div_factor``, then anneals to the minimum. Each phase interpolates with
    ``anneal_strategy``: ``cos``, :math:`e + (s - e)(1 + \cos(\pi p))/2`, or ``linear``. Phase
    boundaries and arithmetic are those of ``torch.optim.lr_scheduler.OneCycleLR``; past the last
    update the final value is held (torch raises).

    Args:
      num_training_steps: total optimizer steps (``total_steps``), >= 2.
      pct_start: fraction of training spent rising, in (0, 1).
      anneal_strategy: ``"cos"`` or ``"linear"``.
      div_factor: initial LR is ``max_lr / div_factor``; >= 1 (the start never exceeds the peak).
      final_div_factor: final LR is ``max_lr / (div_factor * final_div_factor)``; >= 1 (the end
        never exceeds the start).
      three_phase: use the three-phase variant.
      min_lr_ratio: floor, as a fraction of ``max_lr``.

    Returns:
      A function ``step -> multiplier of max_lr``.

    Examples:
      >>> f = one_cycle_schedule(100, pct_start=0.25)
      >>> round(f(0), 12), f(24), f(99)
      (0.04, 1.0, 4e-06)
    """
    end_steps = _one_cycle_end_steps(num_training_steps, pct_start, three_phase)
    div, final_div, floor = _check_one_cycle_options(
        pct_start, anneal_strategy, div_factor, final_div_factor, three_phase, min_lr_ratio
    )
    initial = 1.0 / div
    minimum = initial / final_div
    check_multipliers("one_cycle", initial=initial, final=minimum)
    points = ((initial, 1.0), (1.0, initial), (initial, minimum)) if three_phase else ((initial, 1.0), (1.0, minimum))
    return functools.partial(
        _one_cycle_value, phases=_one_cycle_phases(end_steps, points), anneal_strategy=anneal_strategy, floor=floor
    )


def one_cycle_momentum_schedule(
    num_training_steps: int,
    *,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    three_phase: bool = False,
    base_momentum: float = 0.85,
    max_momentum: float = 0.95,
) -> Schedule:
    """The momentum (or Adam ``beta1``) that goes with :func:`one_cycle_schedule`: an absolute value.

    It moves opposite to the LR: ``max_momentum`` -> ``base_momentum`` while the LR rises, back to
    ``max_momentum`` while it falls (and held there in the third phase of ``three_phase``).

    Args:
      num_training_steps: total optimizer steps, >= 2.
      pct_start: fraction of training spent rising, in (0, 1).
      anneal_strategy: ``"cos"`` or ``"linear"``.
      three_phase: use the three-phase variant.
      base_momentum: lowest momentum, at the LR peak, in [0, 1).
      max_momentum: highest momentum, at the ends, in [0, 1).

    Returns:
      A function ``step -> momentum``.

    Examples:
      >>> m = one_cycle_momentum_schedule(100, pct_start=0.25)
      >>> m(0), m(24), m(99)
      (0.95, 0.85, 0.95)
    """
    end_steps = _one_cycle_end_steps(num_training_steps, pct_start, three_phase)
    check_choice("anneal_strategy", anneal_strategy, ANNEAL_STRATEGIES)
    low = check_real("base_momentum", base_momentum, 0.0, 1.0, high_open=True)
    high = check_real("max_momentum", max_momentum, 0.0, 1.0, high_open=True)
    points = ((high, low), (low, high), (high, high)) if three_phase else ((high, low), (low, high))
    return functools.partial(
        _one_cycle_value, phases=_one_cycle_phases(end_steps, points), anneal_strategy=anneal_strategy
    )
