"""Reading Google-style docstrings, so a text written once (in a builder) is reused, not copied."""

from __future__ import annotations

import inspect
import re
import textwrap


def args_section(function) -> list[str]:
    """The lines of ``function``'s ``Args:`` block, dedented (continuation lines keep their extra indent)."""
    lines = (inspect.getdoc(function) or "").splitlines()
    if "Args:" not in lines:
        return []
    block = []
    for line in lines[lines.index("Args:") + 1 :]:
        if not line.strip():
            break
        block.append(line)
    return textwrap.dedent("\n".join(block)).splitlines()


def args_block(function) -> dict[str, str]:
    """``option -> description`` (joined onto one line) from ``function``'s ``Args:`` block.

    Examples:
      >>> def f(a, b):
      ...     '''Do it.
      ...
      ...     Args:
      ...       a: the first, in (0, 1].
      ...       b: the second; a long text
      ...         on two lines.
      ...     '''
      >>> args_block(f)
      {'a': 'the first, in (0, 1].', 'b': 'the second; a long text on two lines.'}
    """
    described: dict[str, str] = {}
    current = None
    for line in args_section(function):
        item = re.match(r"(\w+): (.*)", line)
        if item:
            current = item.group(1)
            described[current] = item.group(2).strip()
        elif current is not None:
            described[current] += " " + line.strip()
    return described


def summary(function) -> str:
    """The first line of ``function``'s docstring."""
    return (inspect.getdoc(function) or "").split("\n", 1)[0]
