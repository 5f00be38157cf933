"""The one table of this package's schedules: one row per built-in ``lr_scheduler_type`` name.

Everything that lists the built-in schedules reads it: the registry registers its rows, ``hf-lrsched
list`` shows them, the recipes' help texts name them, the README's schedule table is generated from
it (:func:`markdown_table`, checked by ``tests/test_catalog.py``), and the tests that run
"for each schedule" are parametrized over :func:`names`.

A row holds only what no function says: the name, the builder, the factory, the check of its
options that needs no run length, the torch scheduler it matches and a one-line summary. The
options, their defaults and their meanings are read from the factory's signature and the ``Args``
block of its docstring.

Adding a schedule: its options pass in :mod:`hf_lrsched._checks.options`, its formula, curve and
builder in :mod:`hf_lrsched.schedules`, its factory in :mod:`hf_lrsched.factories`, and one row here.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import factories, schedules
from ._checks import options as checks

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
_NOT_OPTIONS = ("optimizer", "num_warmup_steps", "num_training_steps", "steps_per_epoch", "last_epoch")


@dataclass(frozen=True)
class ScheduleInfo:
    """One built-in schedule.

    Args:
      name: the ``lr_scheduler_type`` name.
      builder: the pure ``step -> multiplier`` builder in :mod:`hf_lrsched.schedules`.
      summary: what the curve does, one line of Markdown (the README's "what it does").
      factory: the ``get_*`` factory that ``lr_scheduler_type=name`` builds with.
      check_options: the checks of its options that need no run length; takes every option of the
        factory by name (:mod:`hf_lrsched._checks.options`).
      torch_equivalent: the torch scheduler it matches without warmup, or ``None``.
      example: options (``lr_scheduler_kwargs``) that show the schedule off.
      resolve: its options pass (``<x>_options`` of :mod:`hf_lrsched._checks.options`), run when it is a phase
        of a composed schedule.
      curve: its curve from resolved options (``<x>_curve`` of :mod:`hf_lrsched.schedules`).

    Examples:
      >>> by_name("warmup_step").factory.__name__
      'get_step_schedule_with_warmup'
    """

    name: str
    builder: Callable[..., schedules.Schedule]
    factory: Callable[..., Any]
    check_options: Callable[..., None]
    summary: str
    torch_equivalent: str | None = None
    example: Mapping[str, Any] = field(default_factory=dict)
    resolve: Callable[..., dict[str, Any]] | None = None
    curve: Callable[..., schedules.Schedule] | None = None

    def option_defaults(self) -> dict[str, Any]:
        """``lr_scheduler_kwargs`` option -> default, read from the factory's signature (the one source).

        Examples:
          >>> by_name("warmup_step").option_defaults()["gamma"]
          0.1
        """
        return {
            name: None if p.default is inspect.Parameter.empty else p.default
            for name, p in inspect.signature(self.factory).parameters.items()
            if name not in _NOT_OPTIONS and p.kind is p.KEYWORD_ONLY
        }

    @property
    def has_warmup(self) -> bool:
        """Whether the builder takes ``num_warmup_steps`` (and the shared warmup options)."""
        return "num_warmup_steps" in inspect.signature(self.builder).parameters


SCHEDULES: tuple[ScheduleInfo, ...] = (
    ScheduleInfo(
        "warmup_exponential",
        schedules.exponential_schedule,
        factories.get_exponential_schedule_with_warmup,
        checks.check_exponential_options,
        "warmup, then `base_lr · gamma^(step − W)`",
        "ExponentialLR(gamma)",
        {"gamma": 0.997},
        resolve=checks.exponential_options,
        curve=schedules.exponential_curve,
    ),
    ScheduleInfo(
        "warmup_step",
        schedules.step_schedule,
        factories.get_step_schedule_with_warmup,
        checks.check_step_options,
        "warmup, then × `gamma` every `step_size` steps",
        "StepLR(step_size, gamma)",
        {"step_size": 0.3, "gamma": 0.5},
        resolve=checks.step_options,
        curve=schedules.step_curve,
    ),
    ScheduleInfo(
        "warmup_multistep",
        schedules.multistep_schedule,
        factories.get_multistep_schedule_with_warmup,
        checks.check_multistep_options,
        "warmup, then × `gamma` at each milestone",
        "MultiStepLR(milestones, gamma)",
        {"milestones": [0.5, 0.75, 0.9], "gamma": 0.3},
        resolve=checks.multistep_options,
        curve=schedules.multistep_curve,
    ),
    ScheduleInfo(
        "one_cycle",
        schedules.one_cycle_schedule,
        factories.get_one_cycle_schedule,
        checks.check_one_cycle_options,
        "rise from `max_lr/div_factor` to `max_lr`, then anneal to `max_lr/(div_factor·final_div_factor)`; "
        "momentum / beta1 the other way",
        "OneCycleLR",
        {"pct_start": 0.25},
        resolve=checks.one_cycle_options,
        curve=schedules.one_cycle_curve,
    ),
    ScheduleInfo(
        "sgdr",
        schedules.sgdr_schedule,
        factories.get_sgdr_schedule_with_warmup,
        checks.check_sgdr_options,
        "warmup, then cosine annealing with warm restarts; cycle i is `cycle_steps · cycle_mult^i` long "
        "and peaks at `cycle_decay^i`",
        "CosineAnnealingWarmRestarts(T_0, T_mult)",
        {"cycle_steps": 0.25, "cycle_decay": 0.7},
        resolve=checks.sgdr_options,
        curve=schedules.sgdr_curve,
    ),
    ScheduleInfo(
        "sequential",
        schedules.sequential_schedule,
        factories.get_sequential_schedule,
        checks.check_sequential_options,
        "warmup, then schedules one after the other by name, each on its own local step "
        "(phase lengths in steps, fractions or epochs)",
        "SequentialLR(schedulers, milestones)",
        {
            "phases": [
                {"schedule": "constant", "length": 0.6},
                {"schedule": "warmup_exponential", "final_lr_ratio": 0.01},
            ]
        },
        resolve=checks.sequential_options,
        curve=schedules.sequential_curve,
    ),
    ScheduleInfo(
        "wsd",
        schedules.wsd_schedule,
        factories.get_wsd_schedule,
        checks.check_wsd_options,
        "warmup, stable at the peak, then a decay of `decay_length` steps (`1-sqrt`, linear, cosine, "
        "exponential or any built-in name)",
        None,
        {"decay_length": 0.2, "decay_type": "1-sqrt"},
        resolve=checks.wsd_options,
        curve=schedules.wsd_curve,
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
    doc = _args_block(row.factory)
    return [(name, default, _meaning(doc.get(name, ""))) for name, default in row.option_defaults().items()]


def _args_block(function) -> dict[str, str]:
    """``option -> description`` (joined onto one line) from ``function``'s Google-style ``Args:`` block."""
    lines = (inspect.getdoc(function) or "").splitlines()
    block = []
    for line in lines[lines.index("Args:") + 1 :] if "Args:" in lines else []:
        if not line.strip():
            break
        block.append(line)
    described: dict[str, str] = {}
    current = None
    for line in textwrap.dedent("\n".join(block)).splitlines():
        item = re.match(r"(\w+): (.*)", line)
        if item:
            current = item.group(1)
            described[current] = item.group(2).strip()
        elif current is not None:
            described[current] += " " + line.strip()
    return described


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
