"""Schedulers for an optimizer, in the style of ``transformers.get_cosine_schedule_with_warmup``.

Each ``get_*`` factory runs its schedule's options pass once (:mod:`hf_lrsched._checks.options`:
every check, fractions of training resolved to steps), binds the curve of
:mod:`hf_lrsched.schedules` to the resolved options, and wraps it in a :class:`ScheduleLR` that
records them as its identity. Nothing about the curve is computed here. The defaults repeat the
builders' (``tests/test_catalog.py`` checks that they agree).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

from torch.optim import Optimizer

from . import schedules
from ._checks import options as checks
from .schedule_lr import ScheduleLR, momentum_key, momentum_value
from .schedules import Schedule

__all__ = [
    "ScheduleLR",
    "get_exponential_schedule_with_warmup",
    "get_multistep_schedule_with_warmup",
    "get_one_cycle_schedule",
    "get_sequential_schedule",
    "get_sgdr_schedule_with_warmup",
    "get_step_schedule_with_warmup",
    "get_wsd_schedule",
]


def get_exponential_schedule_with_warmup(
    optimizer: Optimizer,
    num_warmup_steps: int | float = 0,
    num_training_steps: int | None = None,
    *,
    gamma: float | None = None,
    final_lr_ratio: float | None = None,
    staircase_steps: int | float | None = None,
    min_lr_ratio: float = 0.0,
    warmup_type: str = "linear",
    warmup_start_ratio: float = 0.0,
    steps_per_epoch: int | None = None,
    last_epoch: int = -1,
) -> ScheduleLR:
    r"""Warmup, then ``lr = base_lr * gamma ** (step - num_warmup_steps)`` (``ExponentialLR``).

    Registered as ``lr_scheduler_type="warmup_exponential"``. After ``W`` warmup steps the LR is
    ``base_lr * max(gamma ** (step - W), min_lr_ratio)``; with ``staircase_steps = k`` the exponent is
    rounded down to a multiple of ``k``. The curve is :func:`hf_lrsched.schedules.exponential_schedule`.

    Args:
      optimizer: the optimizer whose groups' LRs are scheduled.
      num_warmup_steps: warmup length (steps, or fraction of ``num_training_steps``).
      num_training_steps: total optimizer steps. Needed unless ``gamma`` is given.
      gamma: per-step decay factor in (0, 1].
      final_lr_ratio: alternative to ``gamma``: reach ``base_lr * final_lr_ratio`` at step
        ``num_training_steps``; ``gamma = final_lr_ratio ** (1 / (T - W))``. Default when neither
        is given: ``final_lr_ratio=0.01`` (end at 1% of the peak).
      staircase_steps: decay in discrete jumps every this many steps (``None``: smooth); with
        ``num_training_steps`` it must be shorter than the steps after warmup (else the LR would
        never drop).
      min_lr_ratio: floor, as a fraction of the base LR.
      warmup_type: ``"linear"``, ``"cosine"`` or ``"exponential"``.
      warmup_start_ratio: multiplier at step 0.
      steps_per_epoch: optimizer updates per epoch, for lengths given in epochs (``"2ep"``).
      last_epoch: index of the last step when resuming.

    Returns:
      A :class:`ScheduleLR` (a ``torch.optim.lr_scheduler.LambdaLR``).

    Examples:
      >>> import torch
      >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
      >>> sched = get_exponential_schedule_with_warmup(opt, 2, 10, gamma=0.5)
      >>> [sched.lr_lambdas[0](s) for s in range(5)]
      [0.0, 0.5, 1.0, 0.5, 0.25]
    """
    options = checks.exponential_options(
        num_warmup_steps,
        num_training_steps,
        steps_per_epoch=steps_per_epoch,
        gamma=gamma,
        final_lr_ratio=final_lr_ratio,
        staircase_steps=staircase_steps,
        min_lr_ratio=min_lr_ratio,
        warmup_type=warmup_type,
        warmup_start_ratio=warmup_start_ratio,
    )
    return _scheduler(optimizer, "warmup_exponential", schedules.exponential_curve(**options), options, last_epoch)


def get_step_schedule_with_warmup(
    optimizer: Optimizer,
    num_warmup_steps: int | float,
    num_training_steps: int,
    *,
    step_size: int | float | None = None,
    gamma: float = 0.1,
    min_lr_ratio: float = 0.0,
    warmup_type: str = "linear",
    warmup_start_ratio: float = 0.0,
    steps_per_epoch: int | None = None,
    last_epoch: int = -1,
) -> ScheduleLR:
    r"""Warmup, then multiply the LR by ``gamma`` every ``step_size`` steps (``StepLR``).

    Registered as ``lr_scheduler_type="warmup_step"``. After ``W`` warmup steps the LR is
    ``base_lr * max(gamma ** ((step - W) // step_size), min_lr_ratio)``. The curve is
    :func:`hf_lrsched.schedules.step_schedule`.

    Args:
      optimizer: the optimizer whose groups' LRs are scheduled.
      num_warmup_steps: warmup length (steps, or fraction of ``num_training_steps``).
      num_training_steps: total optimizer steps.
      step_size: steps between drops, counted from the end of warmup (steps, or fraction of
        ``num_training_steps``); it must be shorter than the steps after warmup (else the LR would
        never drop). Default: a third of the steps after warmup, so the LR drops twice and ends at
        ``gamma**2`` of the peak (no drop when a single step follows warmup).
      gamma: factor applied at each drop, in (0, 1].
      min_lr_ratio: floor, as a fraction of the base LR.
      warmup_type: ``"linear"``, ``"cosine"`` or ``"exponential"``.
      warmup_start_ratio: multiplier at step 0.
      steps_per_epoch: optimizer updates per epoch, for lengths given in epochs (``"2ep"``).
      last_epoch: index of the last step when resuming.

    Returns:
      A :class:`ScheduleLR` (a ``torch.optim.lr_scheduler.LambdaLR``).

    Examples:
      >>> import torch
      >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
      >>> sched = get_step_schedule_with_warmup(opt, 0, 90, step_size=30, gamma=0.1)
      >>> [round(sched.lr_lambdas[0](s), 6) for s in (0, 29, 30, 60, 89)]
      [1.0, 1.0, 0.1, 0.01, 0.01]
    """
    options = checks.step_options(
        num_warmup_steps,
        num_training_steps,
        steps_per_epoch=steps_per_epoch,
        step_size=step_size,
        gamma=gamma,
        min_lr_ratio=min_lr_ratio,
        warmup_type=warmup_type,
        warmup_start_ratio=warmup_start_ratio,
    )
    return _scheduler(optimizer, "warmup_step", schedules.step_curve(**options), options, last_epoch)


def get_multistep_schedule_with_warmup(
    optimizer: Optimizer,
    num_warmup_steps: int | float,
    num_training_steps: int,
    *,
    milestones: Sequence[int | float] | None = None,
    gamma: float = 0.1,
    min_lr_ratio: float = 0.0,
    warmup_type: str = "linear",
    warmup_start_ratio: float = 0.0,
    steps_per_epoch: int | None = None,
    last_epoch: int = -1,
) -> ScheduleLR:
    r"""Warmup, then multiply the LR by ``gamma`` at each milestone (``MultiStepLR``).

    Registered as ``lr_scheduler_type="warmup_multistep"``. The LR is ``base_lr * max(gamma ** k,
    min_lr_ratio)`` with ``k`` the number of milestones passed. The curve is
    :func:`hf_lrsched.schedules.multistep_schedule`.

    Args:
      optimizer: the optimizer whose groups' LRs are scheduled.
      num_warmup_steps: warmup length (steps, or fraction of ``num_training_steps``).
      num_training_steps: total optimizer steps.
      milestones: increasing steps (ints) or fractions (floats in (0, 1)) at which the LR is
        multiplied by ``gamma``. Default: halfway and three quarters through the steps after warmup
        (no drop at all when fewer than 2 steps follow warmup).
      gamma: factor applied at each milestone, in (0, 1].
      min_lr_ratio: floor, as a fraction of the base LR.
      warmup_type: ``"linear"``, ``"cosine"`` or ``"exponential"``.
      warmup_start_ratio: multiplier at step 0.
      steps_per_epoch: optimizer updates per epoch, for lengths given in epochs (``"2ep"``).
      last_epoch: index of the last step when resuming.

    Returns:
      A :class:`ScheduleLR` (a ``torch.optim.lr_scheduler.LambdaLR``).

    Examples:
      >>> import torch
      >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
      >>> sched = get_multistep_schedule_with_warmup(opt, 0, 200, milestones=[60, 120, 160], gamma=0.2)
      >>> [round(sched.lr_lambdas[0](s), 6) for s in (0, 60, 120, 160)]
      [1.0, 0.2, 0.04, 0.008]
    """
    options = checks.multistep_options(
        num_warmup_steps,
        num_training_steps,
        steps_per_epoch=steps_per_epoch,
        milestones=milestones,
        gamma=gamma,
        min_lr_ratio=min_lr_ratio,
        warmup_type=warmup_type,
        warmup_start_ratio=warmup_start_ratio,
    )
    return _scheduler(optimizer, "warmup_multistep", schedules.multistep_curve(**options), options, last_epoch)


def get_sgdr_schedule_with_warmup(
    optimizer: Optimizer,
    num_warmup_steps: int | float,
    num_training_steps: int,
    *,
    cycle_steps: int | float | None = None,
    cycle_mult: int = 1,
    cycle_decay: float = 1.0,
    min_lr_ratio: float = 0.0,
    warmup_type: str = "linear",
    warmup_start_ratio: float = 0.0,
    steps_per_epoch: int | None = None,
    last_epoch: int = -1,
) -> ScheduleLR:
    r"""Warmup, then cosine annealing with warm restarts (``CosineAnnealingWarmRestarts``).

    Registered as ``lr_scheduler_type="sgdr"``. Cycle ``i`` lasts ``cycle_steps * cycle_mult**i``
    steps and anneals from ``max(cycle_decay**i, min_lr_ratio)`` to ``min_lr_ratio`` of the base LR
    along a half cosine. The curve is :func:`hf_lrsched.schedules.sgdr_schedule`.

    Args:
      optimizer: the optimizer whose groups' LRs are scheduled.
      num_warmup_steps: warmup length (steps, or fraction of ``num_training_steps``).
      num_training_steps: total optimizer steps.
      cycle_steps: length of the first cycle (steps, or fraction of ``num_training_steps``), from 2
        to the number of steps after warmup (1 with ``cycle_mult=1`` would restart every step: a
        constant peak; a longer cycle would never finish). Default: a quarter of the steps after
        warmup (four cycles when ``cycle_mult=1``), at least 2.
      cycle_mult: int in [1, 2**53]; each cycle is this many times longer than the previous.
      cycle_decay: peak of cycle ``i`` is ``max(cycle_decay**i, min_lr_ratio)``, in (0, 1].
      min_lr_ratio: the value each cycle anneals to, as a fraction of the base LR.
      warmup_type: ``"linear"``, ``"cosine"`` or ``"exponential"``.
      warmup_start_ratio: multiplier at step 0.
      steps_per_epoch: optimizer updates per epoch, for lengths given in epochs (``"2ep"``).
      last_epoch: index of the last step when resuming.

    Returns:
      A :class:`ScheduleLR` (a ``torch.optim.lr_scheduler.LambdaLR``).

    Examples:
      >>> import torch
      >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
      >>> sched = get_sgdr_schedule_with_warmup(opt, 0, 30, cycle_steps=10, cycle_mult=2)
      >>> [round(sched.lr_lambdas[0](s), 6) for s in (0, 5, 10, 20, 29)]
      [1.0, 0.5, 1.0, 0.5, 0.006156]
    """
    options = checks.sgdr_options(
        num_warmup_steps,
        num_training_steps,
        steps_per_epoch=steps_per_epoch,
        cycle_steps=cycle_steps,
        cycle_mult=cycle_mult,
        cycle_decay=cycle_decay,
        min_lr_ratio=min_lr_ratio,
        warmup_type=warmup_type,
        warmup_start_ratio=warmup_start_ratio,
    )
    return _scheduler(optimizer, "sgdr", schedules.sgdr_curve(**options), options, last_epoch)


def get_one_cycle_schedule(
    optimizer: Optimizer,
    num_warmup_steps: int | float = 0,
    num_training_steps: int | None = None,
    *,
    max_lr: float | Sequence[float] | None = None,
    pct_start: float | None = None,
    anneal_strategy: str = "cos",
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
    cycle_momentum: bool = True,
    base_momentum: float | Sequence[float] = 0.85,
    max_momentum: float | Sequence[float] = 0.95,
    min_lr_ratio: float = 0.0,
    steps_per_epoch: int | None = None,
    last_epoch: int = -1,
) -> ScheduleLR:
    """The 1cycle policy for LR **and** momentum, as ``torch.optim.lr_scheduler.OneCycleLR``.

    The LR rises from ``max_lr / div_factor`` to ``max_lr`` over ``pct_start`` of training, then
    anneals to ``max_lr / (div_factor * final_div_factor)``; momentum (SGD ``momentum``, Adam/AdamW
    ``betas[0]``) moves the other way between ``max_momentum`` and ``base_momentum``. Unlike
    ``OneCycleLR``, stepping past ``num_training_steps`` holds the final values instead of raising.
    Registered as ``lr_scheduler_type="one_cycle"``. See
    :func:`hf_lrsched.schedules.one_cycle_schedule` for the phases.

    Args:
      optimizer: the optimizer whose groups' LRs (and momenta) are scheduled.
      num_warmup_steps: length of the rise when ``pct_start`` is not given (``pct_start =
        num_warmup_steps / num_training_steps``; 0.3 when this is 0).
      num_training_steps: total optimizer steps (``total_steps``).
      max_lr: peak LR, one float or one per param group. Default: each group's current LR (so with
        ``Trainer``, ``--learning_rate`` is the peak). When given it replaces the groups' LRs.
      pct_start: fraction of training spent rising, in (0, 1).
      anneal_strategy: ``"cos"`` or ``"linear"``.
      div_factor: initial LR is ``max_lr / div_factor``.
      final_div_factor: final LR is ``max_lr / (div_factor * final_div_factor)``.
      three_phase: rise, symmetric fall to the initial LR, then anneal to the minimum.
      cycle_momentum: also cycle momentum/beta1. An optimizer with neither cycles the LR only, with
        one warning; one whose momentum (or beta1) is 0, such as ``SGD(momentum=0)`` or
        ``RMSprop``'s default, gets momentum turned on as ``OneCycleLR`` does, with one warning
        (``cycle_momentum=False`` keeps it off).
      base_momentum: lowest momentum (at the LR peak), one value or one per group.
      max_momentum: highest momentum, one value or one per group.
      min_lr_ratio: floor, as a fraction of ``max_lr``.
      steps_per_epoch: optimizer updates per epoch, for lengths given in epochs (``"2ep"``).
      last_epoch: index of the last step when resuming.

    Returns:
      A :class:`ScheduleLR` that also sets momentum every step.

    Examples:
      >>> import torch
      >>> opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
      >>> sched = get_one_cycle_schedule(opt, 0, 100, pct_start=0.25)
      >>> round(sched.get_last_lr()[0], 12), opt.param_groups[0]["betas"][0]
      (4e-05, 0.95)
      >>> for _ in range(24):
      ...     opt.step(); sched.step()
      >>> sched.get_last_lr()[0], opt.param_groups[0]["betas"][0]
      (0.001, 0.85)
    """
    options = checks.one_cycle_options(
        num_warmup_steps,
        num_training_steps,
        steps_per_epoch=steps_per_epoch,
        max_lr=max_lr,
        pct_start=pct_start,
        anneal_strategy=anneal_strategy,
        div_factor=div_factor,
        final_div_factor=final_div_factor,
        three_phase=three_phase,
        cycle_momentum=cycle_momentum,
        base_momentum=base_momentum,
        max_momentum=max_momentum,
        min_lr_ratio=min_lr_ratio,
    )
    # The option values are checked; what is left depends on the optimizer: one value per param group.
    momentum_lambdas, key = None, None
    if cycle_momentum:
        key = momentum_key(optimizer.defaults)
        if key is None:
            warnings.warn(
                f"one_cycle: {type(optimizer).__name__} has no momentum or betas; cycling the LR only "
                "(pass cycle_momentum=False to silence this)",
                UserWarning,
                stacklevel=2,
            )
        else:
            momentum_lambdas = _momentum_curves(optimizer, options)
    if max_lr is not None and last_epoch == -1:
        # The base LR LambdaLR starts from; it then sets each group's LR itself (in place for tensor
        # LRs, which a float assigned here would replace).
        for group, peak in zip(optimizer.param_groups, _per_group("max_lr", max_lr, optimizer), strict=True):
            group["initial_lr"] = float(peak)
    if momentum_lambdas is not None and last_epoch == -1:  # every option is valid: now say it
        _warn_if_momentum_is_off(optimizer, key)
    return ScheduleLR(
        optimizer,
        schedules.one_cycle_curve(**options),
        last_epoch,
        momentum_lambdas=momentum_lambdas,
        momentum_key=key,
        schedule_name="one_cycle",
        schedule_options=options,
    )


def get_sequential_schedule(
    optimizer: Optimizer,
    num_warmup_steps: int | float | str = 0,
    num_training_steps: int | None = None,
    *,
    phases: Sequence[Mapping] | None = None,
    min_lr_ratio: float = 0.0,
    warmup_type: str = "linear",
    warmup_start_ratio: float = 0.0,
    steps_per_epoch: int | None = None,
    last_epoch: int = -1,
) -> ScheduleLR:
    """Schedules one after the other, by name: what torch's ``SequentialLR`` is meant to do, exact and resumable.

    Registered as ``lr_scheduler_type="sequential"``. After the warmup, phase ``k`` runs its own
    schedule on the local step ``step - start_k`` with ``num_training_steps = length_k`` (optax's
    ``join_schedules``); each phase's multiplier applies to the base LR. The resolved phases (start,
    length in steps, options) are the scheduler's identity, which resuming checks. The curve is
    :func:`hf_lrsched.schedules.sequential_schedule`.

    Args:
      optimizer: the optimizer whose groups' LRs are scheduled.
      num_warmup_steps: warmup before the first phase (steps, fraction of ``num_training_steps`` or epochs).
      num_training_steps: total optimizer steps.
      phases: list of ``{"schedule": NAME, "length": L, **NAME's options}``, in order. ``NAME`` is any
        step-driven schedule name (this package's, transformers' own such as ``constant`` or ``cosine``, or a
        registered one); ``L`` is steps (int), a fraction of training (float in (0, 1)) or epochs (``"2ep"``),
        and the last phase may omit it (the rest of training). Default: one ``linear`` phase.
      min_lr_ratio: floor over every phase, as a fraction of the base LR.
      warmup_type: ``"linear"``, ``"cosine"`` or ``"exponential"``.
      warmup_start_ratio: multiplier at step 0.
      steps_per_epoch: optimizer updates per epoch, for lengths given in epochs (``"2ep"``).
      last_epoch: index of the last step when resuming.

    Returns:
      A :class:`ScheduleLR` (a ``torch.optim.lr_scheduler.LambdaLR``).

    Examples:
      >>> import torch
      >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
      >>> phases = [{"schedule": "constant", "length": 0.5}, {"schedule": "warmup_exponential", "gamma": 0.5}]
      >>> sched = get_sequential_schedule(opt, 0, 6, phases=phases)
      >>> [sched.lr_lambdas[0](s) for s in range(6)]
      [1.0, 1.0, 1.0, 1.0, 0.5, 0.25]
    """
    options = checks.sequential_options(
        num_warmup_steps,
        num_training_steps,
        steps_per_epoch=steps_per_epoch,
        phases=phases,
        min_lr_ratio=min_lr_ratio,
        warmup_type=warmup_type,
        warmup_start_ratio=warmup_start_ratio,
    )
    return _scheduler(optimizer, "sequential", schedules.sequential_curve(**options), options, last_epoch)


def get_wsd_schedule(
    optimizer: Optimizer,
    num_warmup_steps: int | float | str = 0,
    num_training_steps: int | None = None,
    *,
    decay_length: int | float | str = 0.2,
    decay_type: str = "1-sqrt",
    decay_options: Mapping | None = None,
    min_lr_ratio: float = 0.0,
    warmup_type: str = "linear",
    warmup_start_ratio: float = 0.0,
    steps_per_epoch: int | None = None,
    last_epoch: int = -1,
) -> ScheduleLR:
    """Warmup, stable, decay (WSD): the peak LR until the last ``decay_length`` steps, then a decay of your choice.

    Registered as ``lr_scheduler_type="wsd"``. The stable length is derived (what warmup and decay leave).
    The curve is :func:`hf_lrsched.schedules.wsd_schedule`.

    Args:
      optimizer: the optimizer whose groups' LRs are scheduled.
      num_warmup_steps: warmup length (steps, fraction of ``num_training_steps`` or epochs).
      num_training_steps: total optimizer steps.
      decay_length: length of the decay (steps, fraction of ``num_training_steps`` or epochs ``"2ep"``); the
        stable length is what is left after warmup and decay.
      decay_type: ``"1-sqrt"`` (``1 - sqrt(p)``), ``"linear"``, ``"cosine"``, ``"exponential"`` (geometric to
        ``min_lr_ratio``), or a built-in schedule name (then its options go in ``decay_options``).
      decay_options: options of the schedule named by ``decay_type``, run for ``decay_length`` steps.
      min_lr_ratio: the value the decay ends at, as a fraction of the base LR (the four shapes only).
      warmup_type: ``"linear"``, ``"cosine"`` or ``"exponential"``.
      warmup_start_ratio: multiplier at step 0.
      steps_per_epoch: optimizer updates per epoch, for lengths given in epochs (``"2ep"``).
      last_epoch: index of the last step when resuming.

    Returns:
      A :class:`ScheduleLR` (a ``torch.optim.lr_scheduler.LambdaLR``).

    Examples:
      >>> import torch
      >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
      >>> sched = get_wsd_schedule(opt, 0, 8, decay_length=4, decay_type="1-sqrt")
      >>> [sched.lr_lambdas[0](s) for s in (0, 3, 4, 5, 7)]
      [1.0, 1.0, 1.0, 0.5, 0.1339745962155614]
    """
    options = checks.wsd_options(
        num_warmup_steps,
        num_training_steps,
        steps_per_epoch=steps_per_epoch,
        decay_length=decay_length,
        decay_type=decay_type,
        decay_options=decay_options,
        min_lr_ratio=min_lr_ratio,
        warmup_type=warmup_type,
        warmup_start_ratio=warmup_start_ratio,
    )
    return _scheduler(optimizer, "wsd", schedules.wsd_curve(**options), options, last_epoch)


def _scheduler(optimizer: Optimizer, name: str, schedule: Schedule, options: dict, last_epoch: int) -> ScheduleLR:
    return ScheduleLR(optimizer, schedule, last_epoch, schedule_name=name, schedule_options=options)


def _per_group(name: str, value, optimizer: Optimizer) -> list:
    """``value`` for each param group: one number for all, or a list with one per group (checked already)."""
    groups = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != groups:
            raise ValueError(
                f"{name}={list(value)!r} has {len(value)} values but the optimizer has {groups} param groups"
            )
        return list(value)
    return [value] * groups


def _momentum_curves(optimizer: Optimizer, options: dict) -> list[Schedule]:
    """One momentum curve per param group; groups with the same (low, high) share one function."""
    lows = _per_group("base_momentum", options["base_momentum"], optimizer)
    highs = _per_group("max_momentum", options["max_momentum"], optimizer)
    built: dict[tuple, Schedule] = {}
    for low, high in zip(lows, highs, strict=True):
        if (low, high) not in built:
            built[low, high] = schedules.one_cycle_momentum_curve(
                **{**options, "base_momentum": low, "max_momentum": high}
            )
    return [built[low, high] for low, high in zip(lows, highs, strict=True)]


def _warn_if_momentum_is_off(optimizer: Optimizer, key: str) -> None:
    # torch's OneCycleLR turns a momentum of 0 on without a word (SGD and RMSprop default to 0).
    if any(momentum_value(group) == 0 for group in optimizer.param_groups):
        option = "betas[0]" if key == "betas" else "momentum"
        warnings.warn(
            f"one_cycle: {type(optimizer).__name__} has {option}=0, and one_cycle cycles it between "
            "max_momentum and base_momentum (0.95 -> 0.85 -> 0.95 by default), as torch's OneCycleLR does; "
            "pass cycle_momentum=False to keep momentum off",
            UserWarning,
            stacklevel=3,
        )
