"""Pure learning-rate schedules: ``step -> multiplier`` functions.

Every schedule in this package is defined once, here, as a closed-form function of the optimizer
step (no state carried from one step to the next). A *builder* (``exponential_schedule``,
``step_schedule``, ...) checks its options, resolves fractions of training into step counts, and
returns a ``functools.partial`` of module-level functions: cheap to call, picklable, and free of
attributes, so a ``LambdaLR`` built on it saves a ``torch.load(weights_only=True)``-safe state.

The value is a multiplier of each parameter group's base LR (as in ``LambdaLR``). The factories in
:mod:`hf_lrsched.factories`, the plotting tool and the recipes all evaluate these same functions.

The checks live in :mod:`hf_lrsched._checks.validation` (shared) and :mod:`hf_lrsched._checks.options` (each
builder's), the warmup in :mod:`hf_lrsched.warmup` and one-cycle in :mod:`hf_lrsched.one_cycle`; every
public name of those is importable from here too.

Conventions shared by every builder:

* ``step`` counts optimizer updates, starting at 0 (as in transformers).
* Warmup (steps ``0 .. W-1``) rises from ``warmup_start_ratio`` to 1; step ``W`` is the peak.
* A length may be an ``int`` number of steps or a ``float`` in (0, 1): a fraction of
  ``num_training_steps``, rounded up (transformers' ``warmup_ratio`` rule).
* ``min_lr_ratio`` is a floor, as a fraction of the base LR, applied after warmup.
* Every step count is at most ``MAX_STEPS`` (2**53, the largest range of exactly representable
  float steps), so no length overflows the float arithmetic.
* Every multiplier a builder can return is finite and in [0, 1], checked at construction on the
  closed-form extremes, never by evaluating T steps: every value is the peak 1, the warmup start,
  the floor, a power of a per-step factor in (0, 1], or an interpolation between two of them. The
  values the user gives are checked to lie in [0, 1] themselves; the derived ones (the per-step
  ``gamma`` of ``final_lr_ratio``, one-cycle's initial and final values) by ``check_multipliers``.
  An option that would make a length degenerate (a drop or restart that never happens inside
  training) is a ``ValueError`` saying so.
"""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Callable, Sequence

Schedule = Callable[[int], float]


__all__ = [
    "ANNEAL_STRATEGIES",
    "MAX_STEPS",
    "WARMUP_TYPES",
    "Schedule",
    "check_lengths",
    "check_multipliers",
    "exponential_schedule",
    "multistep_schedule",
    "one_cycle_momentum_schedule",
    "one_cycle_schedule",
    "resolve_length",
    "resolve_pct_start",
    "sgdr_schedule",
    "step_schedule",
    "warmup_multiplier",
]

# The checks, warmup and one-cycle live in their own modules; their public names stay importable from here
# (and the private ones too, so a pickled schedule from an older version still resolves).
from ._checks.options import (  # noqa: E402
    _check_cycle_length,
    _check_drops_inside_training,
    _check_exponential_options,
    _check_multistep_options,
    _check_sgdr_options,
    _check_step_options,
    _resolve_milestones,
)
from ._checks.validation import (  # noqa: E402, F401
    MAX_STEPS,
    _is_int,
    _is_real,
    _show_int,
    check_choice,
    check_int,
    check_length,
    check_lengths,
    check_multipliers,
    check_real,
    resolve_length,
    with_option_checks,
)
from .one_cycle import (  # noqa: E402, F401
    ANNEAL_STRATEGIES,
    _one_cycle_end_steps,
    _one_cycle_phases,
    _one_cycle_value,
    one_cycle_momentum_schedule,
    one_cycle_schedule,
    resolve_pct_start,
)
from .warmup import (  # noqa: E402, F401
    WARMUP_TYPES,
    _check_common,
    _check_warmup_options,
    _join_warmup,
    _with_warmup,
    warmup_multiplier,
)

# --------------------------------------------------------------------------------------------------
# Decays: functions of t = steps since the end of warmup.
# --------------------------------------------------------------------------------------------------


def _exponential_decay(t: int, *, gamma: float, staircase_steps: int, min_lr_ratio: float) -> float:
    exponent = t - t % staircase_steps if staircase_steps > 1 else t
    return max(gamma**exponent, min_lr_ratio)


def _step_decay(t: int, *, step_size: int, gamma: float, min_lr_ratio: float) -> float:
    return max(gamma ** (t // step_size), min_lr_ratio)


def _multistep_decay(t: int, *, milestones: tuple[int, ...], gamma: float, min_lr_ratio: float) -> float:
    return max(gamma ** bisect.bisect_right(milestones, t), min_lr_ratio)


def _cosine_restarts_decay(
    t: int, *, cycle_steps: int, cycle_mult: int, cycle_decay: float, min_lr_ratio: float
) -> float:
    # Integer arithmetic for the cycle boundaries, as CosineAnnealingWarmRestarts does.
    if cycle_mult == 1:
        cycle, t_cur = divmod(t, cycle_steps)
        t_i = cycle_steps
    else:
        cycle, t_cur, t_i = 0, t, cycle_steps
        while t_cur >= t_i:
            t_cur -= t_i
            t_i *= cycle_mult
            cycle += 1
    peak = cycle_decay**cycle if cycle else 1.0
    if peak < min_lr_ratio:  # a decayed peak never drops below the floor: the cycle stays flat there
        peak = min_lr_ratio
    return min_lr_ratio + (peak - min_lr_ratio) * (1.0 + math.cos(math.pi * t_cur / t_i)) / 2.0


# --------------------------------------------------------------------------------------------------
# Builders.
# --------------------------------------------------------------------------------------------------


@with_option_checks(_check_warmup_options, _check_exponential_options)
def exponential_schedule(
    num_warmup_steps: int | float = 0,
    num_training_steps: int | None = None,
    *,
    gamma: float | None = None,
    final_lr_ratio: float | None = None,
    staircase_steps: int | float | None = None,
    min_lr_ratio: float = 0.0,
    warmup_type: str = "linear",
    warmup_start_ratio: float = 0.0,
) -> Schedule:
    r"""Warmup, then exponential decay: ``ExponentialLR`` after warmup.

    After ``W`` warmup steps the multiplier is

    .. math:: m(step) = \max(\gamma^{e}, \text{min\_lr\_ratio}),\quad e = step - W

    With ``staircase_steps = k``, ``e`` is rounded down to a multiple of ``k`` (the LR drops in
    jumps every ``k`` steps onto the continuous curve, like optax's ``staircase``).

    Args:
      num_warmup_steps: warmup length (steps, or fraction of ``num_training_steps``).
      num_training_steps: total optimizer steps. Needed unless ``gamma`` is given.
      gamma: per-step decay factor in (0, 1].
      final_lr_ratio: alternative to ``gamma``: reach ``base_lr * final_lr_ratio`` at step
        ``num_training_steps``; ``gamma = final_lr_ratio ** (1 / (T - W))``. Default when neither
        is given: ``final_lr_ratio=0.01`` (end at 1% of the peak).
      staircase_steps: decay in discrete jumps every this many steps (``None``: smooth); with
        ``num_training_steps`` it must be shorter than the steps after warmup (else the LR would
        never drop).
      min_lr_ratio: floor, as a fraction of the base LR.
      warmup_type: ``"linear"``, ``"cosine"`` or ``"exponential"``.
      warmup_start_ratio: multiplier at step 0.

    Returns:
      A function ``step -> multiplier``.

    Examples:
      >>> f = exponential_schedule(num_warmup_steps=2, num_training_steps=10, gamma=0.5)
      >>> [f(s) for s in range(6)]
      [0.0, 0.5, 1.0, 0.5, 0.25, 0.125]
      >>> g = exponential_schedule(0, 100, final_lr_ratio=0.01)
      >>> round(g(100), 12)
      0.01
    """
    warmup, total, warmup_type, start, floor = _check_common(
        num_warmup_steps, num_training_steps, warmup_type, warmup_start_ratio, min_lr_ratio, require_total=False
    )
    _check_exponential_options(gamma, final_lr_ratio, staircase_steps)
    if gamma is not None:
        gamma = float(gamma)
    else:
        ratio = 0.01 if final_lr_ratio is None else float(final_lr_ratio)
        if total is None:
            raise ValueError(
                "num_training_steps is required unless gamma is given (final_lr_ratio="
                f"{ratio!r} is reached at num_training_steps), got num_training_steps=None"
            )
        gamma = ratio ** (1.0 / (total - warmup))
    k = 1 if staircase_steps is None else resolve_length("staircase_steps", staircase_steps, total, minimum=1)
    if total is not None and k > 1:
        _check_drops_inside_training("staircase_steps", staircase_steps, k, warmup, total)
    check_multipliers("warmup_exponential", decay_per_step=gamma)  # derived from final_lr_ratio
    decay = functools.partial(_exponential_decay, gamma=gamma, staircase_steps=k, min_lr_ratio=floor)
    return _with_warmup(decay, warmup, warmup_type, start)


@with_option_checks(_check_warmup_options, _check_step_options)
def step_schedule(
    num_warmup_steps: int | float,
    num_training_steps: int,
    *,
    step_size: int | float | None = None,
    gamma: float = 0.1,
    min_lr_ratio: float = 0.0,
    warmup_type: str = "linear",
    warmup_start_ratio: float = 0.0,
) -> Schedule:
    r"""Warmup, then step decay: ``StepLR`` after warmup.

    .. math:: m(step) = \max(\gamma^{\lfloor (step - W) / \text{step\_size} \rfloor}, \text{min\_lr\_ratio})

    Args:
      num_warmup_steps: warmup length (steps, or fraction of ``num_training_steps``).
      num_training_steps: total optimizer steps.
      step_size: steps between drops, counted from the end of warmup (steps, or fraction of
        ``num_training_steps``); it must be shorter than the steps after warmup (else the LR would
        never drop). Default: a third of the steps after warmup, so the LR drops twice and ends at
        ``gamma**2`` of the peak (no drop when a single step follows warmup).
      gamma: factor applied at each drop, in (0, 1].
      min_lr_ratio: floor, as a fraction of the base LR.
      warmup_type: ``"linear"``, ``"cosine"`` or ``"exponential"``.
      warmup_start_ratio: multiplier at step 0.

    Returns:
      A function ``step -> multiplier``.

    Examples:
      >>> f = step_schedule(0, 9, step_size=3, gamma=0.5)
      >>> [f(s) for s in range(9)]
      [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]
    """
    warmup, total, warmup_type, start, floor = _check_common(
        num_warmup_steps, num_training_steps, warmup_type, warmup_start_ratio, min_lr_ratio
    )
    _check_step_options(step_size, gamma)
    if step_size is None:  # a run with a single step after warmup has no room for a drop: flat
        size = max(1, math.ceil((total - warmup) / 3))
    else:
        size = resolve_length("step_size", step_size, total, minimum=1)
        _check_drops_inside_training("step_size", step_size, size, warmup, total)
    decay = functools.partial(_step_decay, step_size=size, gamma=float(gamma), min_lr_ratio=floor)
    return _with_warmup(decay, warmup, warmup_type, start)


@with_option_checks(_check_warmup_options, _check_multistep_options)
def multistep_schedule(
    num_warmup_steps: int | float,
    num_training_steps: int,
    *,
    milestones: Sequence[int | float] | None = None,
    gamma: float = 0.1,
    min_lr_ratio: float = 0.0,
    warmup_type: str = "linear",
    warmup_start_ratio: float = 0.0,
) -> Schedule:
    r"""Warmup, then drops at milestones: ``MultiStepLR`` after warmup.

    .. math:: m(step) = \max(\gamma^{\#\{i:\ \text{milestones}_i \le step\}}, \text{min\_lr\_ratio})

    Milestones are **absolute** optimizer steps, as in ``MultiStepLR`` (to convert epochs, multiply
    by the number of updates per epoch), or fractions of ``num_training_steps``. Each must lie after
    warmup and before the end of training.

    Args:
      num_warmup_steps: warmup length (steps, or fraction of ``num_training_steps``).
      num_training_steps: total optimizer steps.
      milestones: increasing steps (ints) or fractions (floats in (0, 1)) at which the LR is
        multiplied by ``gamma``. Default: halfway and three quarters through the steps after warmup
        (no drop at all when fewer than 2 steps follow warmup).
      gamma: factor applied at each milestone, in (0, 1].
      min_lr_ratio: floor, as a fraction of the base LR.
      warmup_type: ``"linear"``, ``"cosine"`` or ``"exponential"``.
      warmup_start_ratio: multiplier at step 0.

    Returns:
      A function ``step -> multiplier``.

    Examples:
      >>> f = multistep_schedule(0, 200, milestones=[60, 120, 160], gamma=0.2)
      >>> [round(f(s), 12) for s in (59, 60, 120, 160, 199)]
      [1.0, 0.2, 0.04, 0.008, 0.008]
    """
    warmup, total, warmup_type, start, floor = _check_common(
        num_warmup_steps, num_training_steps, warmup_type, warmup_start_ratio, min_lr_ratio
    )
    _check_multistep_options(milestones, gamma)
    if milestones is None:
        span = total - warmup
        steps = sorted({warmup + max(1, math.ceil(span * f)) for f in (0.5, 0.75)})
        # Very short runs may leave no room after the peak step: then there is no drop at all.
        steps = [s for s in steps if s < total]
    else:
        steps = _resolve_milestones(milestones, warmup, total)
    relative = tuple(s - warmup for s in steps)
    decay = functools.partial(_multistep_decay, milestones=relative, gamma=float(gamma), min_lr_ratio=floor)
    return _with_warmup(decay, warmup, warmup_type, start)


@with_option_checks(_check_warmup_options, _check_sgdr_options)
def sgdr_schedule(
    num_warmup_steps: int | float,
    num_training_steps: int,
    *,
    cycle_steps: int | float | None = None,
    cycle_mult: int = 1,
    cycle_decay: float = 1.0,
    min_lr_ratio: float = 0.0,
    warmup_type: str = "linear",
    warmup_start_ratio: float = 0.0,
) -> Schedule:
    r"""Warmup, then cosine annealing with warm restarts (SGDR, Loshchilov & Hutter 2017).

    With ``t = step - W``, ``T_i = cycle_steps * cycle_mult**i`` the length of cycle ``i`` and
    ``t_cur`` the steps into it:

    .. math:: m = r + (\max(\text{cycle\_decay}^i, r) - r)\,\frac{1 + \cos(\pi\, t_{cur} / T_i)}{2},
              \quad r = \text{min\_lr\_ratio}

    ``CosineAnnealingWarmRestarts(T_0=cycle_steps, T_mult=cycle_mult, eta_min=r * base_lr)`` when
    ``cycle_decay=1`` and there is no warmup.

    Args:
      num_warmup_steps: warmup length (steps, or fraction of ``num_training_steps``).
      num_training_steps: total optimizer steps.
      cycle_steps: length of the first cycle (steps, or fraction of ``num_training_steps``), from 2
        to the number of steps after warmup (1 with ``cycle_mult=1`` would restart every step: a
        constant peak; a longer cycle would never finish). Default: a quarter of the steps after
        warmup (four cycles when ``cycle_mult=1``), at least 2.
      cycle_mult: int in [1, 2**53]; each cycle is this many times longer than the previous.
      cycle_decay: peak of cycle ``i`` is ``max(cycle_decay**i, min_lr_ratio)``, in (0, 1].
      min_lr_ratio: the value each cycle anneals to, as a fraction of the base LR.
      warmup_type: ``"linear"``, ``"cosine"`` or ``"exponential"``.
      warmup_start_ratio: multiplier at step 0.

    Returns:
      A function ``step -> multiplier``.

    Examples:
      >>> f = sgdr_schedule(0, 8, cycle_steps=4)
      >>> [round(f(s), 6) for s in range(8)]
      [1.0, 0.853553, 0.5, 0.146447, 1.0, 0.853553, 0.5, 0.146447]
    """
    warmup, total, warmup_type, start, floor = _check_common(
        num_warmup_steps, num_training_steps, warmup_type, warmup_start_ratio, min_lr_ratio
    )
    _check_sgdr_options(cycle_steps, cycle_mult, cycle_decay)
    span = total - warmup
    if cycle_steps is None:  # a quarter of the decay, but at least 2 steps so that it anneals
        cycle = min(span, max(2, math.ceil(span / 4)))
    else:
        cycle = resolve_length("cycle_steps", cycle_steps, total, minimum=1)
    if cycle_steps is not None:
        _check_cycle_length(cycle_steps, cycle, cycle_mult, span)
    decay = functools.partial(
        _cosine_restarts_decay,
        cycle_steps=cycle,
        cycle_mult=int(cycle_mult),
        cycle_decay=float(cycle_decay),
        min_lr_ratio=floor,
    )
    return _with_warmup(decay, warmup, warmup_type, start)
