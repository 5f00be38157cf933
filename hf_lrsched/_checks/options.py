"""Checks of the builders' options in :mod:`hf_lrsched.schedules`, one function per builder.

The ``_check_<schedule>_options`` functions need no run length: each builder calls its own first,
and records it with :func:`~hf_lrsched._checks.validation.with_option_checks`, so the same check also runs
when ``TrainingArguments`` is parsed (:mod:`hf_lrsched._checks.option_probe`). The others check what only
the length can tell: a drop or a cycle that never happens, a milestone outside training.
"""

from __future__ import annotations

from collections.abc import Sequence

from .validation import check_int, check_length, check_real, resolve_length

__all__: list[str] = []  # private helpers of the builders


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


# The checks of each builder's options that need no run length (with_option_checks records them, so
# they also run when TrainingArguments is parsed, before the length is known).


def _check_exponential_options(gamma, final_lr_ratio, staircase_steps) -> None:
    if gamma is not None and final_lr_ratio is not None:
        raise ValueError(
            f"give gamma or final_lr_ratio, not both (got gamma={gamma!r}, final_lr_ratio={final_lr_ratio!r})"
        )
    if gamma is not None:
        _check_decay_gamma("gamma", gamma)
    if final_lr_ratio is not None:
        check_real("final_lr_ratio", final_lr_ratio, 0.0, 1.0, low_open=True)
    if staircase_steps is not None:
        check_length("staircase_steps", staircase_steps, minimum=1)


def _check_step_options(step_size, gamma) -> None:
    if step_size is not None:
        check_length("step_size", step_size, minimum=1)
    _check_decay_gamma("gamma", gamma)


def _check_multistep_options(milestones, gamma) -> None:
    _check_decay_gamma("gamma", gamma)
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


def _check_sgdr_options(cycle_steps, cycle_mult, cycle_decay) -> None:
    if cycle_steps is not None:
        check_length("cycle_steps", cycle_steps, minimum=1)
    check_int("cycle_mult", cycle_mult, minimum=1)
    check_real("cycle_decay", cycle_decay, 0.0, 1.0, low_open=True)


def _resolve_milestones(milestones, warmup: int, total: int) -> list[int]:
    """The milestones as steps: increasing, after the peak step ``warmup`` and before ``total``."""
    steps = [resolve_length(f"milestones[{i}]", m, total) for i, m in enumerate(milestones)]
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
    return steps
