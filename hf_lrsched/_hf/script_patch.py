"""What ``hf-lrsched run`` changes, for the duration of the script, so unmodified HF scripts work.

transformers' ``run_*_no_trainer.py`` examples declare
``add_argument("--lr_scheduler_type", type=SchedulerType, choices=[<transformers' names>])``, pass
no options to ``get_scheduler``, and multiply the step counts by ``num_processes`` before
``accelerator.prepare(scheduler)`` steps the scheduler ``num_processes`` times per update. Under
``hf-lrsched run``:

* :func:`scheduler_arguments`: an ``argparse`` argument whose ``type`` is ``SchedulerType``, or whose
  ``choices`` are scheduler names and whose ``dest`` says "sched", also accepts every registered
  name (its ``--help`` lists them), and a mistyped name is one line with a "did you mean", exit 2.
  Every other argument, and every script without such an argument, is untouched.
* :func:`default_scheduler_options`: ``hf-lrsched run --lr_scheduler_kwargs JSON`` gives options to
  a schedule the script builds without any (through ``transformers.get_scheduler``,
  ``hf_lrsched.get_scheduler`` or ``Trainer``); options the script passes win.
* :func:`one_line_argument_errors`: bad ``lr_scheduler_type`` / ``lr_scheduler_kwargs`` in
  ``TrainingArguments`` is one line, exit 2, not a traceback.
* :mod:`hf_lrsched._hf.multi_process_warnings`: a scheduler that ``accelerator.prepare`` steps
  ``num_processes`` times per update warns once about each option given in steps, which that
  convention speeds up.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import functools
import os
import sys
import weakref
from collections.abc import Iterator, Mapping
from typing import Any

from transformers.trainer_utils import SchedulerType

from ..registry import check_schedule_options, required_schedule_options, schedule_options
from . import compat
from .multi_process_warnings import _multi_process_warnings, steps_options

__all__ = [
    "check_run_options",
    "default_scheduler_options",
    "is_scheduler_argument",
    "one_line_argument_errors",
    "patched_for_scripts",
    "scheduler_arguments",
    "steps_options",
]


def _fail(prog: str, message: str) -> None:
    """Exit as argparse does on a usage error, but with one line instead of the whole usage text."""
    print(f"{prog}: error: {' '.join(message.split())}", file=sys.stderr)
    raise SystemExit(2)


def _script_prog() -> str:
    return os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "script"


# ------------------------------------------------------------------------------------------------
# argparse arguments that take a scheduler name
# ------------------------------------------------------------------------------------------------


def _plain(value) -> str:
    return str(getattr(value, "value", value))


def is_scheduler_argument(action: argparse.Action) -> bool:
    """Whether ``action`` takes an ``lr_scheduler_type``: its ``type`` is ``SchedulerType``, or its
    ``choices`` are all scheduler names (at least one of transformers') and its ``dest`` contains "sched".

    The ``dest`` condition keeps an unrelated ``--warmup choices=["linear", "cosine"]`` untouched.

    Examples:
      >>> parser = argparse.ArgumentParser()
      >>> is_scheduler_argument(parser.add_argument("--lr_scheduler_type", choices=["linear", "cosine"]))
      True
      >>> is_scheduler_argument(parser.add_argument("--warmup_shape", choices=["linear", "cosine"]))
      False
    """
    kind = action.type
    if isinstance(kind, type) and issubclass(kind, SchedulerType):
        return True
    choices = action.choices
    if not choices or isinstance(choices, (str, bytes, Mapping)) or "sched" not in (action.dest or ""):
        return False
    try:
        names = {_plain(choice) for choice in choices}
    except TypeError:
        return False
    return names <= set(compat.known_scheduler_names()) and bool(names & set(compat.transformers_scheduler_names()))


def _accepted_names(action: argparse.Action) -> list[str]:
    if action.choices is not None:
        return [_plain(choice) for choice in action.choices]
    return compat.known_scheduler_names()


def _extend_choices(action: argparse.Action) -> None:
    if action.choices is None:
        return
    present = [_plain(choice) for choice in action.choices]
    own = set(compat.transformers_scheduler_names())  # those a script left out, it left out on purpose
    added = [name for name in compat.known_scheduler_names() if name not in present and name not in own]
    action.choices = [*action.choices, *added]


@contextlib.contextmanager
def scheduler_arguments(check_name=None) -> Iterator[None]:
    """Within the block, scheduler-name arguments of every new ``argparse`` parser accept all registered names.

    Args:
      check_name: optional ``check_name(parser, name)`` called with each scheduler name parsed (it
        may exit with a one-line error, e.g. when ``run``'s options do not fit the schedule).

    Examples:
      >>> with scheduler_arguments():
      ...     parser = argparse.ArgumentParser()
      ...     _ = parser.add_argument("--lr_scheduler_type", type=SchedulerType, choices=["linear", "cosine"])
      ...     parser.parse_args(["--lr_scheduler_type", "sgdr"]).lr_scheduler_type.value
      'sgdr'
    """
    marked: weakref.WeakSet = weakref.WeakSet()
    original_add = argparse._ActionsContainer.add_argument
    original_get_value = argparse.ArgumentParser._get_value

    @functools.wraps(original_add)
    def add_argument(self, *args, **kwargs):
        action = original_add(self, *args, **kwargs)
        if is_scheduler_argument(action):
            _extend_choices(action)
            marked.add(action)
        return action

    @functools.wraps(original_get_value)
    def _get_value(self, action, arg_string):
        if action in marked and isinstance(arg_string, str):
            accepted = _accepted_names(action)
            if arg_string not in accepted:
                close = difflib.get_close_matches(arg_string, accepted, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                flag = "/".join(action.option_strings) or action.dest
                message = f"unknown lr_scheduler_type {arg_string!r}{hint}; known schedules: {', '.join(accepted)}"
                if not getattr(self, "exit_on_error", True):
                    raise argparse.ArgumentError(action, message)
                _fail(self.prog, f"argument {flag}: {message}")
            if check_name is not None:
                check_name(self, arg_string)
        return original_get_value(self, action, arg_string)

    argparse._ActionsContainer.add_argument = add_argument
    argparse.ArgumentParser._get_value = _get_value
    try:
        yield
    finally:
        argparse._ActionsContainer.add_argument = original_add
        argparse.ArgumentParser._get_value = original_get_value


# ------------------------------------------------------------------------------------------------
# hf-lrsched run --lr_scheduler_kwargs
# ------------------------------------------------------------------------------------------------


def check_run_options(options: Mapping[str, Any]) -> None:
    """Reject, before the script runs, an option that no known schedule takes.

    Which schedule the script builds is known only later, so this is the check that can be done now.
    Factories that take any keyword (transformers' ``reduce_lr_on_plateau``, ``greedy``) could take
    any option, so then only a near miss of a known option (a typo) is rejected here; the rest is
    checked once the script has parsed its schedule name.

    Examples:
      >>> check_run_options({"gamma": 0.99})
      >>> check_run_options({"gama": 0.99})
      Traceback (most recent call last):
      ...
      ValueError: --lr_scheduler_kwargs: unknown option 'gama' (did you mean 'gamma'?); no schedule takes it ...
    """
    accepted: set[str] = set()
    open_ended = False
    for name in compat.known_scheduler_names():
        options_of = schedule_options(name)
        if options_of is None:
            open_ended = True
        else:
            accepted.update(options_of)
    for key in options:
        if key in accepted:
            continue
        close = difflib.get_close_matches(str(key), sorted(accepted), n=1)
        if open_ended and not close:
            continue
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(
            f"--lr_scheduler_kwargs: unknown option {key!r}{hint}; no schedule takes it "
            "(hf-lrsched list shows each schedule's options)"
        )


def check_options_for(name: str, options: Mapping[str, Any]) -> None:
    """The checks that need the schedule but not the run's length: known options, required ones
    present, and values that are wrong for any length (e.g. ``gamma`` > 1, unsorted milestones).

    Args:
      name: the schedule name.
      options: its options (``lr_scheduler_kwargs``).

    Examples:
      >>> check_options_for("warmup_multistep", {"milestones": [0.5, 0.75]})
      >>> check_options_for("warmup_multistep", {"milestones": [0.75, 0.5]})
      Traceback (most recent call last):
      ...
      ValueError: milestones must be strictly increasing, got [0.75, 0.5] ...
    """
    missing = [key for key in required_schedule_options(name) if key not in options]
    if missing:
        raise ValueError(f"schedule {name!r} needs {', '.join(missing)} in lr_scheduler_kwargs; it has no default")
    check_schedule_options(name, options)


def _fail_run_options(name: str, err: ValueError) -> None:
    message = str(err).removeprefix("lr_scheduler_kwargs: ")
    _fail("hf-lrsched run", f"--lr_scheduler_kwargs for schedule {name!r}: {message}")


_POSITIONAL_KEYS = ("num_warmup_steps", "num_training_steps")


class _WithDefaultOptions:
    """Stands in for a ``TYPE_TO_SCHEDULER_FUNCTION`` entry: adds ``run``'s options when the call has none."""

    def __init__(self, name: str, function, options: Mapping[str, Any], built: weakref.WeakKeyDictionary):
        functools.update_wrapper(self, function)  # schedule_options() reads the signature through __wrapped__
        self.name = name
        self.function = function
        self.options = dict(options)
        self.built = built

    def __call__(self, optimizer, *args, **kwargs):
        given = {key: value for key, value in kwargs.items() if key not in _POSITIONAL_KEYS}
        injected = not given and bool(self.options)
        if injected:
            try:
                check_options_for(self.name, self.options)
            except ValueError as err:
                _fail_run_options(self.name, err)
            kwargs.update(self.options)
            try:
                scheduler = self.function(optimizer, *args, **kwargs)
            except ValueError as err:
                _fail_run_options(self.name, err)
        else:
            scheduler = self.function(optimizer, *args, **kwargs)
        with contextlib.suppress(TypeError):  # a scheduler type that refuses weak references: no warning
            self.built[scheduler] = (self.name, self.options if injected else given)
        return scheduler


@contextlib.contextmanager
def default_scheduler_options(options: Mapping[str, Any], built: weakref.WeakKeyDictionary) -> Iterator[None]:
    """Within the block, schedules built without options get ``options`` (checked as ``get_scheduler`` checks).

    Every scheduler built by name is recorded in ``built`` (scheduler -> (name, options used)), for
    the multi-process warning.

    Args:
      options: the schedule options given to ``hf-lrsched run --lr_scheduler_kwargs``.
      built: where to record the schedulers built.

    Examples:
      >>> import torch, transformers
      >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
      >>> with default_scheduler_options({"gamma": 0.5}, weakref.WeakKeyDictionary()):
      ...     scheduler = transformers.get_scheduler("warmup_exponential", opt, 0, 10)
      >>> [scheduler.lr_lambdas[0](step) for step in range(3)]
      [1.0, 0.5, 0.25]
    """
    originals = compat.scheduler_functions()
    for name, function in originals.items():
        if function is not None:
            compat.replace_scheduler_function(name, _WithDefaultOptions(name, function, options, built))
    try:
        yield
    finally:
        for name, function in originals.items():
            compat.replace_scheduler_function(name, function)


# ------------------------------------------------------------------------------------------------
# Errors in TrainingArguments: one line under run
# ------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def one_line_argument_errors() -> Iterator[None]:
    """Within the block, the ``TrainingArguments`` check (bad schedule name or options) exits with one line.

    Examples:
      >>> from transformers import TrainingArguments
      >>> with one_line_argument_errors():
      ...     TrainingArguments("out", lr_scheduler_type="sgdr", lr_scheduler_kwargs='{"cycle_steps": 10')
      Traceback (most recent call last):
      ...
      SystemExit: 2
    """
    check = compat.training_args_check()
    if check is None:
        yield
        return

    def one_line(name, kwargs):
        try:
            check(name, kwargs)
        except ValueError as err:
            _fail(_script_prog(), str(err))

    compat.install_training_args_check(one_line)
    try:
        yield
    finally:
        compat.install_training_args_check(check)


@contextlib.contextmanager
def patched_for_scripts(options: Mapping[str, Any] | None = None) -> Iterator[None]:
    """Everything ``hf-lrsched run`` changes while the script runs (see the module docstring).

    Args:
      options: ``hf-lrsched run --lr_scheduler_kwargs``, already parsed (``None``: none).

    Examples:
      >>> with patched_for_scripts({"cycle_steps": 0.25}):
      ...     parser = argparse.ArgumentParser()
      ...     _ = parser.add_argument("--lr_scheduler_type", type=SchedulerType, choices=["linear", "cosine"])
      ...     parser.parse_args(["--lr_scheduler_type", "sgdr"]).lr_scheduler_type.value
      'sgdr'
    """
    options = dict(options or {})
    built: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def check_name(parser, name):
        # A no_trainer script has no --lr_scheduler_kwargs of its own: run's options are for this schedule.
        if options and not any(action.dest == "lr_scheduler_kwargs" for action in parser._actions):
            try:
                check_options_for(name, options)
            except ValueError as err:
                _fail_run_options(name, err)

    with contextlib.ExitStack() as stack:
        stack.enter_context(scheduler_arguments(check_name))
        stack.enter_context(default_scheduler_options(options, built))
        stack.enter_context(one_line_argument_errors())
        stack.enter_context(_multi_process_warnings(built))
        yield
