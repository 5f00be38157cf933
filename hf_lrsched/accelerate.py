"""Schedules that stay exact under ``accelerate launch`` with several processes.

The pitfall: a scheduler passed through ``accelerator.prepare`` becomes an ``AcceleratedScheduler``
whose ``step()`` steps the wrapped scheduler ``num_processes`` times per optimizer update (unless
``split_batches=True`` or ``step_scheduler_with_optimizer=False``). A schedule built for ``T``
updates then runs ``num_processes`` times too fast: warmup ends early, decay finishes early and
``OneCycleLR`` overruns. HF's example scripts compensate by multiplying the step counts, which is
exact only for schedules that are linear in the step; a per-step ``gamma``, a milestone or a
momentum cycle is not.

:func:`adapt_scheduler` fixes it at the source: it keeps the schedule built for the real number of
updates and makes the scheduler read its step counter in updates (``last_epoch // k`` with ``k``
the scheduler steps per update), so the LR at optimizer update ``u`` is the pure schedule at ``u``
whatever ``num_processes`` and ``gradient_accumulation_steps`` are. It works for any ``LambdaLR``
(this package's schedules and transformers' own). :func:`get_accelerate_scheduler` handles any other
scheduler (``StepLR``, ``OneCycleLR``, ...) by having the prepared wrapper step it once per update.

:func:`end_training` ends a run so that every process exits with status 0 (torch's gloo backend can
otherwise abort or hang a rank at exit; see :mod:`hf_lrsched._hf.teardown`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

from torch.optim.lr_scheduler import LambdaLR

from ._checks.validation import check_int
from .factories import ScheduleLR
from .registry import get_scheduler

__all__ = [
    "adapt_scheduler",
    "end_training",
    "get_accelerate_scheduler",
    "scheduler_steps_per_update",
    "step_once_per_update",
    "updates_per_epoch",
]


def scheduler_steps_per_update(accelerator) -> int:
    """How many times a prepared scheduler steps per optimizer update under ``accelerator``.

    Mirrors ``accelerate.scheduler.AcceleratedScheduler.step``: ``num_processes`` times, or once
    with ``split_batches=True`` or ``step_scheduler_with_optimizer=False`` (then the caller steps it).

    Args:
      accelerator: an ``accelerate.Accelerator`` (or anything with the same three attributes).

    Returns:
      The number of scheduler steps per optimizer update (``k``).

    Examples:
      >>> from types import SimpleNamespace
      >>> scheduler_steps_per_update(
      ...     SimpleNamespace(num_processes=4, split_batches=False, step_scheduler_with_optimizer=True))
      4
      >>> scheduler_steps_per_update(
      ...     SimpleNamespace(num_processes=4, split_batches=True, step_scheduler_with_optimizer=True))
      1
    """
    if not getattr(accelerator, "step_scheduler_with_optimizer", True):
        return 1
    if getattr(accelerator, "split_batches", False):
        return 1
    return int(accelerator.num_processes)


def updates_per_epoch(dataloader, accelerator) -> int | None:
    """Optimizer updates in one pass over ``dataloader`` (as prepared: this process's batches), or ``None``.

    ``accelerator.accumulate`` updates every ``gradient_accumulation_steps`` batches and at the end of the
    dataloader, so an epoch has ``ceil(len(dataloader) / gradient_accumulation_steps)`` updates. A
    dataloader without a length (an ``IterableDataset``) gives ``None``.

    Examples:
      >>> from types import SimpleNamespace
      >>> updates_per_epoch(range(5), SimpleNamespace(gradient_accumulation_steps=2))
      3
    """
    try:
        batches = len(dataloader)
    except TypeError:
        return None
    return max(1, math.ceil(batches / accelerator.gradient_accumulation_steps))


def _per_update(step: int, *, schedule, steps_per_update: int):
    return schedule(step // steps_per_update)


def adapt_scheduler(scheduler: LambdaLR, steps_per_update: int) -> LambdaLR:
    """Make ``scheduler`` follow its schedule per optimizer update when stepped ``k`` times per update.

    Call it before ``accelerator.prepare(scheduler)``, with
    ``k = scheduler_steps_per_update(accelerator)``. Mutates and returns ``scheduler``.

    Args:
      scheduler: a ``LambdaLR`` (any schedule of this package or of transformers).
      steps_per_update: scheduler steps per optimizer update (``k``).

    Returns:
      The same scheduler.

    Examples:
      >>> import torch
      >>> from hf_lrsched import get_scheduler
      >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
      >>> sched = adapt_scheduler(get_scheduler("warmup_exponential", opt, 0, 10, {"gamma": 0.5}), 2)
      >>> lrs = []
      >>> for update in range(3):
      ...     lrs.append(sched.get_last_lr()[0]); opt.step(); sched.step(); sched.step()
      >>> lrs
      [1.0, 0.5, 0.25]
    """
    check_int("steps_per_update", steps_per_update, minimum=1)
    if steps_per_update == 1:
        return scheduler  # nothing to adapt, whatever the scheduler
    if not isinstance(scheduler, LambdaLR):
        raise ValueError(
            f"adapt_scheduler needs a LambdaLR-based scheduler, got {type(scheduler).__name__}; "
            "use step_once_per_update on the prepared scheduler instead"
        )
    if scheduler.last_epoch != 0:
        raise ValueError("adapt_scheduler must be applied to a fresh scheduler (last_epoch == 0)")

    def wrap(fn):
        return functools.partial(_per_update, schedule=fn, steps_per_update=steps_per_update)

    scheduler.lr_lambdas = [wrap(fn) for fn in scheduler.lr_lambdas]
    if isinstance(scheduler, ScheduleLR) and scheduler._momentum_lambdas is not None:
        scheduler._momentum_lambdas = [wrap(fn) for fn in scheduler._momentum_lambdas]
    return scheduler


def get_accelerate_scheduler(
    accelerator,
    name: str,
    optimizer,
    num_warmup_steps: int | float | None,
    num_training_steps: int,
    scheduler_specific_kwargs: Mapping[str, Any] | str | None = None,
    *,
    dataloader=None,
    steps_per_epoch: int | None = None,
):
    """Build schedule ``name`` for ``num_training_steps`` optimizer updates and ``accelerator.prepare`` it.

    The one call an Accelerate loop needs: the returned (prepared) scheduler is stepped once per
    loop iteration as usual, after ``optimizer.step()``, and its LR at update ``u`` equals the
    schedule at ``u`` for any number of processes and gradient-accumulation steps. A ``LambdaLR``
    is adapted with :func:`adapt_scheduler`; any other scheduler (a registered schedule built on
    ``StepLR``, ``OneCycleLR``, ...) with :func:`step_once_per_update`; with one process or
    ``split_batches=True`` nothing needs adapting.

    Args:
      accelerator: the ``accelerate.Accelerator``.
      name: schedule name (``lr_scheduler_type``).
      optimizer: the optimizer, prepared or not.
      num_warmup_steps: warmup in optimizer updates, or a fraction of ``num_training_steps``.
      num_training_steps: optimizer updates in the whole run (after accumulation).
      scheduler_specific_kwargs: the schedule's options (dict or JSON string).
      dataloader: the prepared training dataloader: lengths in epochs (``"2ep"``) count
        :func:`updates_per_epoch` updates each.
      steps_per_epoch: optimizer updates per epoch, instead of ``dataloader``.

    Returns:
      The prepared scheduler.

    Examples:
      >>> import torch
      >>> from accelerate import Accelerator
      >>> accelerator = Accelerator()
      >>> model = torch.nn.Linear(2, 1)
      >>> model, optimizer = accelerator.prepare(model, torch.optim.AdamW(model.parameters(), lr=1e-3))
      >>> scheduler = get_accelerate_scheduler(accelerator, "one_cycle", optimizer, 0, 100)
      >>> type(scheduler).__name__, round(scheduler.get_last_lr()[0], 12)  # max_lr / div_factor at update 0
      ('AcceleratedScheduler', 4e-05)
    """
    if steps_per_epoch is None and dataloader is not None:
        steps_per_epoch = updates_per_epoch(dataloader, accelerator)
    scheduler = get_scheduler(
        name, optimizer, num_warmup_steps, num_training_steps, scheduler_specific_kwargs, steps_per_epoch
    )
    steps_per_update = scheduler_steps_per_update(accelerator)
    if steps_per_update == 1 or isinstance(scheduler, LambdaLR):
        return accelerator.prepare(adapt_scheduler(scheduler, steps_per_update))
    return step_once_per_update(accelerator.prepare(scheduler))


def step_once_per_update(prepared):
    """Make a prepared ``AcceleratedScheduler`` step its scheduler once per optimizer update.

    For schedulers that :func:`adapt_scheduler` cannot rewrite (any ``LRScheduler`` that is not a
    ``LambdaLR``, e.g. ``StepLR`` or ``OneCycleLR``): the wrapper keeps skipping the steps where the
    optimizer did not step (gradient accumulation, skipped fp16 steps) but no longer repeats the step
    ``num_processes`` times, as it does with ``split_batches=True``.

    Args:
      prepared: what ``accelerator.prepare(scheduler)`` returned.

    Returns:
      The same object.

    Examples:
      >>> import torch
      >>> from accelerate.scheduler import AcceleratedScheduler
      >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
      >>> prepared = step_once_per_update(AcceleratedScheduler(torch.optim.lr_scheduler.StepLR(opt, 2), opt))
      >>> prepared.split_batches
      True
    """
    if not hasattr(prepared, "split_batches") or not hasattr(prepared, "scheduler"):
        raise ValueError(f"step_once_per_update needs accelerate's AcceleratedScheduler, got {type(prepared).__name__}")
    prepared.split_batches = True  # AcceleratedScheduler.step: one scheduler step per optimizer update
    return prepared


def end_training(accelerator) -> None:
    """``accelerator.end_training()``, made safe at exit with several processes; call it on every process.

    It waits for every process, finishes the trackers and destroys the process group as
    ``accelerator.end_training()`` does, and keeps the group so that it is freed (its gloo worker
    threads joined) at exit before the interpreter shuts down, rather than by the DDP model while a
    worker still needs the GIL: torch 2.13 then aborts a rank ("terminate called without an active
    exception") or hangs it. Call it last: nothing can communicate between processes afterwards.
    Keep the model in a function's variables (as HF's ``main()`` does), not in module globals, so
    that it is freed by then. With one process it is ``accelerator.end_training()``.

    Args:
      accelerator: the run's ``accelerate.Accelerator`` (a ``Trainer``'s is ``trainer.accelerator``).

    Examples:
      >>> from accelerate import Accelerator
      >>> end_training(Accelerator())  # one process: trackers finished, nothing else to do
    """
    from ._hf.teardown import keep_process_group, release_at_exit

    distributed = accelerator.num_processes > 1
    if distributed:
        accelerator.wait_for_everyone()  # no rank frees its side while a peer still needs it
        keep_process_group()
    accelerator.end_training()
    if distributed:
        release_at_exit()
