"""The ``hf-lrsched`` command line: one module per command.

* ``hf-lrsched run [--lr_scheduler_kwargs JSON] SCRIPT [ARGS...]`` runs an unmodified HF training
  script with this package's schedule names registered, so ``--lr_scheduler_type one_cycle`` passes
  its ``HfArgumentParser`` or, in a ``run_*_no_trainer.py`` script, its ``argparse`` choices (see
  :mod:`hf_lrsched._hf.script_patch`); :mod:`hf_lrsched._cli.run`.
* ``hf-lrsched list`` lists every schedule name, its factory, options and shape; :mod:`hf_lrsched._cli.listing`.
* ``hf-lrsched plot NAME [NAME ...]`` draws the LR (and momentum) curves of schedules; :mod:`hf_lrsched._cli.plot`.
"""

from __future__ import annotations

import argparse
import os
import sys

import hf_lrsched  # registers the schedule names

from ._cli.listing import _add_list_parser, schedule_table
from ._cli.plot import _add_plot_parser
from ._cli.run import _add_run_parser

__all__ = ["build_parser", "main", "schedule_table"]


def build_parser() -> argparse.ArgumentParser:
    """The ``hf-lrsched`` parser, with the ``run``, ``list`` and ``plot`` commands.

    Examples:
      >>> build_parser().parse_args(["list", "--json"]).json
      True
    """
    parser = argparse.ArgumentParser(
        prog="hf-lrsched",
        description="Exact learning-rate schedules for HuggingFace Transformers.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {hf_lrsched.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_run_parser(commands)
    _add_list_parser(commands)
    _add_plot_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "run":
        return args.handler(args)  # the script's own errors propagate unchanged
    try:
        return args.handler(args)
    except BrokenPipeError:  # e.g. `hf-lrsched list | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (ValueError, ImportError, OSError) as err:
        # One line naming the option; no traceback for bad input.
        message = " ".join(str(err).split())
        print(f"hf-lrsched {args.command}: error: {message}", file=sys.stderr)
        return 2
