"""Checks for the factories that check nothing themselves: transformers' own and users'.

This package's factories run their options pass (:mod:`hf_lrsched._checks.options`) and need none of
this. transformers' factories accept ``True``, ``-1`` or ``0`` as lengths and NaN as an option, so
:func:`hf_lrsched.get_scheduler` checks their lengths here and evaluates their multipliers at a few
probe steps after building; a user's factory gets the type and range of the lengths, and any
exception it raises becomes one ``ValueError`` naming the schedule.
"""

from __future__ import annotations

import json
import math
import numbers
import sys
from collections.abc import Mapping
from typing import Any

from .validation import check_int, check_lengths, resolve_length

#: transformers' own schedules that take no num_training_steps; all its others need it.
TOTAL_OPTIONAL = frozenset(
    {"constant", "constant_with_warmup", "inverse_sqrt", "reduce_lr_on_plateau", "greedy", "warmup_stable_decay"}
)


def check_shared_lengths(
    name: str, num_warmup_steps, num_training_steps, *, transformers_own: bool, steps_per_epoch: int | None = None
) -> tuple:
    """``(warmup, total)`` checked and resolved: in full for a transformers schedule that needs the total,
    else their type and range only (the total is optional, or the factory's own business). A warmup in
    epochs (``"2ep"``) is counted in ``steps_per_epoch`` (checked already)."""
    if transformers_own and name not in TOTAL_OPTIONAL:
        return check_lengths(
            num_warmup_steps,
            num_training_steps,
            require_warmup=False,
            schedule=repr(name),
            steps_per_epoch=steps_per_epoch,
        )
    total = None if num_training_steps is None else check_int("num_training_steps", num_training_steps, minimum=1)
    warmup = (
        None
        if num_warmup_steps is None
        else resolve_length("num_warmup_steps", num_warmup_steps, total, steps_per_epoch=steps_per_epoch)
    )
    return warmup, total


def described(name: str, options: Mapping[str, Any]) -> str:
    return f"schedule {name!r} with lr_scheduler_kwargs {json.dumps(dict(options), default=repr)}"


def _probe_steps(warmup, total) -> list[int]:
    """A few steps where curves have their extremes: start, around the end of warmup, middle and end."""
    warmup = warmup or 0
    steps = {0, 1, warmup - 1, warmup, warmup + 1}
    if total is not None:
        steps |= {total // 2, total - 1, total}
    return sorted(s for s in steps if s >= 0)


def check_multipliers(name: str, scheduler, options: Mapping[str, Any], warmup, total) -> None:
    """Evaluate a transformers schedule's ``lr_lambdas`` at the probe steps: an exception, a NaN or a
    value outside [0, 1] (e.g. ``polynomial`` with a negative ``power``) is a ``ValueError`` now, not in
    the middle of training."""
    lambdas = {id(fn): fn for fn in getattr(scheduler, "lr_lambdas", [])}.values()
    for fn in lambdas:
        for step in _probe_steps(warmup, total):
            try:
                value = float(fn(step))
            except Exception as err:  # a third-party formula: any failure is bad input
                raise ValueError(
                    f"{described(name, options)} fails at step {step}: {type(err).__name__}: {err}"
                ) from None
            if not (math.isfinite(value) and 0.0 <= value <= 1.0 + 1e-12):
                raise ValueError(
                    f"{described(name, options)} gives an LR multiplier of {value!r} at step {step}, "
                    "outside [0, 1] of the peak LR"
                )


def build_error(name: str, options: Mapping[str, Any]) -> ValueError:
    """The exception being handled, as one ``ValueError`` naming the schedule and its options."""
    err = sys.exc_info()[1]
    return ValueError(f"{described(name, options)} could not be built: {type(err).__name__}: {err}")


def check_not_zero_after_warmup(name, scheduler, options, warmup, total) -> None:
    """A built-in whose multiplier is 0 at every probe step from the peak (``warmup``) up to the last
    trained step (e.g. ``warmup_stable_decay`` with a negative ``num_stable_steps``) would train
    nothing after warmup: a ``ValueError`` naming the options, not a silent flat curve."""
    steps = [s for s in _probe_steps(warmup, total) if s >= (warmup or 0) and (total is None or s < total)]
    for fn in {id(fn): fn for fn in getattr(scheduler, "lr_lambdas", [])}.values():
        if steps and all(float(fn(step)) == 0.0 for step in steps):
            raise ValueError(
                f"{described(name, options)} gives an LR multiplier of 0 at every probed step after warmup "
                f"(steps {', '.join(map(str, steps))}): the LR would be 0 for the rest of training"
            )


def check_finite_options(schedule_name: str, options: Mapping[str, Any] | None) -> None:
    """Raise ``ValueError`` naming the first option (or item of a list option) that is NaN or infinite.

    ``json.loads`` accepts ``NaN`` and ``Infinity`` from a command line, and transformers' formulas turn
    them into a silent curve (``max(0.0, nan)`` is 0.0 at every step); this package's own options are
    checked one by one, this covers the schedules whose factories check nothing.

    Examples:
      >>> check_finite_options("cosine", {"num_cycles": 0.5})
      >>> check_finite_options("cosine", {"num_cycles": float("nan")})
      Traceback (most recent call last):
      ...
      ValueError: lr_scheduler_kwargs for 'cosine': num_cycles must be a finite number, got nan
    """
    for key, value in (options or {}).items():
        found = _non_finite(str(key), value)
        if found is not None:
            raise ValueError(
                f"lr_scheduler_kwargs for {schedule_name!r}: {found[0]} must be a finite number, got {found[1]!r}"
            )


def _non_finite(path: str, value) -> tuple[str, float] | None:
    """``(where, value)`` of the first non-finite number in ``value`` (searching lists and dicts), or ``None``."""
    if isinstance(value, Mapping):
        items = [(f"{path}[{key!r}]", item) for key, item in value.items()]
    elif isinstance(value, (list, tuple)):
        items = [(f"{path}[{i}]", item) for i, item in enumerate(value)]
    else:
        return (path, value) if isinstance(value, numbers.Real) and not math.isfinite(value) else None
    for where, item in items:
        found = _non_finite(where, item)
        if found is not None:
            return found
    return None
