"""``hf-lrsched run [--lr_scheduler_kwargs JSON] [--auto_lr] SCRIPT [ARGS...]``.

Runs an unmodified HF training script as ``python SCRIPT`` (or ``python -m MODULE``) would, with this
package's schedule names registered and the changes of :mod:`hf_lrsched._hf.script_patch` in place.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import runpy
import sys

from .. import catalog
from .._hf import compat
from .._hf.teardown import orderly_end

__all__: list[str] = []  # reached through hf_lrsched.cli


def _run(args: argparse.Namespace) -> int:
    from .._hf.script_patch import check_run_options, patched_for_scripts

    try:
        options = compat.parse_kwargs_json(args.lr_scheduler_kwargs) if args.lr_scheduler_kwargs is not None else {}
        check_run_options(options)
    except ValueError as err:
        print(f"hf-lrsched run: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    # orderly_end: a multi-process run ends with status 0, not a gloo abort at exit (see _hf/teardown.py).
    with patched_for_scripts(options), orderly_end():
        return _run_script(args)


def _run_script(args: argparse.Namespace) -> int:
    if args.auto_lr:  # every Trainer.train() first chooses its LR (hf_lrsched.lr_choice)
        from ..lr_choice import install_trainer_hook

        install_trainer_hook()
    if args.module:
        # As `python -m MODULE` does: the current folder goes first on sys.path.
        sys.path.insert(0, os.getcwd())
        try:
            found = importlib.util.find_spec(args.script) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            message = f"hf-lrsched run: no module named {args.script!r} (with -m, SCRIPT is a module name)"
            print(message, file=sys.stderr)
            return 2
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


def _add_run_parser(commands) -> None:
    run = commands.add_parser(
        "run",
        help="run a training script with the hf-lrsched schedule names registered",
        description=(
            "Run SCRIPT as `python SCRIPT ARGS...` would, after `import hf_lrsched`, so that "
            f"--lr_scheduler_type accepts {', '.join(catalog.names())} and every registered name: "
            "for HfArgumentParser scripts and for argparse "
            "arguments of type SchedulerType or with transformers' scheduler names as choices "
            "(run_*_no_trainer.py). Options of run go before SCRIPT."
        ),
    )
    run.add_argument("-m", dest="module", action="store_true", help="SCRIPT is a module name (as python -m)")
    run.add_argument(
        "--lr_scheduler_kwargs",
        default=None,
        metavar="JSON",
        help="options (a JSON object) for the schedule the script builds when it passes none itself, e.g. "
        "a run_*_no_trainer.py script; a script's own --lr_scheduler_kwargs wins",
    )
    run.add_argument(
        "--auto_lr",
        action="store_true",
        help="each Trainer.train() first chooses the LR (hf_lrsched.choose_lr) and writes lr_choice.json/.png "
        "to the output folder; SCRIPT's --learning_rate is replaced",
    )
    run.add_argument("script", metavar="SCRIPT", help="path of the script (or module name with -m)")
    run.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS", help="arguments passed to SCRIPT")
    run.set_defaults(handler=_run)
