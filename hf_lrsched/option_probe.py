"""Check a built-in schedule's options before the length of training is known.

``TrainingArguments`` is built long before ``Trainer`` knows ``num_training_steps`` (it depends on
the dataset), yet most mistakes in ``lr_scheduler_kwargs`` do not depend on it: unsorted or repeated
fractional milestones, ``gamma`` out of range, ``pct_start`` outside (0, 1), an unknown
``warmup_type``, a zero ``step_size``. :func:`check_options_early` builds the schedule once for a
run so long that no option can fall past its end, so exactly those mistakes raise, at parse time.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

import torch

from .catalog import BUILTIN_FACTORIES

__all__ = ["check_options_early"]

# Long enough that any absolute length a user gives fits, and distinct fractions stay distinct.
_PROBE_STEPS = 10**12
# Options that may hold one value per param group: the probe optimizer gets that many groups.
_PER_GROUP = ("max_lr", "base_momentum", "max_momentum")


def _probe_optimizer(options: Mapping[str, Any]) -> torch.optim.Optimizer:
    groups = max((len(v) for k, v in options.items() if k in _PER_GROUP and isinstance(v, (list, tuple))), default=1)
    params = [{"params": [torch.zeros(1, requires_grad=True)]} for _ in range(max(groups, 1))]
    return torch.optim.SGD(params, lr=1.0, momentum=0.9)


def check_options_early(factory: Callable[..., Any], options: Mapping[str, Any] | None) -> None:
    """Raise the ``ValueError`` that ``options`` of a built-in factory would raise for any run length.

    Mistakes that depend on ``num_training_steps`` (an absolute milestone past the end) are left to
    the real build. Factories other than this package's built-in ones are not checked here.

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
    if not options or not any(factory is builtin for builtin in BUILTIN_FACTORIES.values()):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. one_cycle on an optimizer without momentum: not the point here
        factory(_probe_optimizer(options), num_warmup_steps=0, num_training_steps=_PROBE_STEPS, **options)
