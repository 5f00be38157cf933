"""The ``hf-lrsched`` command line.

``hf-lrsched run SCRIPT [ARGS...]`` runs an unmodified HF training script with this package's
schedule names registered, so ``--lr_scheduler_type one_cycle`` passes its ``HfArgumentParser``.
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys

import hf_lrsched  # noqa: F401  (registers the schedule names)


def _run(args: argparse.Namespace) -> int:
    if args.module:
        sys.argv = [args.script, *args.args]
        runpy.run_module(args.script, run_name="__main__", alter_sys=True)
        return 0
    if not os.path.isfile(args.script):
        print(f"hf-lrsched run: SCRIPT {args.script!r} is not a file", file=sys.stderr)
        return 2
    sys.argv = [args.script, *args.args]
    # As `python SCRIPT` does: the script's folder goes first on sys.path.
    sys.path.insert(0, os.path.dirname(os.path.abspath(args.script)))
    runpy.run_path(args.script, run_name="__main__")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hf-lrsched",
        description="Exact learning-rate schedules for HuggingFace Transformers.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="run a training script with the hf-lrsched schedule names registered",
        description=(
            "Run SCRIPT as `python SCRIPT ARGS...` would, after `import hf_lrsched`, so that "
            "--lr_scheduler_type accepts warmup_exponential, warmup_step, warmup_multistep, "
            "one_cycle and sgdr."
        ),
    )
    run.add_argument("-m", dest="module", action="store_true", help="SCRIPT is a module name (as python -m)")
    run.add_argument("script", metavar="SCRIPT", help="path of the script (or module name with -m)")
    run.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS", help="arguments passed to SCRIPT")
    run.set_defaults(handler=_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.handler(args)
