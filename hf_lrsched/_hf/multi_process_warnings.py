"""Warnings for options in steps when ``accelerator.prepare`` steps a scheduler once per process.

Under transformers' ``run_*_no_trainer.py`` convention (lengths x ``num_processes``, the prepared
scheduler stepped ``num_processes`` times per update) a fraction or ``final_lr_ratio`` scales with
the lengths; an option in steps does not, so its part of the curve runs ``num_processes`` times too
fast. ``hf-lrsched run`` (:mod:`hf_lrsched._hf.script_patch`) warns once about each such option.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
import weakref
from collections.abc import Iterator, Mapping
from typing import Any

from .._checks.validation import is_int

__all__ = ["steps_options"]


def _in_steps(value) -> bool:
    return is_int(value)  # an int is a number of steps; a float is a fraction of training


def steps_options(name: str, options: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Options of a built-in schedule that count scheduler steps, with the fix for each.

    Under the no_trainer convention (lengths x ``num_processes``, scheduler stepped ``num_processes``
    times per update) a fraction or ``final_lr_ratio`` scales with the lengths; a value in steps
    does not, so its curve runs ``num_processes`` times too fast.

    Returns:
      ``(option, fix)`` pairs, empty when every option scales.

    Examples:
      >>> steps_options("warmup_multistep", {"milestones": [0.5, 0.75]})
      []
      >>> [option for option, _ in steps_options("warmup_multistep", {"milestones": [300, 0.75]})]
      ['milestones']
      >>> [option for option, _ in steps_options("warmup_exponential", {"gamma": 0.99})]
      ['gamma']
    """
    found = []
    if name == "warmup_exponential" and options.get("gamma") is not None:
        found.append(("gamma", 'give "final_lr_ratio" (the LR at the end as a fraction of the peak) instead'))
    for option in ("staircase_steps", "step_size", "cycle_steps"):
        if _in_steps(options.get(option)):
            found.append((option, f"give {option} as a fraction of training (e.g. 0.25)"))
    milestones = options.get("milestones")
    if isinstance(milestones, (list, tuple)) and any(_in_steps(m) for m in milestones):
        found.append(("milestones", "give milestones as fractions of training (e.g. [0.5, 0.75])"))
    return found


def _adapted(scheduler) -> bool:
    # hf_lrsched.accelerate.adapt_scheduler already reads its counter in updates: nothing to warn about.
    from ..accelerate import _per_update

    lambdas = getattr(scheduler, "lr_lambdas", None) or []
    return any(getattr(fn, "func", None) is _per_update for fn in lambdas)


@contextlib.contextmanager
def _multi_process_warnings(built: weakref.WeakKeyDictionary) -> Iterator[None]:
    """Within the block, ``accelerator.prepare(scheduler)`` with several processes warns once per option in steps."""
    try:
        from accelerate.scheduler import AcceleratedScheduler
        from accelerate.state import AcceleratorState
    except ImportError:
        yield
        return
    original_init = AcceleratedScheduler.__init__
    warned: set[tuple[str, str]] = set()

    @functools.wraps(original_init)
    def __init__(self, scheduler, *args, **kwargs):
        original_init(self, scheduler, *args, **kwargs)
        with contextlib.suppress(TypeError):
            entry = built.get(scheduler)
            if entry is None or not self.step_with_optimizer or self.split_batches or _adapted(scheduler):
                return
            state = AcceleratorState()
            processes = state.num_processes
            if processes < 2 or not state.is_local_main_process:
                return
            name, options = entry
            if name == "one_cycle" and (name, "phases") not in warned:
                warned.add((name, "phases"))
                warnings.warn(
                    f"one_cycle: its phases end at pct_start * num_training_steps - 1 scheduler steps, as "
                    f"OneCycleLR's do, which does not scale when accelerator.prepare steps the scheduler "
                    f"{processes} times per optimizer update: each phase ends {processes - 1}/{processes} of an "
                    "update late; for exact phases build it with hf_lrsched.accelerate.get_accelerate_scheduler",
                    UserWarning,
                    stacklevel=2,
                )
            for option, fix in steps_options(name, options):
                if (name, option) in warned:
                    continue
                warned.add((name, option))
                warnings.warn(
                    f"{name}: {option} is counted in scheduler steps, but accelerator.prepare steps the "
                    f"scheduler {processes} times per optimizer update (the script multiplies its lengths "
                    f"by num_processes), so this part of the schedule runs {processes}x too fast; {fix}",
                    UserWarning,
                    stacklevel=2,
                )

    AcceleratedScheduler.__init__ = __init__
    try:
        yield
    finally:
        AcceleratedScheduler.__init__ = original_init
