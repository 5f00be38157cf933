"""Schedule names -> factories, usable wherever transformers takes ``lr_scheduler_type``.

``register_schedule`` records a factory under a name and makes the name a valid
``TrainingArguments.lr_scheduler_type`` (through :mod:`hf_lrsched._hf.compat`). The lookups
(``available_schedules``, ``schedule_options``, ...) say what a name builds with and which options it
takes; :func:`get_scheduler` builds by name and :func:`check_schedule` checks without building on
your optimizer.

What is checked where, once each:

* the option *names*: here, on every call by name (:func:`check_schedule_options`, and the wrapper
  transformers' ``get_scheduler`` calls for a registered name);
* the option *values* of this package's schedules: their factory's options pass
  (:mod:`hf_lrsched._checks.options`); its length-free part also runs when ``TrainingArguments``
  is parsed (:func:`check_schedule_options`, installed on ``TrainingArguments`` below);
* the lengths and curves of transformers' and users' factories, which check nothing themselves:
  :mod:`hf_lrsched._checks.foreign`, from :func:`get_scheduler`.
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from transformers import get_scheduler as _transformers_get_scheduler

from . import catalog
from ._checks import foreign
from ._checks.validation import check_steps_per_epoch
from ._hf import compat, trainer_epochs

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
        and p.name not in ("last_epoch", "steps_per_epoch")
        and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }


def _takes_steps_per_epoch(factory: Callable) -> bool:
    """Whether ``factory`` takes ``steps_per_epoch`` (this package's factories: lengths in epochs)."""
    try:
        return "steps_per_epoch" in inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False


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
    """Check ``options`` of schedule ``name`` as far as they can be without the length of training.

    Raises a ``ValueError`` naming the option for an unknown schedule, a non-mapping, an option the
    schedule does not take, or, for this package's schedules, a value that is wrong whatever the run
    length (their ``check_<schedule>_options`` of :mod:`hf_lrsched._checks.options`). Nothing is
    built. What depends on the length (a milestone past the end) is left to the build. This is the
    check ``TrainingArguments`` runs when it is parsed.

    Args:
      name: schedule name (``lr_scheduler_type``).
      options: its ``lr_scheduler_kwargs``, or ``None``.

    Examples:
      >>> check_schedule_options("warmup_multistep", {"milestones": [0.5, 0.75], "gamma": 0.5})
      >>> check_schedule_options("warmup_multistep", {"gamma": 2.0})
      Traceback (most recent call last):
      ...
      ValueError: gamma must be in (0.0, 1.0], got 2.0
    """
    name = str(getattr(name, "value", name))
    _check_option_names(name, options)
    row = _builtin_row(name)
    if row is not None and options:
        options = dict(options)
        if options.get("steps_per_epoch") is not None:
            check_steps_per_epoch(options["steps_per_epoch"])
        options.pop("steps_per_epoch", None)
        row.check_options(**{**row.option_defaults(), **options})


def _builtin_row(name: str) -> catalog.ScheduleInfo | None:
    """The catalog row of ``name`` while it builds with this package's own factory (not replaced by a user)."""
    entry = _REGISTRY.get(name)
    if entry is None or name not in catalog.BUILTIN_FACTORIES or entry.factory is not catalog.BUILTIN_FACTORIES[name]:
        return None
    return catalog.by_name(name)


def _check_option_names(name: str, options: Mapping[str, Any] | None) -> None:
    """Raise ``ValueError`` for a non-mapping or an option that schedule ``name`` does not accept."""
    if options is None:
        return
    if not isinstance(options, Mapping):
        raise ValueError(f"lr_scheduler_kwargs must be a dict (a JSON object), got {options!r}")
    accepted = schedule_options(name)
    if accepted is None:
        return
    for key in options:
        if key == "steps_per_epoch" and _takes_steps_per_epoch(_factory(name)):
            continue
        if key not in accepted:
            close = difflib.get_close_matches(str(key), list(accepted), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            listing = ", ".join(accepted) or "none"
            raise ValueError(
                f"lr_scheduler_kwargs: unknown option {key!r} for schedule {name!r}{hint}; accepted options: {listing}"
            )


class _NamedFactory:
    """What transformers' ``get_scheduler`` calls for a registered name: the option names, then the factory.

    The values are the factory's business (this package's check them in their options pass), so
    each option is checked once per build. Inside ``Trainer.create_scheduler`` a factory that takes
    ``steps_per_epoch`` gets the trainer's (:mod:`hf_lrsched._hf.trainer_epochs`) unless the options
    give one.
    """

    def __init__(self, name: str, factory: Callable[..., Any]):
        self.name = name
        self.factory = factory

    def __call__(self, optimizer, num_warmup_steps=None, num_training_steps=None, **options):
        _check_option_names(self.name, options)
        per_epoch = trainer_epochs.current_steps_per_epoch()
        if per_epoch is not None and "steps_per_epoch" not in options and _takes_steps_per_epoch(self.factory):
            options["steps_per_epoch"] = per_epoch
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
    module = None if name in catalog.BUILTIN_FACTORIES else _registering_module(inspect.currentframe())
    compat.set_scheduler_function(name, _NamedFactory(name, factory), module)


def _registering_module(frame) -> str:
    # The module whose code called register_schedule (frame: register_schedule's own): unpickling the name
    # imports it again. A script run with `python -m pkg.train` is __main__ here but importable as pkg.train.
    # An interpreter without frames (inspect.currentframe() is None) gets __main__, which says so on unpickling.
    caller = frame.f_back if frame is not None else None
    if caller is None:
        return "__main__"
    module = caller.f_globals.get("__name__") or "__main__"
    if module == "__main__":
        spec = caller.f_globals.get("__spec__")
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
    if name in catalog.BUILTIN_FACTORIES:
        factory = catalog.BUILTIN_FACTORIES[name]
        _REGISTRY[name] = _Entry(factory, builtin=True)
        compat.set_scheduler_function(name, _NamedFactory(name, factory))
    elif name in compat.transformers_scheduler_names():
        _REGISTRY.pop(name, None)
        compat.restore_transformers_function(name)
    elif name in _REGISTRY:
        del _REGISTRY[name]
        compat.remove_scheduler_type(name)
    else:
        raise _unknown_name_error(name)


def get_scheduler(
    name: str,
    optimizer,
    num_warmup_steps: int | float | None = None,
    num_training_steps: int | None = None,
    scheduler_specific_kwargs: Mapping[str, Any] | str | None = None,
    steps_per_epoch: int | None = None,
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
      steps_per_epoch: optimizer updates per epoch, for lengths given in epochs (``"2ep"``): the
        warmup, and this package's length options (``milestones``, ``step_size``, phase lengths...).

    Returns:
      A ``torch.optim.lr_scheduler.LRScheduler``.

    Examples:
      >>> import torch
      >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
      >>> sched = get_scheduler("warmup_multistep", opt, 0, 40, {"milestones": ["1ep", "3ep"]}, steps_per_epoch=10)
      >>> sched.schedule_options["milestones"]
      [10, 30]
      >>> sched = get_scheduler("warmup_step", opt, 0, 100, '{"step_size": 50}')
      >>> type(sched).__name__
      'ScheduleLR'
      >>> get_scheduler("warmup_stepp", opt, 0, 100)
      Traceback (most recent call last):
      ...
      ValueError: unknown lr_scheduler_type 'warmup_stepp' (did you mean 'warmup_step'?); known schedules: ...
    """
    return _build(name, optimizer, num_warmup_steps, num_training_steps, scheduler_specific_kwargs, steps_per_epoch)


def check_schedule(
    name: str,
    options: Mapping[str, Any] | str | None = None,
    num_warmup_steps: int | float | None = None,
    num_training_steps: int | None = None,
    steps_per_epoch: int | None = None,
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
      steps_per_epoch: optimizer updates per epoch, for lengths given in epochs.

    Examples:
      >>> check_schedule("cosine", None, 10, 100)
      >>> check_schedule("polynomial", {"power": -2}, 0, 10)
      Traceback (most recent call last):
      ...
      ValueError: schedule 'polynomial' with lr_scheduler_kwargs {"power": -2} gives an LR multiplier of ...
    """
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0, momentum=0.9)
    _build(name, optimizer, num_warmup_steps, num_training_steps, options, steps_per_epoch)


def _build(name: str, optimizer, num_warmup_steps, num_training_steps, scheduler_specific_kwargs, steps_per_epoch=None):
    """What :func:`get_scheduler` and :func:`check_schedule` do: look the name up, check, build."""
    name = str(getattr(name, "value", name))
    _factory(name)  # raises for unknown names, listing the known ones
    if isinstance(scheduler_specific_kwargs, str):
        scheduler_specific_kwargs = parse_scheduler_kwargs(scheduler_specific_kwargs)
    if scheduler_specific_kwargs is not None and not isinstance(scheduler_specific_kwargs, Mapping):
        raise ValueError(f"lr_scheduler_kwargs must be a dict (a JSON object), got {scheduler_specific_kwargs!r}")
    options = dict(scheduler_specific_kwargs or {})
    if steps_per_epoch is not None:
        if options.get("steps_per_epoch", steps_per_epoch) != steps_per_epoch:
            raise ValueError(
                f"steps_per_epoch={steps_per_epoch!r} and lr_scheduler_kwargs' steps_per_epoch="
                f"{options['steps_per_epoch']!r} differ; give it once"
            )
        if _takes_steps_per_epoch(_factory(name)):
            options["steps_per_epoch"] = steps_per_epoch  # the factory checks it with its other options
        else:
            steps_per_epoch = check_steps_per_epoch(steps_per_epoch)  # for a warmup in epochs, below
    if _builtin_row(name) is not None:
        # This package's factory checks everything once; the names are checked on the way in (_NamedFactory).
        return _transformers_get_scheduler(
            name,
            optimizer=optimizer,
            num_warmup_steps=num_warmup_steps,
            num_training_steps=num_training_steps,
            scheduler_specific_kwargs=options,
        )
    missing = [key for key in required_schedule_options(name) if key not in options]
    if missing:
        raise ValueError(
            f"schedule {name!r} needs {', '.join(missing)} in lr_scheduler_kwargs "
            f"(e.g. '{{\"{missing[0]}\": ...}}'); it has no default"
        )
    transformers_own = name not in _REGISTRY and name in compat.transformers_scheduler_names()
    if transformers_own:
        _check_option_names(name, options)  # a user's registered factory gets them checked by _NamedFactory
        foreign.check_finite_options(name, options)  # a user's factory may give inf a meaning; these do not
    num_warmup_steps, num_training_steps = foreign.check_shared_lengths(
        name,
        num_warmup_steps,
        num_training_steps,
        transformers_own=transformers_own,
        steps_per_epoch=options.get("steps_per_epoch", steps_per_epoch),
    )
    try:
        scheduler = _transformers_get_scheduler(
            name,
            optimizer=optimizer,
            num_warmup_steps=num_warmup_steps,
            num_training_steps=num_training_steps,
            scheduler_specific_kwargs=options,
        )
    except Exception:  # noqa: BLE001  a third-party factory's ZeroDivisionError, TypeError, ValueError...
        raise foreign.build_error(name, options) from None
    if transformers_own:  # pure formulas: safe to evaluate ahead of time (a user's lambda may keep state)
        foreign.check_multipliers(name, scheduler, options, num_warmup_steps, num_training_steps)
        foreign.check_not_zero_after_warmup(name, scheduler, options, num_warmup_steps, num_training_steps)
    return scheduler


def _check_training_args(name: str, kwargs: Any) -> None:
    """Fail when ``TrainingArguments`` is parsed, not at ``trainer.train()``, on a bad name or options."""
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
        try:
            check_schedule_options(name, kwargs)
        except ValueError as err:
            if str(err).startswith("lr_scheduler_kwargs"):
                raise
            raise ValueError(f"lr_scheduler_kwargs for {name!r}: {err}") from None
    if name not in _REGISTRY and isinstance(kwargs, dict):  # transformers' own: NaN/inf need no run length
        foreign.check_finite_options(name, kwargs)


def _register_builtins() -> None:
    for name, factory in catalog.BUILTIN_FACTORIES.items():
        if name not in _REGISTRY:
            _REGISTRY[name] = _Entry(factory, builtin=True)
            compat.set_scheduler_function(name, _NamedFactory(name, factory))


_register_builtins()


compat.install_training_args_check(_check_training_args)
trainer_epochs.install_trainer_epoch_hook()
