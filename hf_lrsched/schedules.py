"""Pure learning-rate schedules: ``step -> multiplier`` functions.

Every schedule of this package is defined once, here, as a closed-form function of the optimizer
step (no state carried from one step to the next). Each has three parts:

* its **formula**, a module-level function of the step (``_step_decay``, ``_one_cycle_value``, ...);
* its **curve** (``step_curve``, ...), which binds the formula to options already checked and
  resolved by :mod:`hf_lrsched._checks.options` with ``functools.partial``: cheap to call,
  picklable, and free of attributes, so a ``LambdaLR`` built on it saves a
  ``torch.load(weights_only=True)``-safe state;
* its **builder** (``step_schedule``, ...), the public function: the options pass, then the curve.

The value is a multiplier of each parameter group's base LR (as in ``LambdaLR``). The factories of
:mod:`hf_lrsched.factories` (the options pass, then the curve, then a ``ScheduleLR``), the plotting
tool and the recipes all evaluate these same functions.

Conventions shared by every builder:

* ``step`` counts optimizer updates, starting at 0 (as in transformers).
* Warmup (steps ``0 .. W-1``) rises from ``warmup_start_ratio`` to 1; step ``W`` is the peak.
* A length may be an ``int`` number of steps or a ``float`` in (0, 1): a fraction of
  ``num_training_steps``, rounded up (transformers' ``warmup_ratio`` rule).
* ``min_lr_ratio`` is a floor, as a fraction of the base LR, applied after warmup.
* Every step count is at most 2**53 (the largest range of exactly representable float steps).
* Every multiplier is finite and in [0, 1] by construction: each value is the peak 1, the warmup
  start, the floor, a power of a per-step factor in (0, 1], or an interpolation between two of them,
  and the options pass checks that the values given lie in [0, 1]. An option that would make a
  length degenerate (a drop or restart that never happens inside training) is a ``ValueError``.
"""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Callable, Mapping, Sequence

from ._checks import options as checks
from ._checks.options import ANNEAL_STRATEGIES, WARMUP_TYPES
from ._checks.validation import check_bool, check_choice, check_real

#: A schedule: optimizer step -> multiplier of the base LR (or, for momentum, the value itself).
Schedule = Callable[[int], float]

__all__ = [
    "ANNEAL_STRATEGIES",
    "WARMUP_TYPES",
    "Schedule",
    "exponential_schedule",
    "multistep_schedule",
    "one_cycle_momentum_schedule",
    "one_cycle_schedule",
    "sequential_schedule",
    "sgdr_schedule",
    "step_schedule",
    "warmup_multiplier",
    "wsd_schedule",
]


# --------------------------------------------------------------------------------------------------
# Formulas. The decays are functions of t = steps since the end of warmup.
# --------------------------------------------------------------------------------------------------


def warmup_multiplier(
    step: int, *, num_warmup_steps: int, warmup_type: str = "linear", warmup_start_ratio: float = 0.0
) -> float:
    """Multiplier during warmup, for ``0 <= step < num_warmup_steps``.

    With ``p = step / W`` and ``s = warmup_start_ratio``:

    * ``linear``:      ``s + (1 - s) p`` (transformers' warmup when ``s = 0``)
    * ``cosine``:      ``s + (1 - s) (1 - cos(pi p)) / 2``
    * ``exponential``: ``s ** (1 - p)`` (geometric growth; needs ``s > 0``)

    All three reach 1 at ``step = W``, so the schedule is continuous at the end of warmup.

    Examples:
      >>> warmup_multiplier(5, num_warmup_steps=10)
      0.5
      >>> warmup_multiplier(0, num_warmup_steps=10, warmup_type="exponential", warmup_start_ratio=0.01)
      0.01
    """
    p = step / num_warmup_steps
    s = warmup_start_ratio
    if warmup_type == "linear":
        return s + (1.0 - s) * p
    if warmup_type == "cosine":
        return s + (1.0 - s) * (1.0 - math.cos(math.pi * p)) / 2.0
    return s ** (1.0 - p)


def _join_warmup(
    step: int, *, num_warmup_steps: int, warmup_type: str, warmup_start_ratio: float, decay: Schedule
) -> float:
    # Like optax.join_schedules: the decay sees the step count since the end of warmup.
    if step < num_warmup_steps:
        return warmup_multiplier(
            step, num_warmup_steps=num_warmup_steps, warmup_type=warmup_type, warmup_start_ratio=warmup_start_ratio
        )
    return decay(step - num_warmup_steps)


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


def _sequential_value(t: int, *, starts: tuple[int, ...], phases: tuple[Schedule, ...], min_lr_ratio: float) -> float:
    # Like optax.join_schedules: phase k runs its own schedule on its local step t - starts[k]; the last
    # phase goes on past the end of training (Trainer's final scheduler.step()). float(): transformers'
    # constant gives the int 1.
    k = bisect.bisect_right(starts, t) - 1
    value = float(phases[k](t - starts[k]))
    return value if value >= min_lr_ratio else min_lr_ratio


def _stable_then(t: int, *, stable_steps: int, decay: Schedule) -> float:
    return 1.0 if t < stable_steps else decay(t - stable_steps)


def _wsd_decay(t: int, *, decay_length: int, decay_type: str, min_lr_ratio: float) -> float:
    # p: progress through the decay, held at 1 past the end (1 - sqrt would go negative)
    p = t / decay_length if t < decay_length else 1.0
    if decay_type == "1-sqrt":
        shape = 1.0 - math.sqrt(p)
    elif decay_type == "linear":
        shape = 1.0 - p
    elif decay_type == "cosine":
        shape = (1.0 + math.cos(math.pi * p)) / 2.0
    else:  # exponential: geometric from 1 to min_lr_ratio
        return min_lr_ratio**p
    return min_lr_ratio + (1.0 - min_lr_ratio) * shape


# --------------------------------------------------------------------------------------------------
# Curves: the formulas bound to options resolved by hf_lrsched._checks.options (lengths in steps).
# They derive the defaults left at None and check nothing.
# --------------------------------------------------------------------------------------------------


def _with_warmup(decay: Schedule, num_warmup_steps: int, warmup_type: str, warmup_start_ratio: float) -> Schedule:
    if num_warmup_steps == 0:
        return decay
    return functools.partial(
        _join_warmup,
        num_warmup_steps=num_warmup_steps,
        warmup_type=warmup_type,
        warmup_start_ratio=float(warmup_start_ratio),
        decay=decay,
    )


def exponential_curve(
    *,
    num_warmup_steps: int,
    num_training_steps: int | None,
    gamma: float | None,
    final_lr_ratio: float | None,
    staircase_steps: int | None,
    min_lr_ratio: float,
    warmup_type: str,
    warmup_start_ratio: float,
) -> Schedule:
    """The curve of :func:`exponential_schedule`, from resolved options."""
    if gamma is None:  # in (0, 1]: a root of a ratio in (0, 1]
        ratio = 0.01 if final_lr_ratio is None else final_lr_ratio
        gamma = ratio ** (1.0 / (num_training_steps - num_warmup_steps))
    decay = functools.partial(
        _exponential_decay, gamma=float(gamma), staircase_steps=staircase_steps or 1, min_lr_ratio=float(min_lr_ratio)
    )
    return _with_warmup(decay, num_warmup_steps, warmup_type, warmup_start_ratio)


def step_curve(
    *,
    num_warmup_steps: int,
    num_training_steps: int,
    step_size: int | None,
    gamma: float,
    min_lr_ratio: float,
    warmup_type: str,
    warmup_start_ratio: float,
) -> Schedule:
    """The curve of :func:`step_schedule`, from resolved options."""
    if step_size is None:  # a run with a single step after warmup has no room for a drop: flat
        step_size = max(1, math.ceil((num_training_steps - num_warmup_steps) / 3))
    decay = functools.partial(_step_decay, step_size=step_size, gamma=float(gamma), min_lr_ratio=float(min_lr_ratio))
    return _with_warmup(decay, num_warmup_steps, warmup_type, warmup_start_ratio)


def multistep_curve(
    *,
    num_warmup_steps: int,
    num_training_steps: int,
    milestones: Sequence[int] | None,
    gamma: float,
    min_lr_ratio: float,
    warmup_type: str,
    warmup_start_ratio: float,
) -> Schedule:
    """The curve of :func:`multistep_schedule`, from resolved options (milestones in absolute steps)."""
    warmup, total = num_warmup_steps, num_training_steps
    if milestones is None:
        span = total - warmup
        steps = sorted({warmup + max(1, math.ceil(span * f)) for f in (0.5, 0.75)})
        # Very short runs may leave no room after the peak step: then there is no drop at all.
        milestones = [s for s in steps if s < total]
    relative = tuple(s - warmup for s in milestones)
    decay = functools.partial(
        _multistep_decay, milestones=relative, gamma=float(gamma), min_lr_ratio=float(min_lr_ratio)
    )
    return _with_warmup(decay, warmup, warmup_type, warmup_start_ratio)


def sgdr_curve(
    *,
    num_warmup_steps: int,
    num_training_steps: int,
    cycle_steps: int | None,
    cycle_mult: int,
    cycle_decay: float,
    min_lr_ratio: float,
    warmup_type: str,
    warmup_start_ratio: float,
) -> Schedule:
    """The curve of :func:`sgdr_schedule`, from resolved options."""
    span = num_training_steps - num_warmup_steps
    if cycle_steps is None:  # a quarter of the decay, but at least 2 steps so that it anneals
        cycle_steps = min(span, max(2, math.ceil(span / 4)))
    decay = functools.partial(
        _cosine_restarts_decay,
        cycle_steps=cycle_steps,
        cycle_mult=int(cycle_mult),
        cycle_decay=float(cycle_decay),
        min_lr_ratio=float(min_lr_ratio),
    )
    return _with_warmup(decay, num_warmup_steps, warmup_type, warmup_start_ratio)


def _one_cycle_phases(end_steps: tuple[float, ...], points) -> tuple[tuple[float, float, float, float], ...]:
    starts = (0.0, *end_steps[:-1])
    return tuple((a, b, p[0], p[1]) for a, b, p in zip(starts, end_steps, points, strict=True))


def one_cycle_curve(
    *,
    num_warmup_steps: int,
    num_training_steps: int,
    pct_start: float | None,
    anneal_strategy: str,
    div_factor: float,
    final_div_factor: float,
    three_phase: bool,
    min_lr_ratio: float,
    **_momentum_options,
) -> Schedule:
    """The LR curve of one-cycle (a multiplier of ``max_lr``), from resolved options."""
    pct = checks.one_cycle_pct_start(pct_start, num_warmup_steps, num_training_steps)
    end_steps = checks.one_cycle_end_steps(num_training_steps, pct, three_phase)
    initial = 1.0 / div_factor
    minimum = initial / final_div_factor
    points = ((initial, 1.0), (1.0, initial), (initial, minimum)) if three_phase else ((initial, 1.0), (1.0, minimum))
    return functools.partial(
        _one_cycle_value,
        phases=_one_cycle_phases(end_steps, points),
        anneal_strategy=anneal_strategy,
        floor=float(min_lr_ratio),
    )


def one_cycle_momentum_curve(
    *,
    num_warmup_steps: int,
    num_training_steps: int,
    pct_start: float | None,
    anneal_strategy: str,
    three_phase: bool,
    base_momentum: float,
    max_momentum: float,
    **_lr_options,
) -> Schedule:
    """The momentum curve of one-cycle (an absolute value), from resolved options and one group's momenta."""
    pct = checks.one_cycle_pct_start(pct_start, num_warmup_steps, num_training_steps)
    end_steps = checks.one_cycle_end_steps(num_training_steps, pct, three_phase)
    low, high = float(base_momentum), float(max_momentum)
    points = ((high, low), (low, high), (high, high)) if three_phase else ((high, low), (low, high))
    return functools.partial(
        _one_cycle_value, phases=_one_cycle_phases(end_steps, points), anneal_strategy=anneal_strategy
    )


def _named_curve(name: str, options: dict) -> Schedule:
    """The multiplier of schedule ``name`` from its options as resolved inside a composed schedule.

    This package's schedules bind their curve; any other name is built again (unchecked: its options pass
    ran already) on a throw-away optimizer, and its ``LambdaLR`` multiplier is taken.
    """
    from transformers import get_scheduler  # noqa: PLC0415  (catalog and registry import this module)

    from . import registry  # noqa: PLC0415

    row = registry._builtin_row(name)
    if row is not None:
        return row.curve(**options)
    rest = {k: v for k, v in options.items() if k not in ("num_warmup_steps", "num_training_steps")}
    built = get_scheduler(
        name,
        optimizer=checks.throwaway_optimizer(),
        num_warmup_steps=options["num_warmup_steps"],
        num_training_steps=options["num_training_steps"],
        scheduler_specific_kwargs=rest,
    )
    return built.lr_lambdas[0]


def sequential_curve(
    *,
    num_warmup_steps: int,
    num_training_steps: int,
    phases: list[dict],
    min_lr_ratio: float,
    warmup_type: str,
    warmup_start_ratio: float,
) -> Schedule:
    """The curve of :func:`sequential_schedule`, from resolved options (each phase's start, length, options)."""
    body = functools.partial(
        _sequential_value,
        starts=tuple(phase["start"] for phase in phases),
        phases=tuple(_named_curve(phase["schedule"], phase["options"]) for phase in phases),
        min_lr_ratio=float(min_lr_ratio),
    )
    return _with_warmup(body, num_warmup_steps, warmup_type, warmup_start_ratio)


def wsd_curve(
    *,
    num_warmup_steps: int,
    num_training_steps: int,
    decay_length: int,
    decay_type: str,
    decay_options: dict | None,
    min_lr_ratio: float,
    warmup_type: str,
    warmup_start_ratio: float,
) -> Schedule:
    """The curve of :func:`wsd_schedule`, from resolved options (``decay_length`` in steps)."""
    if decay_options is not None:  # a schedule named as the decay, run for decay_length steps
        decay = _named_curve(decay_type, decay_options)
    else:
        decay = functools.partial(
            _wsd_decay, decay_length=decay_length, decay_type=decay_type, min_lr_ratio=float(min_lr_ratio)
        )
    stable = num_training_steps - num_warmup_steps - decay_length
    body = functools.partial(_stable_then, stable_steps=stable, decay=decay)
    return _with_warmup(body, num_warmup_steps, warmup_type, warmup_start_ratio)


# --------------------------------------------------------------------------------------------------
# Builders: the options pass, then the curve.
# --------------------------------------------------------------------------------------------------


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
    options = checks.exponential_options(
        num_warmup_steps,
        num_training_steps,
        gamma=gamma,
        final_lr_ratio=final_lr_ratio,
        staircase_steps=staircase_steps,
        min_lr_ratio=min_lr_ratio,
        warmup_type=warmup_type,
        warmup_start_ratio=warmup_start_ratio,
    )
    return exponential_curve(**options)


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
    options = checks.step_options(
        num_warmup_steps,
        num_training_steps,
        step_size=step_size,
        gamma=gamma,
        min_lr_ratio=min_lr_ratio,
        warmup_type=warmup_type,
        warmup_start_ratio=warmup_start_ratio,
    )
    return step_curve(**options)


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
    options = checks.multistep_options(
        num_warmup_steps,
        num_training_steps,
        milestones=milestones,
        gamma=gamma,
        min_lr_ratio=min_lr_ratio,
        warmup_type=warmup_type,
        warmup_start_ratio=warmup_start_ratio,
    )
    return multistep_curve(**options)


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
    options = checks.sgdr_options(
        num_warmup_steps,
        num_training_steps,
        cycle_steps=cycle_steps,
        cycle_mult=cycle_mult,
        cycle_decay=cycle_decay,
        min_lr_ratio=min_lr_ratio,
        warmup_type=warmup_type,
        warmup_start_ratio=warmup_start_ratio,
    )
    return sgdr_curve(**options)


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
    r"""The 1cycle learning-rate policy (Smith & Topin 2017), as a multiplier of ``max_lr``.

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
    options = dict(
        pct_start=pct_start,
        anneal_strategy=anneal_strategy,
        div_factor=div_factor,
        final_div_factor=final_div_factor,
        three_phase=three_phase,
        min_lr_ratio=min_lr_ratio,
    )
    checks.check_one_cycle_lr_options(**options)
    _check_one_cycle_length(num_training_steps, pct_start, three_phase)
    return one_cycle_curve(num_warmup_steps=0, num_training_steps=num_training_steps, **options)


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
    checks.check_pct_start(pct_start)
    check_bool("three_phase", three_phase)
    check_choice("anneal_strategy", anneal_strategy, ANNEAL_STRATEGIES)
    # One value each: a list (one per param group) is the factory's form.
    check_real("base_momentum", base_momentum, 0.0, 1.0, high_open=True)
    check_real("max_momentum", max_momentum, 0.0, 1.0, high_open=True)
    _check_one_cycle_length(num_training_steps, pct_start, three_phase)
    return one_cycle_momentum_curve(
        num_warmup_steps=0,
        num_training_steps=num_training_steps,
        pct_start=pct_start,
        anneal_strategy=anneal_strategy,
        three_phase=three_phase,
        base_momentum=base_momentum,
        max_momentum=max_momentum,
    )


def sequential_schedule(
    num_warmup_steps: int | float | str,
    num_training_steps: int,
    *,
    phases: Sequence[Mapping] | None = None,
    min_lr_ratio: float = 0.0,
    warmup_type: str = "linear",
    warmup_start_ratio: float = 0.0,
    steps_per_epoch: int | None = None,
) -> Schedule:
    r"""Schedules one after the other, by name (optax's ``join_schedules``; torch's ``SequentialLR`` done exactly).

    After ``W`` warmup steps, phase ``k`` covers steps ``[s_k, s_k + L_k)`` and runs its own schedule on
    the local step, built for ``num_training_steps = L_k``:

    .. math:: m(step) = f_k(step - s_k), \quad s_0 = W,\ s_{k+1} = s_k + L_k

    Each phase is ``{"schedule": NAME, "length": L, **NAME's options}`` (optionally its own
    ``num_warmup_steps``, relative to its length); ``NAME`` is any step-driven schedule name.

    Args:
      num_warmup_steps: warmup length before the first phase (steps, fraction of ``num_training_steps`` or
        epochs).
      num_training_steps: total optimizer steps.
      phases: the phases, in order; each ``length`` is steps (int), a fraction of training (float in (0, 1))
        or epochs (``"2ep"``), and the last may omit it (the rest of training). Default: one ``linear`` phase.
      min_lr_ratio: floor over every phase, as a fraction of the base LR.
      warmup_type: ``"linear"``, ``"cosine"`` or ``"exponential"``.
      warmup_start_ratio: multiplier at step 0.
      steps_per_epoch: optimizer updates per epoch, for lengths given in epochs.

    Returns:
      A function ``step -> multiplier``.

    Examples:
      >>> f = sequential_schedule(0, 6, phases=[{"schedule": "constant", "length": 2}, {"schedule": "linear"}])
      >>> [f(s) for s in range(6)]
      [1.0, 1.0, 1.0, 0.75, 0.5, 0.25]
    """
    options = checks.sequential_options(
        num_warmup_steps,
        num_training_steps,
        steps_per_epoch=steps_per_epoch,
        phases=phases,
        min_lr_ratio=min_lr_ratio,
        warmup_type=warmup_type,
        warmup_start_ratio=warmup_start_ratio,
    )
    return sequential_curve(**options)


def wsd_schedule(
    num_warmup_steps: int | float | str,
    num_training_steps: int,
    *,
    decay_length: int | float | str = 0.2,
    decay_type: str = "1-sqrt",
    decay_options: Mapping | None = None,
    min_lr_ratio: float = 0.0,
    warmup_type: str = "linear",
    warmup_start_ratio: float = 0.0,
    steps_per_epoch: int | None = None,
) -> Schedule:
    r"""Warmup, stable, decay (WSD): the peak LR held until the last ``decay_length`` steps, then a decay.

    With ``D = decay_length``, ``r = min_lr_ratio`` and ``p = (step - (T - D)) / D`` in the decay:

    * ``1-sqrt``:      ``r + (1 - r)(1 - sqrt(p))`` (Megatron's ``minus_sqrt``, timm's default)
    * ``linear``:      ``r + (1 - r)(1 - p)``
    * ``cosine``:      ``r + (1 - r)(1 + cos(pi p)) / 2``
    * ``exponential``: ``r ** p`` (geometric, needs ``r > 0``)

    or any built-in schedule name, run for ``D`` steps with ``decay_options``. Past the end the last
    value is held.

    Args:
      num_warmup_steps: warmup length (steps, fraction of ``num_training_steps`` or epochs).
      num_training_steps: total optimizer steps.
      decay_length: length of the decay (steps, fraction of ``num_training_steps`` or epochs ``"2ep"``); the
        stable length is what is left after warmup and decay.
      decay_type: ``"1-sqrt"``, ``"linear"``, ``"cosine"``, ``"exponential"``, or a built-in schedule name.
      decay_options: options of the schedule named by ``decay_type`` (``None`` for the four shapes).
      min_lr_ratio: the value the decay ends at, as a fraction of the base LR (the four shapes only).
      warmup_type: ``"linear"``, ``"cosine"`` or ``"exponential"``.
      warmup_start_ratio: multiplier at step 0.
      steps_per_epoch: optimizer updates per epoch, for lengths given in epochs.

    Returns:
      A function ``step -> multiplier``.

    Examples:
      >>> f = wsd_schedule(2, 10, decay_length=4, decay_type="linear")
      >>> [f(s) for s in range(10)]
      [0.0, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25]
    """
    options = checks.wsd_options(
        num_warmup_steps,
        num_training_steps,
        steps_per_epoch=steps_per_epoch,
        decay_length=decay_length,
        decay_type=decay_type,
        decay_options=decay_options,
        min_lr_ratio=min_lr_ratio,
        warmup_type=warmup_type,
        warmup_start_ratio=warmup_start_ratio,
    )
    return wsd_curve(**options)


def _check_one_cycle_length(num_training_steps, pct_start, three_phase) -> None:
    # The pure builders have no warmup: pct_start is given (a None would mean "derive it from the warmup").
    if pct_start is None:
        checks.check_pct_start(pct_start)  # raises
    checks.one_cycle_lengths(0, num_training_steps, pct_start, three_phase)
