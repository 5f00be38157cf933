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
import sys
from collections.abc import Mapping
from typing import Any

from .validation import check_int, check_lengths, resolve_length

#: transformers' own schedules that take no num_training_steps; all its others need it.
TOTAL_OPTIONAL = frozenset(
    {"constant", "constant_with_warmup", "inverse_sqrt", "reduce_lr_on_plateau", "greedy", "warmup_stable_decay"}
)


def check_shared_lengths(name: str, num_warmup_steps, num_training_steps, *, transformers_own: bool) -> tuple:
    """``(warmup, total)`` checked and resolved: in full for a transformers schedule that needs the total,
    else their type and range only (the total is optional, or the factory's own business)."""
    if transformers_own and name not in TOTAL_OPTIONAL:
        return check_lengths(num_warmup_steps, num_training_steps, require_warmup=False, schedule=repr(name))
    total = None if num_training_steps is None else check_int("num_training_steps", num_training_steps, minimum=1)
    warmup = None if num_warmup_steps is None else resolve_length("num_warmup_steps", num_warmup_steps, total)
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
