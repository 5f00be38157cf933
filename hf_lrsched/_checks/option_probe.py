"""Check a schedule's options before the length of training is known, without building it.

``TrainingArguments`` is built long before ``Trainer`` knows ``num_training_steps`` (it depends on
the dataset), yet most mistakes in ``lr_scheduler_kwargs`` do not depend on it: unsorted or repeated
fractional milestones, ``gamma`` out of range, ``pct_start`` outside (0, 1), an unknown
``warmup_type``, a zero ``step_size``. Each builder and factory records the checks of its options
that need no run length (:func:`hf_lrsched._checks.validation.with_option_checks`) and calls them itself;
:func:`check_options_early` runs the same checks on the options alone, so exactly those mistakes
raise, at parse time. Nothing is built and no length is invented: a mistake that depends on the
length (a milestone past the end, a fraction and a step out of order) is left to the real build.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["check_options_early"]


def check_options_early(factory: Callable[..., Any] | None, options: Mapping[str, Any] | None) -> None:
    """Raise the ``ValueError`` that ``options`` of ``factory`` would raise for any run length.

    Runs the checks the factory records as ``option_checks`` (this package's factories do; any
    factory may), each with the options it names, the factory's defaults filling the ones not
    given. A factory that records none is not checked here.

    Args:
      factory: the factory a schedule name maps to (e.g. ``get_multistep_schedule_with_warmup``).
      options: its ``lr_scheduler_kwargs``.

    Examples:
      >>> from hf_lrsched import get_multistep_schedule_with_warmup as multistep
      >>> check_options_early(multistep, {"milestones": [0.5, 0.75]})
      >>> check_options_early(multistep, {"milestones": [0.75, 0.5]})
      Traceback (most recent call last):
      ...
      ValueError: milestones must be strictly increasing, got [0.75, 0.5] ...
    """
    checks = getattr(factory, "option_checks", ())
    if not options or not checks:
        return
    values = {
        name: parameter.default
        for name, parameter in inspect.signature(factory).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }
    values.update(options)
    for check in checks:
        wanted = inspect.signature(check).parameters
        if all(name in values for name in wanted):  # a required option left out is reported elsewhere
            check(**{name: values[name] for name in wanted})
