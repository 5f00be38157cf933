"""Each built-in schedule's options, checked in one pass.

For every schedule there are two functions, and nothing else checks its options:

* ``check_<schedule>_options(**options)`` takes every ``lr_scheduler_kwargs`` option and runs the
  checks that need no run length (types and ranges, milestone order, the warmup shape). It is what
  ``TrainingArguments`` runs when it is parsed, through :func:`hf_lrsched.check_schedule_options`.
* ``<schedule>_options(num_warmup_steps, num_training_steps, **options)`` calls it, checks the two
  lengths, turns every length given as a fraction of training into steps (the one place this
  happens) and checks what the run length decides (a drop that never comes, a milestone past the
  end). It returns the options *resolved*: what the curves of :mod:`hf_lrsched.schedules` evaluate
  and what a :class:`~hf_lrsched.ScheduleLR` records as its identity. Options left at ``None`` (a
  default the curve derives) stay ``None``.

Every message comes from :mod:`hf_lrsched._checks.validation`, so it names the option and the value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .validation import (
    check_bool,
    check_choice,
    check_int,
    check_length,
    check_lengths,
    check_per_group,
    check_real,
    is_real,
    length_in_steps,
)

WARMUP_TYPES = ("linear", "cosine", "exponential")
ANNEAL_STRATEGIES = ("cos", "linear")

#: The fraction of training one-cycle rises for when neither ``pct_start`` nor a warmup is given (OneCycleLR's).
ONE_CYCLE_PCT_START = 0.3


# --------------------------------------------------------------------------------------------------
# Shared by the warmup schedules.
# --------------------------------------------------------------------------------------------------


def check_warmup_options(warmup_type, warmup_start_ratio, min_lr_ratio) -> None:
    """The options every warmup schedule shares."""
    check_choice("warmup_type", warmup_type, WARMUP_TYPES)
    start = check_real("warmup_start_ratio", warmup_start_ratio, 0.0, 1.0, high_open=True)
    if warmup_type == "exponential" and start == 0.0:
        raise ValueError(
            "warmup_type='exponential' needs warmup_start_ratio > 0 (it multiplies up from it), "
            f"got warmup_start_ratio={start!r}"
        )
    check_real("min_lr_ratio", min_lr_ratio, 0.0, 1.0, high_open=True)


def _check_gamma(gamma) -> None:
    check_real("gamma", gamma, 0.0, 1.0, low_open=True)


def _check_drops_inside_training(name: str, given, steps: int, warmup: int, total: int) -> None:
    # A drop every `steps` steps after warmup first happens `steps` steps after the peak.
    span = total - warmup
    if steps >= span:
        raise ValueError(
            f"{name}={given!r} ({steps} steps) is not shorter than the {span} steps after warmup "
            f"(num_training_steps={total} - num_warmup_steps={warmup}); the LR would never drop"
        )


def _plain(value):
    """Lists for tuples (nested too): the identity is plain data that ``torch.load(weights_only=True)`` reads."""
    return [_plain(v) for v in value] if isinstance(value, (list, tuple)) else value


def _resolved(warmup, total, **options) -> dict[str, Any]:
    return {"num_training_steps": total, "num_warmup_steps": warmup, **{k: _plain(v) for k, v in options.items()}}


# --------------------------------------------------------------------------------------------------
# warmup_exponential
# --------------------------------------------------------------------------------------------------


def check_exponential_options(
    *, gamma, final_lr_ratio, staircase_steps, min_lr_ratio, warmup_type, warmup_start_ratio
) -> None:
    check_warmup_options(warmup_type, warmup_start_ratio, min_lr_ratio)
    if gamma is not None and final_lr_ratio is not None:
        raise ValueError(
            f"give gamma or final_lr_ratio, not both (got gamma={gamma!r}, final_lr_ratio={final_lr_ratio!r})"
        )
    if gamma is not None:
        _check_gamma(gamma)
    if final_lr_ratio is not None:
        check_real("final_lr_ratio", final_lr_ratio, 0.0, 1.0, low_open=True)
    if staircase_steps is not None:
        check_length("staircase_steps", staircase_steps, minimum=1)


def exponential_options(num_warmup_steps, num_training_steps, **options) -> dict[str, Any]:
    check_exponential_options(**options)
    warmup, total = check_lengths(num_warmup_steps, num_training_steps, require_total=False)
    if options["gamma"] is None and total is None:
        ratio = 0.01 if options["final_lr_ratio"] is None else options["final_lr_ratio"]
        raise ValueError(
            "num_training_steps is required unless gamma is given (final_lr_ratio="
            f"{ratio!r} is reached at num_training_steps), got num_training_steps=None"
        )
    staircase = options["staircase_steps"]
    if staircase is not None:
        steps = length_in_steps("staircase_steps", staircase, total, minimum=1)
        if total is not None and steps > 1:
            _check_drops_inside_training("staircase_steps", staircase, steps, warmup, total)
        options["staircase_steps"] = steps
    return _resolved(warmup, total, **options)


# --------------------------------------------------------------------------------------------------
# warmup_step
# --------------------------------------------------------------------------------------------------


def check_step_options(*, step_size, gamma, min_lr_ratio, warmup_type, warmup_start_ratio) -> None:
    check_warmup_options(warmup_type, warmup_start_ratio, min_lr_ratio)
    if step_size is not None:
        check_length("step_size", step_size, minimum=1)
    _check_gamma(gamma)


def step_options(num_warmup_steps, num_training_steps, **options) -> dict[str, Any]:
    check_step_options(**options)
    warmup, total = check_lengths(num_warmup_steps, num_training_steps)
    if options["step_size"] is not None:
        steps = length_in_steps("step_size", options["step_size"], total, minimum=1)
        _check_drops_inside_training("step_size", options["step_size"], steps, warmup, total)
        options["step_size"] = steps
    return _resolved(warmup, total, **options)


# --------------------------------------------------------------------------------------------------
# warmup_multistep
# --------------------------------------------------------------------------------------------------


def _not_increasing(milestones, i: int, before: int, steps) -> None:
    """Raise: ``milestones[i]`` (at ``steps[i]``) is not after ``milestones[before]``."""
    where = (
        f"resolves to step {steps[i]}, not after {steps[before]}"
        if isinstance(steps[i], int)
        else f"is not after milestones[{before}]={milestones[before]!r}"
    )
    raise ValueError(
        f"milestones must be strictly increasing, got {list(milestones)!r} (milestones[{i}]={milestones[i]!r} {where})"
    )


def check_multistep_options(*, milestones, gamma, min_lr_ratio, warmup_type, warmup_start_ratio) -> None:
    check_warmup_options(warmup_type, warmup_start_ratio, min_lr_ratio)
    _check_gamma(gamma)
    if milestones is None:
        return
    if isinstance(milestones, (str, bytes)) or not isinstance(milestones, Sequence) or not milestones:
        raise ValueError(f"milestones must be a non-empty list of steps, got {milestones!r}")
    given = [check_length(f"milestones[{i}]", m) for i, m in enumerate(milestones)]
    # A step and a fraction compare only once the length is known; each kind must increase on its own.
    for kind in (int, float):
        same = [i for i, m in enumerate(given) if isinstance(m, kind)]
        for before, i in zip(same, same[1:]):
            if given[i] <= given[before]:
                _not_increasing(milestones, i, before, given)


def multistep_options(num_warmup_steps, num_training_steps, **options) -> dict[str, Any]:
    check_multistep_options(**options)
    warmup, total = check_lengths(num_warmup_steps, num_training_steps)
    milestones = options["milestones"]
    if milestones is not None:
        steps = [length_in_steps(f"milestones[{i}]", m, total) for i, m in enumerate(milestones)]
        for i in range(1, len(steps)):
            if steps[i] <= steps[i - 1]:
                _not_increasing(milestones, i, i - 1, steps)
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
        options["milestones"] = steps
    return _resolved(warmup, total, **options)


# --------------------------------------------------------------------------------------------------
# sgdr
# --------------------------------------------------------------------------------------------------


def check_sgdr_options(*, cycle_steps, cycle_mult, cycle_decay, min_lr_ratio, warmup_type, warmup_start_ratio) -> None:
    check_warmup_options(warmup_type, warmup_start_ratio, min_lr_ratio)
    if cycle_steps is not None:
        check_length("cycle_steps", cycle_steps, minimum=1)
    check_int("cycle_mult", cycle_mult, minimum=1)
    check_real("cycle_decay", cycle_decay, 0.0, 1.0, low_open=True)


def sgdr_options(num_warmup_steps, num_training_steps, **options) -> dict[str, Any]:
    check_sgdr_options(**options)
    warmup, total = check_lengths(num_warmup_steps, num_training_steps)
    given = options["cycle_steps"]
    if given is not None:
        cycle, span = length_in_steps("cycle_steps", given, total, minimum=1), total - warmup
        if cycle == 1 and options["cycle_mult"] == 1 and span > 1:
            raise ValueError(
                f"cycle_steps={given!r} is 1 step with cycle_mult=1: every step would restart at the peak, "
                "so the LR would never anneal (a constant curve); use cycle_steps >= 2"
            )
        if cycle > span:
            raise ValueError(
                f"cycle_steps={given!r} ({cycle} steps) is longer than the {span} steps after warmup: the "
                f"first cycle would never finish or restart; use cycle_steps <= {span}"
            )
        options["cycle_steps"] = cycle
    return _resolved(warmup, total, **options)


# --------------------------------------------------------------------------------------------------
# one_cycle
# --------------------------------------------------------------------------------------------------


def check_pct_start(pct_start) -> None:
    if not is_real(pct_start) or not 0.0 < pct_start < 1.0:
        raise ValueError(f"pct_start must be a float in (0, 1), got {pct_start!r}")


def check_one_cycle_lr_options(
    *, pct_start, anneal_strategy, div_factor, final_div_factor, three_phase, min_lr_ratio
) -> None:
    """The options of the LR curve (:func:`hf_lrsched.schedules.one_cycle_schedule`); ``pct_start=None``: derived."""
    if pct_start is not None:
        check_pct_start(pct_start)
    check_bool("three_phase", three_phase)
    check_choice("anneal_strategy", anneal_strategy, ANNEAL_STRATEGIES)
    # Below 1 the initial LR would exceed max_lr, or the final LR the initial one.
    check_real("div_factor", div_factor, 1.0)
    check_real("final_div_factor", final_div_factor, 1.0)
    check_real("min_lr_ratio", min_lr_ratio, 0.0, 1.0, high_open=True)


def check_momentum_options(*, base_momentum, max_momentum) -> None:
    """One value, or one per param group (how many groups there are is the optimizer's business)."""
    check_per_group("base_momentum", base_momentum, 0.0, 1.0, high_open=True)
    check_per_group("max_momentum", max_momentum, 0.0, 1.0, high_open=True)


def check_one_cycle_options(*, max_lr, cycle_momentum, base_momentum, max_momentum, **lr_options) -> None:
    """Every option of the one-cycle factory: the LR curve's, then the peak LRs and the momentum's."""
    check_one_cycle_lr_options(**lr_options)
    if max_lr is not None:
        check_per_group("max_lr", max_lr, 0.0, low_open=True)
    check_bool("cycle_momentum", cycle_momentum)
    check_momentum_options(base_momentum=base_momentum, max_momentum=max_momentum)


def one_cycle_pct_start(pct_start, num_warmup_steps: int, num_training_steps: int) -> float:
    """``pct_start`` as given, else ``W / T`` (the warmup is the rise), else 0.3 (``OneCycleLR``'s default).

    Examples:
      >>> one_cycle_pct_start(None, 25, 100), one_cycle_pct_start(None, 0, 100), one_cycle_pct_start(0.4, 25, 100)
      (0.25, 0.3, 0.4)
    """
    if pct_start is not None:
        return pct_start
    return num_warmup_steps / num_training_steps if num_warmup_steps else ONE_CYCLE_PCT_START


def one_cycle_end_steps(num_training_steps: int, pct_start: float, three_phase: bool) -> tuple[float, ...]:
    """The last step of each phase, as ``OneCycleLR`` computes them (floats, as torch's)."""
    first = float(pct_start * num_training_steps) - 1
    if not three_phase:
        return (first, num_training_steps - 1)
    return (first, float(2 * pct_start * num_training_steps) - 2, num_training_steps - 1)


def _check_phases(total: int, pct_start: float, three_phase: bool, origin: str) -> None:
    # origin: where a derived pct_start came from, put first in the messages.
    first, *rest = one_cycle_end_steps(total, pct_start, three_phase)
    if first <= 0:
        raise ValueError(
            f"{origin}pct_start={pct_start!r} with num_training_steps={total} leaves {pct_start * total:g} steps "
            f"for the rise; it needs more than 1 (pct_start > {1 / total:g})"
        )
    if three_phase and rest[0] >= total - 1:
        raise ValueError(
            f"{origin}pct_start={pct_start!r} is too large for three_phase=True: rise and fall take "
            f"2 * pct_start of training, leaving nothing for the final anneal (use pct_start < 0.5)"
        )


def one_cycle_lengths(num_warmup_steps, num_training_steps, pct_start, three_phase) -> tuple[int, int]:
    """The lengths of a one-cycle run, checked with its (given or derived) ``pct_start``: ``(W, T)``.

    ``T`` must be at least 2; an error about a ``pct_start`` derived from the warmup names the warmup.
    """
    warmup, total = check_lengths(num_warmup_steps, num_training_steps, schedule="one_cycle")
    if total < 2:  # two phase ends at least
        raise ValueError(f"num_training_steps must be >= 2, got {total}")
    derived = one_cycle_pct_start(pct_start, warmup, total)
    origin = ""
    if pct_start is None and warmup:
        origin = f"num_warmup_steps={warmup} gives pct_start = {warmup}/{total} = {derived!r}: "
    _check_phases(total, derived, three_phase, origin)
    return warmup, total


def one_cycle_options(num_warmup_steps, num_training_steps, **options) -> dict[str, Any]:
    """The one-cycle factory's options; ``pct_start`` stays ``None`` when it is derived from the warmup."""
    check_one_cycle_options(**options)
    warmup, total = one_cycle_lengths(
        num_warmup_steps, num_training_steps, options["pct_start"], options["three_phase"]
    )
    return _resolved(warmup, total, **options)
