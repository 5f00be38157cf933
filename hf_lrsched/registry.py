"""Schedule names -> factories, usable wherever transformers takes ``lr_scheduler_type``.

``register_schedule`` records a factory under a name and makes the name a valid
``TrainingArguments.lr_scheduler_type`` (through :mod:`hf_lrsched._transformers_compat`).
``get_scheduler`` builds any known schedule (ours, a user's, or transformers' own) by name, with
options checked first; the recipes and tools build every scheduler through it.
"""

from __future__ import annotations

import difflib
import inspect
import json
import math
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from transformers import get_scheduler as _transformers_get_scheduler

from . import _transformers_compat as compat
from .catalog import BUILTIN_FACTORIES
from .option_probe import check_options_early
from .schedules import check_int, check_lengths, resolve_length

__all__ = [
    "available_schedules",
    "check_schedule",
    "check_schedule_options",
    "get_scheduler",
    "parse_scheduler_kwargs",
    "register_schedule",
    "required_schedule_options",
    "schedule_options",
    "unregister_schedule",
]

_POSITIONAL = ("optimizer", "num_warmup_steps", "num_training_steps")
_NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class _Entry:
    factory: Callable[..., Any]
    builtin: bool


_REGISTRY: dict[str, _Entry] = {}


def _options_of(factory: Callable) -> dict[str, Any] | None:
    """Keyword options a factory takes (name -> default), or ``None`` if it takes ``**kwargs``."""
    params = inspect.signature(factory).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return {
        p.name: (None if p.default is inspect.Parameter.empty else p.default)
        for p in params
        if p.name not in _POSITIONAL
        and p.name != "last_epoch"
        and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }


def available_schedules() -> dict[str, Callable[..., Any]]:
    """Every name usable as ``lr_scheduler_type`` now, mapped to the factory it builds with.

    Examples:
      >>> available_schedules()["one_cycle"].__name__
      'get_one_cycle_schedule'
    """
    return {name: _factory(name) for name in compat.known_scheduler_names()}


def _unknown_name_error(name) -> ValueError:
    known = compat.known_scheduler_names()
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ValueError(f"unknown lr_scheduler_type {name!r}{hint}; known schedules: {', '.join(known)}")


def _factory(name: str) -> Callable[..., Any]:
    entry = _REGISTRY.get(name)
    if entry is not None:
        return entry.factory
    function = compat.get_scheduler_function(name)
    if function is None:
        raise _unknown_name_error(name)
    return function


def schedule_options(name: str) -> dict[str, Any] | None:
    """Options (name -> default) that ``lr_scheduler_kwargs`` may set for schedule ``name``.

    ``None`` when the factory takes arbitrary ``**kwargs``.

    Examples:
      >>> sorted(schedule_options("warmup_step"))
      ['gamma', 'min_lr_ratio', 'step_size', 'warmup_start_ratio', 'warmup_type']
    """
    return _options_of(_factory(str(getattr(name, "value", name))))


def parse_scheduler_kwargs(text: str | None, option: str = "lr_scheduler_kwargs") -> dict:
    """Parse schedule options given as JSON on a command line; errors name ``--option``.

    Args:
      text: a JSON object, or ``None``/blank for no options.
      option: the flag name used in error messages.

    Returns:
      The options as a dict.

    Examples:
      >>> parse_scheduler_kwargs('{"gamma": 0.999}')
      {'gamma': 0.999}
      >>> parse_scheduler_kwargs("{gamma: 1}")
      Traceback (most recent call last):
      ...
      ValueError: --lr_scheduler_kwargs is not valid JSON (Expecting property name ... at character 1): ...
    """
    if text is None or not text.strip():
        return {}
    return compat.parse_kwargs_json(text.strip(), option=option)


def required_schedule_options(name: str) -> list[str]:
    """Options of schedule ``name`` that have no default and so must be in ``lr_scheduler_kwargs``.

    Examples:
      >>> required_schedule_options("warmup_stable_decay")
      ['num_decay_steps']
      >>> required_schedule_options("warmup_step")
      []
    """
    params = inspect.signature(_factory(str(getattr(name, "value", name)))).parameters
    return [
        key for key in schedule_options(name) or {} if key in params and params[key].default is inspect.Parameter.empty
    ]


def check_schedule_options(name: str, options: Mapping[str, Any] | None) -> None:
    """Raise ``ValueError`` naming any option that schedule ``name`` does not accept."""
    if options is None:
        return
    if not isinstance(options, Mapping):
        raise ValueError(f"lr_scheduler_kwargs must be a dict (a JSON object), got {options!r}")
    accepted = schedule_options(name)
    if accepted is None:
        return
    for key in options:
        if key not in accepted:
            close = difflib.get_close_matches(str(key), list(accepted), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            listing = ", ".join(accepted) or "none"
            raise ValueError(
                f"lr_scheduler_kwargs: unknown option {key!r} for schedule {name!r}{hint}; accepted options: {listing}"
            )


class _CheckedFactory:
    """What transformers' ``get_scheduler`` calls for a registered name: checks options, then builds."""

    def __init__(self, name: str, factory: Callable[..., Any]):
        self.name = name
        self.factory = factory

    def __call__(self, optimizer, num_warmup_steps=None, num_training_steps=None, **options):
        check_schedule_options(self.name, options)
        return self.factory(
            optimizer, num_warmup_steps=num_warmup_steps, num_training_steps=num_training_steps, **options
        )

    def __repr__(self) -> str:
        return f"<{self.name}: {getattr(self.factory, '__qualname__', self.factory)!r}>"


def register_schedule(name: str, factory: Callable[..., Any], *, override: bool = False) -> None:
    """Make ``name`` a valid ``lr_scheduler_type`` that builds its scheduler with ``factory``.

    ``factory(optimizer, num_warmup_steps=..., num_training_steps=..., **lr_scheduler_kwargs)`` must
    return a ``torch.optim.lr_scheduler.LRScheduler``. Registering a name again replaces it (so
    re-running a notebook cell is harmless); replacing a built-in name (this package's or
    transformers' own) needs ``override=True``; :func:`unregister_schedule` undoes either. Register
    before ``HfArgumentParser`` is built, so the name is among its ``--lr_scheduler_type`` choices.

    Args:
      name: lower-case identifier, e.g. ``"my_poly"``.
      factory: the scheduler factory.
      override: allow replacing a built-in schedule.

    Examples:
      >>> import functools, torch
      >>> def get_halving(optimizer, num_warmup_steps, num_training_steps, every=10):
      ...     return torch.optim.lr_scheduler.LambdaLR(optimizer, functools.partial(pow, 0.5))
      >>> register_schedule("halving", get_halving)
      >>> from transformers import TrainingArguments
      >>> TrainingArguments("out", lr_scheduler_type="halving").lr_scheduler_type.value
      'halving'
      >>> unregister_schedule("halving")  # leave the registry as it was
    """
    if not isinstance(name, str) or not _NAME_PATTERN.fullmatch(name):
        raise ValueError(f"schedule name must be a lower-case identifier like 'my_schedule', got {name!r}")
    if not callable(factory):
        raise ValueError(f"factory for {name!r} must be callable, got {factory!r}")
    _check_factory_signature(name, factory)
    entry = _REGISTRY.get(name)
    is_builtin = name in compat.transformers_scheduler_names() or (entry is not None and entry.builtin)
    if is_builtin and not override:
        if entry is not None and entry.factory is factory:
            return
        raise ValueError(f"{name!r} is a built-in schedule; pass override=True to replace it")
    _REGISTRY[name] = _Entry(factory, builtin=is_builtin)
    module = None if name in BUILTIN_FACTORIES else _registering_module(sys._getframe(1))
    compat.set_scheduler_function(name, _CheckedFactory(name, factory), module)


def _registering_module(frame) -> str:
    # The module whose code called register_schedule: unpickling the name imports it again. A script
    # run with `python -m pkg.train` is __main__ here but importable as pkg.train.
    module = frame.f_globals.get("__name__") or "__main__"
    if module == "__main__":
        spec = frame.f_globals.get("__spec__")
        module = getattr(spec, "name", None) or module
    return module


def _check_factory_signature(name: str, factory: Callable[..., Any]) -> None:
    # transformers calls factory(optimizer, num_warmup_steps=..., num_training_steps=..., **options).
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return  # not introspectable (some builtins): trust the caller
    try:
        signature.bind_partial(object(), num_warmup_steps=0, num_training_steps=1)
    except TypeError as err:
        raise ValueError(
            f"factory for {name!r} must accept (optimizer, num_warmup_steps=..., num_training_steps=..., "
            f"**options) as transformers calls it; {getattr(factory, '__qualname__', factory)!r}{signature} "
            f"does not ({err})"
        ) from None


def unregister_schedule(name: str) -> None:
    """Undo :func:`register_schedule`.

    A name a user added stops being a valid ``lr_scheduler_type``; a built-in name (this package's
    or transformers' own) replaced with ``override=True`` gets its original factory back. Meant for
    tests and notebooks; arguments already parsed with a removed name keep it, but can no longer be
    unpickled or trained with.

    Args:
      name: the schedule name.

    Examples:
      >>> import torch
      >>> def get_flat(optimizer, num_warmup_steps, num_training_steps):
      ...     return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
      >>> register_schedule("flat", get_flat)
      >>> unregister_schedule("flat")
      >>> "flat" in available_schedules()
      False
    """
    name = str(getattr(name, "value", name))
    if name in BUILTIN_FACTORIES:
        factory = BUILTIN_FACTORIES[name]
        _REGISTRY[name] = _Entry(factory, builtin=True)
        compat.set_scheduler_function(name, _CheckedFactory(name, factory))
    elif name in compat.transformers_scheduler_names():
        _REGISTRY.pop(name, None)
        compat.restore_transformers_function(name)
    elif name in _REGISTRY:
        del _REGISTRY[name]
        compat.remove_scheduler_type(name)
    else:
        raise _unknown_name_error(name)


def _register_builtins() -> None:
    for name, factory in BUILTIN_FACTORIES.items():
        if name not in _REGISTRY:
            _REGISTRY[name] = _Entry(factory, builtin=True)
            compat.set_scheduler_function(name, _CheckedFactory(name, factory))


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
    return scheduler


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


def _check_training_args(name: str, kwargs: Any) -> None:
    """Fail at argument-parsing time on bad ``lr_scheduler_kwargs`` (installed on TrainingArguments)."""
    if name not in compat.known_scheduler_names():
        raise _unknown_name_error(name)  # transformers would too, without the did-you-mean hint
    if isinstance(kwargs, str):
        text = kwargs.strip()
        if text.startswith("{"):
            kwargs = compat.parse_kwargs_json(text)
        elif text and name in _REGISTRY:
            raise ValueError(
                f"--lr_scheduler_kwargs must be a JSON object such as '{{\"gamma\": 0.999}}', got {kwargs!r}"
            )
        else:
            return
    if name in _REGISTRY and kwargs:
        check_schedule_options(name, kwargs)
        try:  # e.g. unsorted milestones: now, not at trainer.train()
            check_options_early(_REGISTRY[name].factory, kwargs)
        except ValueError as err:
            raise ValueError(f"lr_scheduler_kwargs for {name!r}: {err}") from None


_register_builtins()
compat.install_training_args_check(_check_training_args)
