"""Build a scheduler by name with every check first: :func:`get_scheduler` and :func:`check_schedule`.

Any known name works (this package's, a registered one, transformers' own; see :mod:`hf_lrsched.registry`).
transformers' own factories check nothing themselves, so the shared lengths are checked here for every
name, and the multipliers of this package's and transformers' schedules are evaluated at a few probe
steps; the recipes and tools build every scheduler through :func:`get_scheduler`.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from typing import Any

import torch
from transformers import get_scheduler as _transformers_get_scheduler

from . import _transformers_compat as compat
from .catalog import BUILTIN_FACTORIES
from .registry import (
    _REGISTRY,
    _factory,
    check_schedule_options,
    parse_scheduler_kwargs,
    required_schedule_options,
)
from .validation import check_finite_options, check_int, check_lengths, resolve_length

__all__ = ["check_schedule", "get_scheduler"]


def get_scheduler(
    name: str,
    optimizer,
    num_warmup_steps: int | float | None = None,
    num_training_steps: int | None = None,
    scheduler_specific_kwargs: Mapping[str, Any] | str | None = None,
):
    """Build the scheduler called ``name``: ``transformers.get_scheduler`` with checked input.

    Accepts this package's names, registered ones and transformers' own. ``scheduler_specific_kwargs``
    may be a dict or a JSON string (as given to ``--lr_scheduler_kwargs``). A fractional
    ``num_warmup_steps`` (e.g. ``0.1``) is resolved against ``num_training_steps``. Every name gets
    the checks of :func:`check_schedule` (transformers' own factories check nothing themselves), and
    any exception a third-party factory raises becomes one ``ValueError`` naming the schedule and
    its options.

    Args:
      name: schedule name (``lr_scheduler_type``).
      optimizer: the optimizer to schedule.
      num_warmup_steps: warmup steps, or a fraction of ``num_training_steps``.
      num_training_steps: total optimizer updates.
      scheduler_specific_kwargs: options of the schedule (``lr_scheduler_kwargs``).

    Returns:
      A ``torch.optim.lr_scheduler.LRScheduler``.

    Examples:
      >>> import torch
      >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
      >>> sched = get_scheduler("warmup_step", opt, 0, 100, '{"step_size": 50}')
      >>> type(sched).__name__
      'ScheduleLR'
      >>> get_scheduler("warmup_stepp", opt, 0, 100)
      Traceback (most recent call last):
      ...
      ValueError: unknown lr_scheduler_type 'warmup_stepp' (did you mean 'warmup_step'?); known schedules: ...
    """
    return _build_checked(name, optimizer, num_warmup_steps, num_training_steps, scheduler_specific_kwargs)


#: transformers' own schedules that take no num_training_steps; all its others need it.
_TOTAL_OPTIONAL = frozenset(
    {"constant", "constant_with_warmup", "inverse_sqrt", "reduce_lr_on_plateau", "greedy", "warmup_stable_decay"}
)


def _is_transformers_own(name: str) -> bool:
    return name not in _REGISTRY and name in compat.transformers_scheduler_names()


def _is_pure_builtin(name: str) -> bool:
    """transformers' or this package's own factory (not a user's): its multipliers are pure, in [0, 1]."""
    entry = _REGISTRY.get(name)
    return _is_transformers_own(name) or (entry is not None and entry.factory is BUILTIN_FACTORIES.get(name))


def _check_shared_lengths(name: str, num_warmup_steps, num_training_steps) -> tuple[Any, Any]:
    # transformers' factories check neither type nor range (True, -1, 0 all "work"): checked here for
    # every name; this package's factories check them again with their own rules.
    if _is_transformers_own(name) and name not in _TOTAL_OPTIONAL:
        return check_lengths(num_warmup_steps, num_training_steps, require_warmup=False, schedule=repr(name))
    # The total is optional (or the factory's own business): its type and range only.
    total = None if num_training_steps is None else check_int("num_training_steps", num_training_steps, minimum=1)
    warmup = None if num_warmup_steps is None else resolve_length("num_warmup_steps", num_warmup_steps, total)
    return warmup, total


def _described(name: str, options: Mapping[str, Any]) -> str:
    return f"schedule {name!r} with lr_scheduler_kwargs {json.dumps(dict(options), default=repr)}"


def _probe_steps(warmup, total) -> list[int]:
    """A few steps where curves have their extremes: start, around the end of warmup, middle and end."""
    warmup = warmup or 0
    steps = {0, 1, warmup - 1, warmup, warmup + 1}
    if total is not None:
        steps |= {total // 2, total - 1, total}
    return sorted(s for s in steps if s >= 0)


def _check_multipliers(name, scheduler, options, warmup, total) -> None:
    """Evaluate a built-in's ``lr_lambdas`` at the probe steps: an exception, a NaN or a value
    outside [0, 1] (e.g. ``polynomial`` with a negative ``power``) is a ``ValueError`` now, not in
    the middle of training."""
    if not _is_pure_builtin(name):
        return  # a user's lambda may keep state: not called ahead of time
    lambdas = {id(fn): fn for fn in getattr(scheduler, "lr_lambdas", [])}.values()
    for fn in lambdas:
        for step in _probe_steps(warmup, total):
            try:
                value = float(fn(step))
            except Exception as err:  # a third-party formula: any failure is bad input
                raise ValueError(
                    f"{_described(name, options)} fails at step {step}: {type(err).__name__}: {err}"
                ) from None
            if not (math.isfinite(value) and 0.0 <= value <= 1.0 + 1e-12):
                raise ValueError(
                    f"{_described(name, options)} gives an LR multiplier of {value!r} at step {step}, "
                    "outside [0, 1] of the peak LR"
                )


def _build_checked(name: str, optimizer, num_warmup_steps, num_training_steps, scheduler_specific_kwargs):
    """Everything :func:`get_scheduler` and :func:`check_schedule` check, then the build."""
    name = str(getattr(name, "value", name))
    _factory(name)  # raises for unknown names, listing the known ones
    if isinstance(scheduler_specific_kwargs, str):
        scheduler_specific_kwargs = parse_scheduler_kwargs(scheduler_specific_kwargs)
    check_schedule_options(name, scheduler_specific_kwargs)  # rejects non-mappings, names unknown options
    options = dict(scheduler_specific_kwargs or {})
    if _is_pure_builtin(name):  # a user's factory may give inf a meaning; transformers' formulas do not
        check_finite_options(name, options)
    missing = [key for key in required_schedule_options(name) if key not in options]
    if missing:
        raise ValueError(
            f"schedule {name!r} needs {', '.join(missing)} in lr_scheduler_kwargs "
            f"(e.g. '{{\"{missing[0]}\": ...}}'); it has no default"
        )
    num_warmup_steps, num_training_steps = _check_shared_lengths(name, num_warmup_steps, num_training_steps)
    try:
        scheduler = _transformers_get_scheduler(
            name,
            optimizer=optimizer,
            num_warmup_steps=num_warmup_steps,
            num_training_steps=num_training_steps,
            scheduler_specific_kwargs=options,
        )
    except ValueError:
        if name in BUILTIN_FACTORIES:
            raise  # this package's messages already name the option and value
        raise _third_party_error(name, options) from None
    except Exception:  # noqa: BLE001  a third-party factory's ZeroDivisionError, TypeError, ...
        raise _third_party_error(name, options) from None
    _check_multipliers(name, scheduler, options, num_warmup_steps, num_training_steps)
    _check_not_zero_after_warmup(name, scheduler, options, num_warmup_steps, num_training_steps)
    return scheduler


def _check_not_zero_after_warmup(name, scheduler, options, warmup, total) -> None:
    """A built-in whose multiplier is 0 at every probe step from the peak (``warmup``) up to the last
    trained step (e.g. ``warmup_stable_decay`` with a negative ``num_stable_steps``) would train
    nothing after warmup: a ``ValueError`` naming the options, not a silent flat curve."""
    if not _is_pure_builtin(name):
        return  # a user's lambda may keep state: not called ahead of time
    steps = [s for s in _probe_steps(warmup, total) if s >= (warmup or 0) and (total is None or s < total)]
    for fn in {id(fn): fn for fn in getattr(scheduler, "lr_lambdas", [])}.values():
        if steps and all(float(fn(step)) == 0.0 for step in steps):
            raise ValueError(
                f"{_described(name, options)} gives an LR multiplier of 0 at every probed step after warmup "
                f"(steps {', '.join(map(str, steps))}): the LR would be 0 for the rest of training"
            )


def _third_party_error(name: str, options: Mapping[str, Any]) -> ValueError:
    err = sys.exc_info()[1]  # the exception being handled
    return ValueError(f"{_described(name, options)} could not be built: {type(err).__name__}: {err}")


def check_schedule(
    name: str,
    options: Mapping[str, Any] | str | None = None,
    num_warmup_steps: int | float | None = None,
    num_training_steps: int | None = None,
) -> None:
    """Validate schedule ``name`` with these options and lengths, without the real optimizer.

    Runs every check :func:`get_scheduler` runs: known name and options, the shared lengths (ints in
    range, not bools; a fraction of warmup; warmup before the end where the schedule needs a total),
    the schedule's own options, and, for this package's and transformers' schedules, the multiplier
    at a few probe steps (finite and in [0, 1]). The scheduler is built on a throw-away one-parameter
    SGD (LR 1.0, momentum 0.9). Any failure is one ``ValueError`` naming the schedule and option.

    Args:
      name: schedule name (``lr_scheduler_type``).
      options: its ``lr_scheduler_kwargs`` (dict or JSON string).
      num_warmup_steps: warmup steps, or a fraction of ``num_training_steps``.
      num_training_steps: total optimizer updates.

    Examples:
      >>> check_schedule("cosine", None, 10, 100)
      >>> check_schedule("polynomial", {"power": -2}, 0, 10)
      Traceback (most recent call last):
      ...
      ValueError: schedule 'polynomial' with lr_scheduler_kwargs {"power": -2} gives an LR multiplier of ...
    """
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0, momentum=0.9)
    _build_checked(name, optimizer, num_warmup_steps, num_training_steps, options)
