"""LR (and momentum) curves of named schedules, read off a real optimizer.

A curve is never re-computed here: :func:`schedule_curve` builds the scheduler with
:func:`hf_lrsched.get_scheduler` (the factory ``Trainer`` would use) on a one-parameter optimizer,
steps it ``num_training_steps`` times, and records each group-0 LR and momentum/beta1 from
``optimizer.param_groups`` before each update. :mod:`hf_lrsched.plotting` draws these curves
(and re-exports everything here).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._checks.validation import check_choice, check_int, check_real
from ..registry import get_scheduler
from ..schedule_lr import momentum_key, momentum_value

__all__ = ["ScheduleCurve", "schedule_curve", "schedule_curves"]

OPTIMIZERS = ("adamw", "sgd")


@dataclass(frozen=True, eq=False)
class ScheduleCurve:
    """One schedule's trajectory, per optimizer update ``0 .. num_training_steps - 1``.

    Attributes:
      name: the schedule name.
      options: the ``lr_scheduler_kwargs`` it was built with.
      steps: update indices.
      lrs: group-0 LR used at each update.
      momentum: group-0 beta1 (AdamW) or momentum (SGD) at each update.
      momentum_name: ``"beta1"`` or ``"momentum"``.
      num_warmup_steps: the warmup it was built with.
    """

    name: str
    options: dict[str, Any]
    steps: np.ndarray
    lrs: np.ndarray
    momentum: np.ndarray
    momentum_name: str
    num_warmup_steps: int | float = 0

    @property
    def cycles_momentum(self) -> bool:
        """Whether the schedule moves momentum/beta1 (``one_cycle`` does)."""
        return bool(np.ptp(self.momentum) > 0)

    @property
    def label(self) -> str:
        """Legend text: the name and the options given."""
        if not self.options:
            return self.name
        text = ", ".join(f"{k}={json.dumps(v)}" for k, v in self.options.items())
        return f"{self.name} ({text})"


def _optimizer(kind: str, lr: float) -> torch.optim.Optimizer:
    param = torch.nn.Parameter(torch.zeros(1))
    if check_choice("optimizer", kind, OPTIMIZERS) == "adamw":
        return torch.optim.AdamW([param], lr=lr)
    return torch.optim.SGD([param], lr=lr, momentum=0.9)


def _needs_metric(scheduler) -> bool:
    """True for schedulers whose ``step`` takes a metric (ReduceLROnPlateau, GreedyLR): no fixed curve."""
    params = list(inspect.signature(scheduler.step).parameters.values())
    return any(p.default is inspect.Parameter.empty and p.kind is p.POSITIONAL_OR_KEYWORD for p in params)


def schedule_curve(
    name: str,
    num_training_steps: int,
    num_warmup_steps: int | float = 0,
    *,
    lr: float = 5e-5,
    options: Mapping[str, Any] | str | None = None,
    optimizer: str = "adamw",
) -> ScheduleCurve:
    """Step the real scheduler ``name`` and record its LR and momentum at every update.

    Args:
      name: a schedule name (``lr_scheduler_type``): this package's, a registered one, or transformers'.
      num_training_steps: number of updates to record, >= 2.
      num_warmup_steps: warmup steps (or a fraction of training).
      lr: the optimizer's LR (the peak for most schedules).
      options: the schedule's ``lr_scheduler_kwargs`` (dict or JSON text).
      optimizer: ``"adamw"`` (momentum is ``betas[0]``) or ``"sgd"`` (``momentum=0.9``).

    Returns:
      A :class:`ScheduleCurve`.

    Examples:
      >>> c = schedule_curve("warmup_step", 6, 2, lr=1.0, options={"step_size": 2, "gamma": 0.5})
      >>> c.lrs.tolist(), c.cycles_momentum
      ([0.0, 0.5, 1.0, 1.0, 0.5, 0.5], False)
    """
    check_int("num_training_steps", num_training_steps, minimum=2)
    lr = check_real("lr", lr, 0, low_open=True)
    if isinstance(options, str):
        from .._hf.compat import parse_kwargs_json

        options = parse_kwargs_json(options, option="kwargs") if options.strip() else None
    options = dict(options or {})
    opt = _optimizer(optimizer, float(lr))
    try:
        scheduler = get_scheduler(name, opt, num_warmup_steps, num_training_steps, options)
    except TypeError as err:  # a factory's own signature check, e.g. a required option left out
        raise ValueError(f"schedule {name!r} could not be built with options {options}: {err}") from None
    if _needs_metric(scheduler):
        kind = type(scheduler).__name__
        raise ValueError(f"schedule {name!r} adapts to a metric ({kind}); it has no fixed curve to plot")
    group = opt.param_groups[0]
    lrs = np.empty(num_training_steps)
    momentum = np.empty(num_training_steps)
    for step in range(num_training_steps):
        lrs[step] = group["lr"]
        momentum[step] = momentum_value(group)
        opt.step()  # no gradients: a no-op update, but keeps the scheduler's step-order check happy
        scheduler.step()
    return ScheduleCurve(
        name=str(name),
        options=options,
        steps=np.arange(num_training_steps),
        lrs=lrs,
        momentum=momentum,
        momentum_name="beta1" if momentum_key(group) == "betas" else "momentum",
        num_warmup_steps=num_warmup_steps,
    )


def schedule_curves(
    names: Sequence[str],
    num_training_steps: int,
    num_warmup_steps: int | float = 0,
    *,
    lr: float = 5e-5,
    options: Mapping[str, Mapping[str, Any] | str] | None = None,
    optimizer: str = "adamw",
) -> list[ScheduleCurve]:
    """:func:`schedule_curve` for several schedules.

    Args:
      names: schedule names.
      num_training_steps: updates to record, >= 2.
      num_warmup_steps: warmup steps (or a fraction), for every schedule.
      lr: the optimizer's LR.
      options: name -> that schedule's ``lr_scheduler_kwargs``; names not plotted are an error.
      optimizer: ``"adamw"`` or ``"sgd"``.

    Returns:
      A list of :class:`ScheduleCurve`, in the order of ``names``.

    Examples:
      >>> curves = schedule_curves(["linear", "one_cycle"], 100, 10)
      >>> [c.name for c in curves], [c.cycles_momentum for c in curves]
      (['linear', 'one_cycle'], [False, True])
    """
    if isinstance(names, str) or not names:
        raise ValueError(f"names must be a non-empty list of schedule names, got {names!r}")
    options = dict(options or {})
    unused = [key for key in options if key not in names]
    if unused:
        raise ValueError(f"kwargs given for {unused[0]!r}, which is not among the schedules plotted {list(names)}")
    return [
        schedule_curve(
            name, num_training_steps, num_warmup_steps, lr=lr, options=options.get(name), optimizer=optimizer
        )
        for name in names
    ]
