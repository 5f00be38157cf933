"""How a recipe fails on bad input: a :class:`RecipeError`, printed as one line, exit status 2."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence


class RecipeError(ValueError):
    """A problem with the user's input: printed as one line naming the flag, exit status 2."""


def first_line(err: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none)."""
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def parse_args(parser, argv: Sequence[str] | None):
    """``HfArgumentParser`` parse (or a single ``.json`` file of arguments), errors as RecipeError."""
    argv = list(sys.argv[1:] if argv is None else argv)

    def error(message: str):  # argparse would print the whole (long) usage first
        raise RecipeError(f"{message} (see --help)")

    parser.error = error
    try:
        if len(argv) == 1 and argv[0].endswith(".json"):
            return parser.parse_json_file(os.path.abspath(argv[0]))
        return parser.parse_args_into_dataclasses(args=argv)
    except ValueError as err:  # from a dataclass __post_init__ (e.g. bad --lr_scheduler_kwargs)
        raise RecipeError(first_line(err)) from None


def run_main(main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None = None) -> int:
    """Run a recipe's ``main``; a :class:`RecipeError` becomes one ``error:`` line and exit status 2."""
    try:
        return main(argv) or 0
    except RecipeError as err:
        # Every process of a launch hits the same input error: one line per machine is enough.
        if os.environ.get("LOCAL_RANK", "0") == "0":
            prog = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "recipe"
            print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
