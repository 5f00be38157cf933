"""The one table of this package's schedules: one row per built-in ``lr_scheduler_type`` name.

Everything that lists the built-in schedules reads it: the registry registers its rows, ``hf-lrsched
list`` shows them, the recipes' help texts name them, the README's schedule table is generated from
it (:func:`markdown_table`, checked by ``tests/test_catalog.py``), and the tests that run
"for each schedule" are parametrized over :func:`names`.

A row holds only what no function says: the name, the builder, the factory, the torch scheduler it
matches and a one-line summary. The options, their defaults and their meanings are read from the
factory's signature and the ``Args`` block of its docstring, so their text has one source.

Adding a schedule: write its builder in :mod:`hf_lrsched.schedules` and add one row here.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import factories, schedules
from ._docs import args_block

__all__ = [
    "BUILTIN_FACTORIES",
    "SCHEDULES",
    "ScheduleInfo",
    "by_name",
    "markdown_table",
    "names",
    "option_docs",
    "warmup_names",
]

#: Options every warmup schedule takes; the README describes them once, in their own table.
COMMON_OPTIONS = ("min_lr_ratio", "warmup_type", "warmup_start_ratio")
#: Factory parameters that are not ``lr_scheduler_kwargs`` options.
_NOT_OPTIONS = ("optimizer", "num_warmup_steps", "num_training_steps", "last_epoch")


@dataclass(frozen=True)
class ScheduleInfo:
    """One built-in schedule.

    Args:
      name: the ``lr_scheduler_type`` name.
      builder: the pure ``step -> multiplier`` builder in :mod:`hf_lrsched.schedules`.
      summary: what the curve does, one line of Markdown (the README's "what it does").
      torch_equivalent: the torch scheduler it matches without warmup, or ``None``.
      example: options (``lr_scheduler_kwargs``) that show the schedule off.
      factory: the ``get_*`` factory; ``None`` builds one from ``builder`` (a warmup schedule).

    Examples:
      >>> by_name("warmup_step").factory.__name__
      'get_step_schedule_with_warmup'
    """

    name: str
    builder: Callable[..., schedules.Schedule]
    summary: str
    torch_equivalent: str | None = None
    example: Mapping[str, Any] = field(default_factory=dict)
    factory: Callable[..., Any] | None = None

    @property
    def has_warmup(self) -> bool:
        """Whether the builder takes ``num_warmup_steps`` (and the shared warmup options)."""
        return "num_warmup_steps" in inspect.signature(self.builder).parameters

    def __post_init__(self) -> None:
        if self.factory is None:
            factory = factories.warmup_factory(self.name, self.builder)
            # Reachable as hf_lrsched.factories.<its name>, like the named factories: pickles by reference.
            setattr(factories, factory.__name__, factory)
            object.__setattr__(self, "factory", factory)


SCHEDULES: tuple[ScheduleInfo, ...] = (
    ScheduleInfo(
        "warmup_exponential",
        schedules.exponential_schedule,
        "warmup, then `base_lr · gamma^(step − W)`",
        "ExponentialLR(gamma)",
        {"gamma": 0.997},
        factories.get_exponential_schedule_with_warmup,
    ),
    ScheduleInfo(
        "warmup_step",
        schedules.step_schedule,
        "warmup, then × `gamma` every `step_size` steps",
        "StepLR(step_size, gamma)",
        {"step_size": 0.3, "gamma": 0.5},
        factories.get_step_schedule_with_warmup,
    ),
    ScheduleInfo(
        "warmup_multistep",
        schedules.multistep_schedule,
        "warmup, then × `gamma` at each milestone",
        "MultiStepLR(milestones, gamma)",
        {"milestones": [0.5, 0.75, 0.9], "gamma": 0.3},
        factories.get_multistep_schedule_with_warmup,
    ),
    ScheduleInfo(
        "one_cycle",
        schedules.one_cycle_schedule,
        "rise from `max_lr/div_factor` to `max_lr`, then anneal to `max_lr/(div_factor·final_div_factor)`; "
        "momentum / beta1 the other way",
        "OneCycleLR",
        {"pct_start": 0.25},
        factories.get_one_cycle_schedule,
    ),
    ScheduleInfo(
        "sgdr",
        schedules.sgdr_schedule,
        "warmup, then cosine annealing with warm restarts; cycle i is `cycle_steps · cycle_mult^i` long "
        "and peaks at `cycle_decay^i`",
        "CosineAnnealingWarmRestarts(T_0, T_mult)",
        {"cycle_steps": 0.25, "cycle_decay": 0.7},
        factories.get_sgdr_schedule_with_warmup,
    ),
)


#: name -> factory, for the registry (which makes each name a valid ``lr_scheduler_type``).
BUILTIN_FACTORIES: dict[str, Callable[..., Any]] = {row.name: row.factory for row in SCHEDULES}


def names() -> list[str]:
    """The built-in schedule names, in table order.

    Examples:
      >>> names()[:3]
      ['warmup_exponential', 'warmup_step', 'warmup_multistep']
    """
    return [row.name for row in SCHEDULES]


def warmup_names() -> list[str]:
    """The built-in names whose builder has a warmup phase (every one but ``one_cycle``).

    Examples:
      >>> "one_cycle" in warmup_names(), "sgdr" in warmup_names()
      (False, True)
    """
    return [row.name for row in SCHEDULES if row.has_warmup]


def by_name(name: str) -> ScheduleInfo:
    """The row of built-in schedule ``name``.

    Raises:
      ValueError: ``name`` is not a built-in schedule (the message lists them).

    Examples:
      >>> by_name("sgdr").torch_equivalent
      'CosineAnnealingWarmRestarts(T_0, T_mult)'
    """
    for row in SCHEDULES:
        if row.name == name:
            return row
    raise ValueError(f"{name!r} is not a built-in hf-lrsched schedule; built-ins: {', '.join(names())}")


def _meaning(text: str) -> str:
    """An option's first sentence, plus its ``Default: ...`` sentence when it has one."""
    sentences = re.split(r"(?<=[^.])\.(?:\s+|$)", text)
    default = next((s for s in sentences[1:] if s.startswith("Default")), None)
    return sentences[0] + (f"; {default[0].lower()}{default[1:]}" if default else "")


def option_docs(row: ScheduleInfo) -> list[tuple[str, Any, str]]:
    """``(option, default, meaning)`` for each ``lr_scheduler_kwargs`` option of ``row``'s factory.

    Read from the factory's signature and its ``Args`` entry (first sentence, and the default's).

    Examples:
      >>> option_docs(by_name("warmup_step"))[1]
      ('gamma', 0.1, 'factor applied at each drop, in (0, 1]')
    """
    doc = args_block(row.factory)
    return [
        (name, None if p.default is inspect.Parameter.empty else p.default, _meaning(doc.get(name, "")))
        for name, p in inspect.signature(row.factory).parameters.items()
        if name not in _NOT_OPTIONS and p.kind is p.KEYWORD_ONLY
    ]


def _markdown(text: str) -> str:
    return text.replace("``", "`").replace("|", "\\|")


def _options_cell(row: ScheduleInfo) -> str:
    return "; ".join(
        f"`{name}={default!r}`: {_markdown(meaning)}"
        for name, default, meaning in option_docs(row)
        if name not in COMMON_OPTIONS
    )


def markdown_table() -> str:
    """The README's schedule table, one line per row of :data:`SCHEDULES`.

    Examples:
      >>> markdown_table().splitlines()[2].split(" | ")[:2]
      ['| `warmup_exponential`', '`get_exponential_schedule_with_warmup`']
    """
    lines = [
        "| `lr_scheduler_type` | factory | what it does | options (`lr_scheduler_kwargs`) and defaults "
        "| torch equivalent (no warmup) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in SCHEDULES:
        torch_cell = f"`{row.torch_equivalent}`" if row.torch_equivalent else "—"
        lines.append(
            f"| `{row.name}` | `{row.factory.__name__}` | {row.summary} | {_options_cell(row)} | {torch_cell} |"
        )
    return "\n".join(lines)
