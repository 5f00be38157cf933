"""Pure learning-rate schedules: ``step -> multiplier`` functions and their validation.

Every schedule in this package is defined once, here, as a closed-form function of the optimizer
step (no state carried from one step to the next). A *builder* (``exponential_schedule``,
``step_schedule``, ...) checks its options, resolves fractions of training into step counts, and
returns a ``functools.partial`` of module-level functions: cheap to call, picklable, and free of
attributes, so a ``LambdaLR`` built on it saves a ``torch.load(weights_only=True)``-safe state.

The value is a multiplier of each parameter group's base LR (as in ``LambdaLR``). The factories in
:mod:`hf_lrsched.factories`, the plotting tool and the recipes all evaluate these same functions.

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
import numbers
from collections.abc import Callable, Sequence

Schedule = Callable[[int], float]

WARMUP_TYPES = ("linear", "cosine", "exponential")
#: Largest accepted step count: steps up to 2**53 are exact as floats (the phase arithmetic uses them).
MAX_STEPS = 2**53
ANNEAL_STRATEGIES = ("cos", "linear")

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
    "sgdr_schedule",
    "step_schedule",
    "warmup_multiplier",
]


# --------------------------------------------------------------------------------------------------
# Validation helpers: every error names the option and the value it got.
# --------------------------------------------------------------------------------------------------


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _show_int(value: int) -> str:
    text = repr(int(value))
    return text if len(text) <= 30 else f"{text[:6]}... (an int of {len(text)} digits)"


def check_int(name: str, value, *, minimum: int = 0, maximum: int = MAX_STEPS) -> int:
    """Check that ``value`` is an int (not a bool) in ``[minimum, maximum]`` and return it."""
    if not _is_int(value):
        raise ValueError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {_show_int(value)}")
    if value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {_show_int(value)}")
    return int(value)


def check_real(
    name: str,
    value,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Check that ``value`` is a finite real number in the given interval and return it as float."""
    if not _is_real(value):
        raise ValueError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    try:
        value = float(value)
    except OverflowError:  # an int too large for a float
        raise ValueError(f"{name} must be a finite number, got {value!r}") from None
    interval = f"{'(' if low_open else '['}{low if low is not None else '-inf'}, " + (
        f"{high if high is not None else 'inf'}{')' if high_open else ']'}"
    )
    if (
        not math.isfinite(value)
        or (low is not None and (value < low or (low_open and value == low)))
        or (high is not None and (value > high or (high_open and value == high)))
    ):
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return value


def check_choice(name: str, value, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def resolve_length(name: str, value, num_training_steps: int | None, *, minimum: int = 0) -> int:
    """Turn a length given as steps (``int``) or as a fraction of training (``float`` in (0, 1)) into steps.

    Fractions round up, as transformers does for ``warmup_ratio``; the product is first rounded to
    9 decimals so that ``0.3 * 100`` gives 30, not 31.

    Args:
      name: option name, used in error messages.
      value: an ``int`` >= ``minimum`` or a ``float`` in (0, 1).
      num_training_steps: total optimizer steps; needed for fractions.
      minimum: smallest accepted number of steps.

    Returns:
      The length in optimizer steps.

    Examples:
      >>> resolve_length("num_warmup_steps", 0.1, 1000)
      100
      >>> resolve_length("num_warmup_steps", 250, None)
      250
    """
    if _is_int(value):
        return check_int(name, value, minimum=minimum, maximum=MAX_STEPS)
    if _is_real(value) and 0.0 < value < 1.0:
        if num_training_steps is None:
            raise ValueError(
                f"{name}={value!r} is a fraction of training, which needs num_training_steps; "
                "give num_training_steps or an int number of steps"
            )
        return max(minimum, math.ceil(round(value * num_training_steps, 9)))
    raise ValueError(
        f"{name} must be an int number of steps or a float in (0, 1) (a fraction of num_training_steps), got {value!r}"
    )


def check_lengths(
    num_warmup_steps,
    num_training_steps,
    *,
    require_total: bool = True,
    require_warmup: bool = True,
    schedule: str = "this schedule",
) -> tuple[int | None, int | None]:
    """Check the two lengths every schedule gets (this package's and transformers' own alike).

    ``num_training_steps``: ``None`` (where ``require_total`` is false) or an int in [1, 2**53];
    ``num_warmup_steps``: ``None``, an int in [0, 2**53] or a fraction in (0, 1) of
    ``num_training_steps``, resolved to steps; with a total, warmup must end before it. Bools are
    rejected (``True`` is an int to Python, never a step count).

    Args:
      num_warmup_steps: warmup steps, a fraction of training, or ``None``.
      num_training_steps: total optimizer updates, or ``None``.
      require_total: whether the schedule needs ``num_training_steps``.
      require_warmup: whether ``num_warmup_steps=None`` is an error.
      schedule: the schedule's name, for the message when the total is missing.

    Returns:
      ``(warmup, total)``, resolved (``warmup`` is ``None`` only if given as ``None``).

    Examples:
      >>> check_lengths(0.1, 200)
      (20, 200)
      >>> check_lengths(-1, 200)
      Traceback (most recent call last):
      ...
      ValueError: num_warmup_steps must be >= 0, got -1
    """
    if num_training_steps is None:
        if require_total:
            raise ValueError(f"num_training_steps is required for {schedule}, got None")
    else:
        num_training_steps = check_int("num_training_steps", num_training_steps, minimum=1)
    if num_warmup_steps is None and not require_warmup:
        return None, num_training_steps
    warmup = resolve_length("num_warmup_steps", num_warmup_steps, num_training_steps)
    if num_training_steps is not None and warmup >= num_training_steps:
        raise ValueError(f"num_warmup_steps={warmup} must be smaller than num_training_steps={num_training_steps}")
    return warmup, num_training_steps


def _check_common(
    num_warmup_steps,
    num_training_steps,
    warmup_type,
    warmup_start_ratio,
    min_lr_ratio,
    *,
    require_total: bool = True,
) -> tuple[int, int | None, str, float, float]:
    """Validate the options every schedule shares; returns them resolved."""
    warmup, num_training_steps = check_lengths(num_warmup_steps, num_training_steps, require_total=require_total)
    check_choice("warmup_type", warmup_type, WARMUP_TYPES)
    start = check_real("warmup_start_ratio", warmup_start_ratio, 0.0, 1.0, high_open=True)
    if warmup_type == "exponential" and start == 0.0:
        raise ValueError(
            "warmup_type='exponential' needs warmup_start_ratio > 0 (it multiplies up from it), "
            f"got warmup_start_ratio={start!r}"
        )
    floor = check_real("min_lr_ratio", min_lr_ratio, 0.0, 1.0, high_open=True)
    return warmup, num_training_steps, warmup_type, start, floor


def check_multipliers(schedule_name: str, **values: float) -> None:
    """Raise ``ValueError`` unless every named multiplier is finite and in [0, 1].

    Each builder passes the extreme values its closed form can take (warmup start, peak, floor,
    one-cycle phase ends...): every other value lies between two of them, so checking these few
    numbers guarantees the whole curve, for any number of steps. A NaN fails too (every comparison
    with NaN is false), so it can never be turned into a floor downstream.

    Examples:
      >>> check_multipliers("one_cycle", initial=0.04, final=4e-06)
      >>> check_multipliers("one_cycle", initial=2.0)
      Traceback (most recent call last):
      ...
      ValueError: one_cycle: the initial multiplier would be 2.0, outside [0, 1] of the peak LR
    """
    for what, value in values.items():
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise ValueError(
                f"{schedule_name}: the {what} multiplier would be {value!r}, outside [0, 1] of the peak LR"
            )


# --------------------------------------------------------------------------------------------------
# Warmup, written once and joined to every decay.
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
    step: int,
    *,
    num_warmup_steps: int,
    warmup_type: str,
    warmup_start_ratio: float,
    decay: Schedule,
) -> float:
    # Like optax.join_schedules: the decay sees the step count since the end of warmup.
    if step < num_warmup_steps:
        return warmup_multiplier(
            step,
            num_warmup_steps=num_warmup_steps,
            warmup_type=warmup_type,
            warmup_start_ratio=warmup_start_ratio,
        )
    return decay(step - num_warmup_steps)


def _with_warmup(decay: Schedule, num_warmup_steps: int, warmup_type: str, start: float) -> Schedule:
    if num_warmup_steps == 0:
        return decay
    return functools.partial(
        _join_warmup,
        num_warmup_steps=num_warmup_steps,
        warmup_type=warmup_type,
        warmup_start_ratio=start,
        decay=decay,
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


def _check_drops_inside_training(name: str, given, steps: int, warmup: int, total: int) -> None:
    # A drop every `steps` steps after warmup first happens `steps` steps after the peak.
    span = total - warmup
    if steps >= span:
        raise ValueError(
            f"{name}={given!r} ({steps} steps) is not shorter than the {span} steps after warmup "
            f"(num_training_steps={total} - num_warmup_steps={warmup}); the LR would never drop"
        )


def _check_cycle_length(given, cycle: int, mult: int, span: int) -> None:
    if cycle == 1 and mult == 1 and span > 1:
        raise ValueError(
            f"cycle_steps={given!r} is 1 step with cycle_mult=1: every step would restart at the peak, "
            "so the LR would never anneal (a constant curve); use cycle_steps >= 2"
        )
    if cycle > span:
        raise ValueError(
            f"cycle_steps={given!r} ({cycle} steps) is longer than the {span} steps after warmup: the "
            f"first cycle would never finish or restart; use cycle_steps <= {span}"
        )


def _check_decay_gamma(name: str, gamma) -> float:
    return check_real(name, gamma, 0.0, 1.0, low_open=True)


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
    if gamma is not None and final_lr_ratio is not None:
        raise ValueError(
            f"give gamma or final_lr_ratio, not both (got gamma={gamma!r}, final_lr_ratio={final_lr_ratio!r})"
        )
    if gamma is not None:
        gamma = _check_decay_gamma("gamma", gamma)
    else:
        ratio = 0.01 if final_lr_ratio is None else final_lr_ratio
        ratio = check_real("final_lr_ratio", ratio, 0.0, 1.0, low_open=True)
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
    if step_size is None:  # a run with a single step after warmup has no room for a drop: flat
        size = max(1, math.ceil((total - warmup) / 3))
    else:
        size = resolve_length("step_size", step_size, total, minimum=1)
        _check_drops_inside_training("step_size", step_size, size, warmup, total)
    gamma = _check_decay_gamma("gamma", gamma)
    decay = functools.partial(_step_decay, step_size=size, gamma=gamma, min_lr_ratio=floor)
    return _with_warmup(decay, warmup, warmup_type, start)


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
    if milestones is None:
        span = total - warmup
        steps = sorted({warmup + max(1, math.ceil(span * f)) for f in (0.5, 0.75)})
        # Very short runs may leave no room after the peak step: then there is no drop at all.
        steps = [s for s in steps if s < total]
    else:
        if isinstance(milestones, (str, bytes)) or not isinstance(milestones, Sequence) or not milestones:
            raise ValueError(f"milestones must be a non-empty list of steps, got {milestones!r}")
        steps = [resolve_length(f"milestones[{i}]", m, total) for i, m in enumerate(milestones)]
        for i in range(1, len(steps)):
            if steps[i] <= steps[i - 1]:
                raise ValueError(
                    f"milestones must be strictly increasing, got {list(milestones)!r} "
                    f"(milestones[{i}]={milestones[i]!r} resolves to step {steps[i]}, "
                    f"not after {steps[i - 1]})"
                )
        for i, s in enumerate(steps):
            # A milestone at the peak step W (step 0 without warmup) would hide the base LR entirely.
            if s <= warmup:
                where = "falls inside warmup" if warmup else "is the first step, so the base LR is never used"
                raise ValueError(
                    f"milestones[{i}]={milestones[i]!r} (step {s}) {where} "
                    f"(num_warmup_steps={warmup}); milestones are absolute steps and must be > {warmup}"
                )
            if s >= total:
                raise ValueError(
                    f"milestones[{i}]={milestones[i]!r} (step {s}) is not before "
                    f"num_training_steps={total}; it would never take effect"
                )
    gamma = _check_decay_gamma("gamma", gamma)
    relative = tuple(s - warmup for s in steps)
    decay = functools.partial(_multistep_decay, milestones=relative, gamma=gamma, min_lr_ratio=floor)
    return _with_warmup(decay, warmup, warmup_type, start)


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
    span = total - warmup
    if cycle_steps is None:  # a quarter of the decay, but at least 2 steps so that it anneals
        cycle = min(span, max(2, math.ceil(span / 4)))
    else:
        cycle = resolve_length("cycle_steps", cycle_steps, total, minimum=1)
    mult = check_int("cycle_mult", cycle_mult, minimum=1)
    if cycle_steps is not None:
        _check_cycle_length(cycle_steps, cycle, mult, span)
    decay_factor = check_real("cycle_decay", cycle_decay, 0.0, 1.0, low_open=True)
    decay = functools.partial(
        _cosine_restarts_decay, cycle_steps=cycle, cycle_mult=mult, cycle_decay=decay_factor, min_lr_ratio=floor
    )
    return _with_warmup(decay, warmup, warmup_type, start)


# --------------------------------------------------------------------------------------------------
# One-cycle (Smith & Topin 2017), phase for phase as torch.optim.lr_scheduler.OneCycleLR.
# --------------------------------------------------------------------------------------------------


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


def _one_cycle_end_steps(num_training_steps, pct_start, three_phase) -> tuple[float, ...]:
    total = check_int("num_training_steps", num_training_steps, minimum=2)
    if not _is_real(pct_start) or not 0.0 < pct_start < 1.0:
        raise ValueError(f"pct_start must be a float in (0, 1), got {pct_start!r}")
    if not isinstance(three_phase, bool):
        raise ValueError(f"three_phase must be a bool, got {three_phase!r}")
    first = float(pct_start * total) - 1
    if first <= 0:
        raise ValueError(
            f"pct_start={pct_start!r} with num_training_steps={total} leaves {pct_start * total:g} steps "
            f"for the rise; it needs more than 1 (pct_start > {1 / total:g})"
        )
    if not three_phase:
        return (first, total - 1)
    second = float(2 * pct_start * total) - 2
    if second >= total - 1:
        raise ValueError(
            f"pct_start={pct_start!r} is too large for three_phase=True: rise and fall take "
            f"2 * pct_start of training, leaving nothing for the final anneal (use pct_start < 0.5)"
        )
    return (first, second, total - 1)


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
    check_choice("anneal_strategy", anneal_strategy, ANNEAL_STRATEGIES)
    # Below 1 the initial LR would exceed max_lr, or the final LR the initial one.
    div = check_real("div_factor", div_factor, 1.0)
    final_div = check_real("final_div_factor", final_div_factor, 1.0)
    floor = check_real("min_lr_ratio", min_lr_ratio, 0.0, 1.0, high_open=True)
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
