"""``hf-lrsched list``: every schedule name with its source, factory, options and shape."""

from __future__ import annotations

import argparse
import json
import re

from .._hf import compat
from ..catalog import BUILTIN_FACTORIES
from ..registry import required_schedule_options, schedule_options
from .common import _add_import_option, _import_modules

__all__ = ["schedule_table"]


def _unwrap(function):
    # Registered names map to a checking wrapper that keeps the user's factory as `.factory`.
    return getattr(function, "factory", function)


def _qualified_name(function) -> str:
    module = getattr(function, "__module__", None) or "?"
    name = getattr(function, "__qualname__", None) or type(function).__qualname__
    return f"{module}.{name}"


def _shape_line(function) -> str:
    """First sentence of the factory's docstring, on one line."""
    doc = (getattr(function, "__doc__", None) or "").strip()
    if not doc:
        return "(no docstring)"
    lines = [line.strip() for line in doc.split("\n\n", 1)[0].splitlines()]
    paragraph = " ".join(line for line in lines if line)
    if not any(re.match(r"\d+\.\s", line) for line in lines[1:]):  # keep an enumerated list whole
        paragraph = paragraph.split(". ", 1)[0].rstrip(".") + "."
    return _plain_text(paragraph)


def _plain_text(rest: str) -> str:
    """reST to plain text: drop ``literal`` quotes and **bold** marks, but not the ``**`` of a formula.

    Examples:
      >>> _plain_text("Warmup, then ``lr = base_lr * gamma ** (step - W)``, LR **and** momentum.")
      'Warmup, then lr = base_lr * gamma ** (step - W), LR and momentum.'
    """
    parts = rest.split("``")
    # Even parts are prose (where **x** is bold); odd parts are literals, kept as they are.
    return "".join(part if i % 2 else re.sub(r"\*\*(\S(?:.*?\S)?)\*\*", r"\1", part) for i, part in enumerate(parts))


def _source(name: str, function) -> str:
    if name in BUILTIN_FACTORIES and _unwrap(function) is BUILTIN_FACTORIES[name]:
        return "hf-lrsched"
    if name in compat.transformers_scheduler_names() and function is not None and not hasattr(function, "factory"):
        return "transformers"
    return "registered"


def schedule_table() -> list[dict]:
    """What ``hf-lrsched list`` shows: one row per schedule name.

    Returns:
      A list of dicts with ``name``, ``source`` (``hf-lrsched``, ``transformers`` or
      ``registered``), ``factory`` (``module.qualname``), ``options`` (name -> default, or ``None``
      when the factory takes ``**kwargs``), ``required`` (options without a default) and
      ``shape`` (the docstring's first sentence).

    Examples:
      >>> row = {r["name"]: r for r in schedule_table()}["sgdr"]
      >>> row["source"], row["factory"], row["options"]["cycle_mult"]
      ('hf-lrsched', 'hf_lrsched.factories.get_sgdr_schedule_with_warmup', 1)
    """
    rows = []
    for name in compat.known_scheduler_names():
        function = compat.get_scheduler_function(name)
        factory = _unwrap(function)
        options = schedule_options(name)
        rows.append(
            {
                "name": name,
                "source": _source(name, function),
                "factory": _qualified_name(factory),
                "options": options,  # None: the factory takes any keyword (**kwargs)
                "required": required_schedule_options(name),
                "shape": _shape_line(factory),
            }
        )
    return rows


def _format_options(options: dict | None, required: list[str]) -> str:
    if options is None:
        return "any keyword (the factory takes **kwargs)"
    if not options:
        return "none"
    return ", ".join(f"{key}=<required>" if key in required else f"{key}={value!r}" for key, value in options.items())


def _list(args: argparse.Namespace) -> int:
    _import_modules(args.imports)
    rows = schedule_table()
    if args.json:
        print(json.dumps(rows, indent=2, default=repr))
        return 0
    width = max(len(row["name"]) for row in rows)
    for row in rows:
        print(f"{row['name']:<{width}}  [{row['source']}]  {row['factory']}")
        print(f"{'':<{width}}  {row['shape']}")
        print(f"{'':<{width}}  options: {_format_options(row['options'], row['required'])}")
    return 0


def _add_list_parser(commands) -> None:
    parser = commands.add_parser(
        "list",
        help="list every schedule name with its factory, options and shape",
        description=(
            "List every name usable as --lr_scheduler_type: this package's schedules, transformers' own "
            "and any registered with hf_lrsched.register_schedule (use --import to load them). For each: "
            "where it comes from, its factory, its options (lr_scheduler_kwargs) with defaults, and "
            "the first sentence of the factory's docstring."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list of objects instead of text")
    _add_import_option(parser)
    parser.set_defaults(handler=_list)
