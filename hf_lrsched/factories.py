"""Schedulers for an optimizer, in the style of ``transformers.get_cosine_schedule_with_warmup``.

Each ``get_*`` factory validates its options through the pure builders of
:mod:`hf_lrsched.schedules` and wraps the resulting multiplier in :class:`ScheduleLR`, a
``LambdaLR`` subclass (:mod:`hf_lrsched.schedule_lr`). Nothing about the curve is computed here.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Sequence

from torch.optim import Optimizer

from . import schedules
from ._checks.validation import check_bool, check_per_group, with_option_checks
from ._docs import args_section, summary
from .momentum import momentum_key, momentum_value
from .one_cycle import _check_momentum_options, _check_one_cycle_options, resolve_pct_start
from .schedule_lr import ScheduleLR
from .schedules import Schedule

__all__ = [
    "ScheduleLR",
    "get_exponential_schedule_with_warmup",
    "get_multistep_schedule_with_warmup",
    "get_one_cycle_schedule",
    "get_sgdr_schedule_with_warmup",
    "get_step_schedule_with_warmup",
    "warmup_factory",
]


#: Lengths a factory may get as fractions of num_training_steps; recorded resolved to steps.
_LENGTH_OPTIONS = ("num_warmup_steps", "step_size", "staircase_steps", "cycle_steps")


def _plain(value):
    return [_plain(v) for v in value] if isinstance(value, (list, tuple)) else value


def _identity(num_training_steps, **options) -> dict:
    """A schedule's options as plain data for ``state_dict``, fractions resolved to steps."""
    record = {"num_training_steps": num_training_steps}
    for key, value in options.items():
        if key in _LENGTH_OPTIONS and isinstance(value, float) and num_training_steps is not None:
            value = schedules.resolve_length(key, value, num_training_steps)
        elif key == "milestones" and value is not None and num_training_steps is not None:
            value = [schedules.resolve_length(key, m, num_training_steps) for m in value]
        record[key] = _plain(value)
    return record


def _per_group(name: str, value, optimizer: Optimizer) -> list:
    groups = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != groups:
            raise ValueError(
                f"{name}={list(value)!r} has {len(value)} values but the optimizer has {groups} param groups"
            )
        return list(value)
    return [value] * groups


_OPTIMIZER = inspect.Parameter("optimizer", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation="Optimizer")
_LAST_EPOCH = inspect.Parameter("last_epoch", inspect.Parameter.KEYWORD_ONLY, default=-1, annotation="int")


def _example_doc(function_name: str, example: tuple[str, Sequence[int], list[float]] | None) -> str:
    """A doctest: build with ``example[0]`` (after the optimizer), multipliers at steps ``example[1]``."""
    if example is None:
        return ""
    arguments, steps, multipliers = example
    return (
        "\nExamples:\n"
        "  >>> import torch\n"
        "  >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)\n"
        f"  >>> sched = {function_name}(opt, {arguments})\n"
        f"  >>> [round(sched.lr_lambdas[0](s), 6) for s in {tuple(steps)!r}]\n"
        f"  {multipliers!r}\n"
    )


def _factory_doc(name: str, builder: Callable[..., Schedule], first_line: str | None, example_doc: str) -> str:
    """A factory's docstring: the builder's summary and ``Args`` (one source), plus what the factory adds."""
    args = "\n".join("  " + line for line in args_section(builder))
    doc = (
        f"{first_line or summary(builder)}\n\n"
        f'Registered as ``lr_scheduler_type="{name}"``: wraps :func:`hf_lrsched.schedules.{builder.__name__}`\n'
        "(the formula and the defaults are documented there) in a :class:`ScheduleLR`.\n\n"
        "Args:\n"
        "  optimizer: the optimizer whose groups' LRs are scheduled.\n"
        f"{args}\n"
        "  last_epoch: index of the last step when resuming.\n\n"
        "Returns:\n"
        "  A :class:`ScheduleLR` (a ``torch.optim.lr_scheduler.LambdaLR``).\n"
    )
    return doc + example_doc


def warmup_factory(
    name: str,
    builder: Callable[..., Schedule],
    *,
    function_name: str | None = None,
    summary: str | None = None,
    example: tuple[str, Sequence[int], list[float]] | None = None,
) -> Callable[..., ScheduleLR]:
    """The ``get_*`` factory of a warmup schedule: ``builder``'s signature and options, plus an optimizer.

    The factory takes ``(optimizer, num_warmup_steps, num_training_steps, *, <builder's options>,
    last_epoch=-1)``, builds ``builder(...)`` and wraps it in a :class:`ScheduleLR` recording
    ``name`` and the options (fractions resolved to steps) as its identity. Its signature and
    docstring are the builder's, so the options are described once, in :mod:`hf_lrsched.schedules`.

    Args:
      name: the registered ``lr_scheduler_type`` name.
      builder: a pure builder ``(num_warmup_steps, num_training_steps, *, options) -> Schedule``.
      function_name: the factory's ``__name__`` (default ``get_<name>_schedule``).
      summary: the docstring's first line, what ``hf-lrsched list`` shows (default: the builder's).
      example: ``(arguments after the optimizer, steps, expected multipliers)``: the factory's
        ``Examples`` doctest (the expected values written by hand).

    Returns:
      The factory, with ``__signature__`` and ``__doc__`` set.

    Examples:
      >>> import torch
      >>> from hf_lrsched import schedules
      >>> get_halving = warmup_factory("halving", schedules.step_schedule)
      >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
      >>> get_halving(opt, 0, 10, step_size=5, gamma=0.5).lr_lambdas[0](7)
      0.5
      >>> list(inspect.signature(get_halving).parameters)[:4], get_halving.__name__
      (['optimizer', 'num_warmup_steps', 'num_training_steps', 'step_size'], 'get_halving_schedule')
    """
    builder_parameters = list(inspect.signature(builder).parameters.values())
    signature = inspect.Signature([_OPTIMIZER, *builder_parameters, _LAST_EPOCH], return_annotation="ScheduleLR")

    def factory(*args, **kwargs) -> ScheduleLR:
        bound = signature.bind(*args, **kwargs)  # a misspelt option is a TypeError naming it
        bound.apply_defaults()
        options = dict(bound.arguments)
        optimizer, last_epoch = options.pop("optimizer"), options.pop("last_epoch")
        schedule = builder(**options)
        identity = _identity(options.pop("num_training_steps"), **options)
        return ScheduleLR(optimizer, schedule, last_epoch, schedule_name=name, schedule_options=identity)

    factory.__name__ = factory.__qualname__ = function_name or f"get_{name}_schedule"
    factory.__signature__ = signature
    factory.option_checks = getattr(builder, "option_checks", ())
    factory.__doc__ = _factory_doc(name, builder, summary, _example_doc(factory.__name__, example))
    return factory


get_exponential_schedule_with_warmup = warmup_factory(
    "warmup_exponential", schedules.exponential_schedule, function_name="get_exponential_schedule_with_warmup",
    summary="Warmup, then ``lr = base_lr * gamma ** (step - num_warmup_steps)`` (``ExponentialLR``).",
    example=("2, 10, gamma=0.5", (0, 1, 2, 3, 4), [0.0, 0.5, 1.0, 0.5, 0.25]),
)  # fmt: skip
get_step_schedule_with_warmup = warmup_factory(
    "warmup_step", schedules.step_schedule, function_name="get_step_schedule_with_warmup",
    summary="Warmup, then multiply the LR by ``gamma`` every ``step_size`` steps (``StepLR``).",
    example=("0, 90, step_size=30, gamma=0.1", (0, 29, 30, 60, 89), [1.0, 1.0, 0.1, 0.01, 0.01]),
)  # fmt: skip
get_multistep_schedule_with_warmup = warmup_factory(
    "warmup_multistep", schedules.multistep_schedule, function_name="get_multistep_schedule_with_warmup",
    summary="Warmup, then multiply the LR by ``gamma`` at each milestone (``MultiStepLR``).",
    example=("0, 200, milestones=[60, 120, 160], gamma=0.2", (0, 60, 120, 160), [1.0, 0.2, 0.04, 0.008]),
)  # fmt: skip
get_sgdr_schedule_with_warmup = warmup_factory(
    "sgdr", schedules.sgdr_schedule, function_name="get_sgdr_schedule_with_warmup",
    summary="Warmup, then cosine annealing with warm restarts (``CosineAnnealingWarmRestarts``).",
    example=("0, 30, cycle_steps=10, cycle_mult=2", (0, 5, 10, 20, 29), [1.0, 0.5, 1.0, 0.5, 0.006156]),
)  # fmt: skip


def _checked_per_group(name: str, value, optimizer: Optimizer, low, high=None, **interval) -> list[float]:
    """One checked number per param group (``value`` is one number or one per group); errors name the index."""
    checked = check_per_group(name, value, low, high, **interval)
    return _per_group(name, checked if isinstance(value, (list, tuple)) else checked[0], optimizer)


def _check_one_cycle_factory_options(max_lr, cycle_momentum, base_momentum, max_momentum) -> None:
    # The factory's own options, for any run length and any number of param groups.
    if max_lr is not None:
        check_per_group("max_lr", max_lr, 0.0, low_open=True)
    check_bool("cycle_momentum", cycle_momentum)
    _check_momentum_options(base_momentum, max_momentum)


def _warn_if_momentum_is_off(optimizer: Optimizer, key: str) -> None:
    # torch's OneCycleLR turns a momentum of 0 on without a word (SGD and RMSprop default to 0).
    firsts = [momentum_value(group) for group in optimizer.param_groups]
    if any(value == 0 for value in firsts):
        option = "betas[0]" if key == "betas" else "momentum"
        warnings.warn(
            f"one_cycle: {type(optimizer).__name__} has {option}=0, and one_cycle cycles it between "
            "max_momentum and base_momentum (0.95 -> 0.85 -> 0.95 by default), as torch's OneCycleLR does; "
            "pass cycle_momentum=False to keep momentum off",
            UserWarning,
            stacklevel=3,
        )


@with_option_checks(_check_one_cycle_options, _check_one_cycle_factory_options)
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
    derived = pct_start is None
    pct_start = resolve_pct_start(pct_start, num_warmup_steps, num_training_steps, three_phase=three_phase)
    common = dict(pct_start=pct_start, anneal_strategy=anneal_strategy, three_phase=three_phase)
    schedule = schedules.one_cycle_schedule(
        num_training_steps,
        div_factor=div_factor,
        final_div_factor=final_div_factor,
        min_lr_ratio=min_lr_ratio,
        **common,
    )
    _check_one_cycle_factory_options(max_lr, cycle_momentum, base_momentum, max_momentum)
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
            lows = _checked_per_group("base_momentum", base_momentum, optimizer, 0.0, 1.0, high_open=True)
            highs = _checked_per_group("max_momentum", max_momentum, optimizer, 0.0, 1.0, high_open=True)
            built: dict[tuple, Schedule] = {}  # one function per distinct (low, high), shared by groups
            momentum_lambdas = [
                built.get((low, high))
                or built.setdefault(
                    (low, high),
                    schedules.one_cycle_momentum_schedule(
                        num_training_steps, base_momentum=low, max_momentum=high, **common
                    ),
                )
                for low, high in zip(lows, highs, strict=True)
            ]
    if max_lr is not None:
        peaks = _checked_per_group("max_lr", max_lr, optimizer, 0.0, low_open=True)
        if last_epoch == -1:
            # The base LR LambdaLR starts from; it then sets each group's LR itself (in place for
            # tensor LRs, which a float assigned here would replace).
            for group, peak in zip(optimizer.param_groups, peaks, strict=True):
                group["initial_lr"] = peak
    identity = _identity(
        num_training_steps,
        num_warmup_steps=num_warmup_steps,
        max_lr=max_lr,
        pct_start=pct_start if not derived else None,
        anneal_strategy=anneal_strategy,
        div_factor=div_factor,
        final_div_factor=final_div_factor,
        three_phase=three_phase,
        cycle_momentum=cycle_momentum,
        base_momentum=base_momentum,
        max_momentum=max_momentum,
        min_lr_ratio=min_lr_ratio,
    )
    if momentum_lambdas is not None and last_epoch == -1:  # every option is valid: now say it
        _warn_if_momentum_is_off(optimizer, key)
    return ScheduleLR(
        optimizer,
        schedule,
        last_epoch,
        momentum_lambdas=momentum_lambdas,
        momentum_key=key,
        schedule_name="one_cycle",
        schedule_options=identity,
    )


def __getattr__(name: str):
    # BUILTIN_FACTORIES moved to hf_lrsched.catalog (the one table of schedules); kept importable here.
    if name == "BUILTIN_FACTORIES":
        from .catalog import BUILTIN_FACTORIES

        return BUILTIN_FACTORIES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
