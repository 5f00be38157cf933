"""The ``hf-lrsched`` command line.

* ``hf-lrsched run [--lr_scheduler_kwargs JSON] SCRIPT [ARGS...]`` runs an unmodified HF training
  script with this package's schedule names registered, so ``--lr_scheduler_type one_cycle`` passes
  its ``HfArgumentParser`` or, in a ``run_*_no_trainer.py`` script, its ``argparse`` choices (see
  :mod:`hf_lrsched.script_patch`).
* ``hf-lrsched list`` lists every schedule name, its factory, options and shape.
* ``hf-lrsched plot NAME [NAME ...]`` draws the LR (and momentum) curves of schedules.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import re
import runpy
import sys

import hf_lrsched  # registers the schedule names

from . import _transformers_compat as compat
from .catalog import BUILTIN_FACTORIES
from .registry import required_schedule_options, schedule_options


def _run(args: argparse.Namespace) -> int:
    from .script_patch import check_run_options, patched_for_scripts

    try:
        options = compat.parse_kwargs_json(args.lr_scheduler_kwargs) if args.lr_scheduler_kwargs is not None else {}
        check_run_options(options)
    except ValueError as err:
        print(f"hf-lrsched run: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    with patched_for_scripts(options):
        return _run_script(args)


def _run_script(args: argparse.Namespace) -> int:
    if args.auto_lr:  # every Trainer.train() first chooses its LR (hf_lrsched.lr_choice)
        from .lr_choice import install_trainer_hook

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


# ------------------------------------------------------------------------------------------------
# Shared by list and plot.
# ------------------------------------------------------------------------------------------------


def _import_modules(modules: list[str]) -> None:
    """Import user modules (that call ``register_schedule``), from the current folder as ``python -m`` would."""
    if modules and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise ValueError(f"--import {module!r} failed: {err}") from None


def _add_import_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first (repeatable), e.g. one that calls hf_lrsched.register_schedule",
    )


# ------------------------------------------------------------------------------------------------
# hf-lrsched list
# ------------------------------------------------------------------------------------------------


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


# ------------------------------------------------------------------------------------------------
# hf-lrsched plot
# ------------------------------------------------------------------------------------------------


def _steps_or_fraction(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an int number of steps or a fraction, got {text!r}") from None


def _parse_kwargs(items: list[str], names: list[str]) -> dict[str, dict]:
    options: dict[str, dict] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"--kwargs must look like NAME='{{\"gamma\": 0.999}}', got {item!r}")
        if name not in names:
            raise ValueError(f"--kwargs {name}=...: {name!r} is not among the schedules to plot ({', '.join(names)})")
        if name in options:
            raise ValueError(f"--kwargs given twice for {name!r}")
        options[name] = compat.parse_kwargs_json(text, option=f"kwargs {name}")
    return options


def _write_csv(path: str, curves) -> None:
    import csv

    from .plotting import check_output_path

    check_output_path(path, option="--csv", formats=["csv"])
    try:
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            header = ["step"]
            for curve in curves:
                header += [f"{curve.name}:lr", f"{curve.name}:{curve.momentum_name}"]
            writer.writerow(header)
            for step in range(len(curves[0].steps)):
                row = [step]
                for curve in curves:
                    row += [repr(float(curve.lrs[step])), repr(float(curve.momentum[step]))]
                writer.writerow(row)
    except OSError as err:
        raise ValueError(f"--csv {path!r} could not be written: {err.strerror or err}") from None


def _plot(args: argparse.Namespace) -> int:
    _import_modules(args.imports)
    names = args.names
    if len(set(names)) != len(names):
        raise ValueError(f"NAME given twice in {names}; plot each schedule once")
    options = _parse_kwargs(args.kwargs, names)
    from .plotting import check_output_path, plot_curves, save_figure, schedule_curves

    check_output_path(args.output, option="--output")
    if args.csv:
        check_output_path(args.csv, option="--csv", formats=["csv"])
    curves = schedule_curves(
        names,
        args.num_training_steps,
        args.num_warmup_steps,
        lr=args.lr,
        options=options,
        optimizer=args.optimizer,
    )
    figure = plot_curves(curves, layout=args.layout, log_y=args.log_y, title=args.title)
    save_figure(figure, args.output, option="--output")
    if args.csv:
        _write_csv(args.csv, curves)
    print(f"wrote {args.output}" + (f" and {args.csv}" if args.csv else ""))
    return 0


def _add_plot_parser(commands) -> None:
    parser = commands.add_parser(
        "plot",
        help="plot the LR (and momentum) curves of one or more schedules",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Build each schedule with the same factory Trainer uses (hf_lrsched.get_scheduler), step it\n"
            "with a one-parameter optimizer, and plot the LR of every update. A second panel shows beta1\n"
            "(AdamW) or momentum (SGD) when a schedule cycles it (one_cycle)."
        ),
        epilog=(
            "example:\n"
            "  hf-lrsched plot warmup_exponential one_cycle cosine --num_training_steps 1000 \\\n"
            "      --num_warmup_steps 100 --kwargs warmup_exponential='{\"gamma\": 0.997}' --output curves.png"
        ),
    )
    parser.add_argument("names", nargs="+", metavar="NAME", help="schedule names (see hf-lrsched list)")
    parser.add_argument(
        "--num_training_steps", type=int, required=True, metavar="N", help="optimizer updates to draw (>= 2)"
    )
    parser.add_argument(
        "--num_warmup_steps",
        type=_steps_or_fraction,
        default=0,
        metavar="W",
        help="warmup updates, or a fraction of N such as 0.1 (default: 0)",
    )
    parser.add_argument("--lr", type=float, default=5e-5, help="the optimizer's learning rate (default: 5e-5)")
    parser.add_argument(
        "--kwargs",
        action="append",
        default=[],
        metavar="NAME=JSON",
        help="options of schedule NAME (its lr_scheduler_kwargs) as a JSON object, e.g. "
        "warmup_exponential='{\"gamma\": 0.999}'; repeat for several schedules",
    )
    parser.add_argument(
        "--optimizer",
        choices=["adamw", "sgd"],
        default="adamw",
        help="optimizer stepped: adamw (momentum panel shows beta1) or sgd with momentum 0.9 (default: adamw)",
    )
    parser.add_argument(
        "--layout",
        choices=["overlay", "grid"],
        default="overlay",
        help="overlay: every LR curve on one axis, momentum/beta1 in a panel below; grid: one panel per "
        "schedule, cycled momentum dashed on a right-hand axis (default: overlay)",
    )
    parser.add_argument("--log_y", action="store_true", help="logarithmic LR axis (steps with LR 0 are left out)")
    parser.add_argument("--title", default=None, help="figure title (default: the steps and warmup)")
    parser.add_argument(
        "--output",
        required=True,
        metavar="PATH",
        help="image to write; the format follows the extension (.png, .svg, .pdf)",
    )
    parser.add_argument(
        "--csv", default=None, metavar="PATH", help="also write the plotted values (step, LR and momentum per schedule)"
    )
    _add_import_option(parser)
    parser.set_defaults(handler=_plot)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hf-lrsched",
        description="Exact learning-rate schedules for HuggingFace Transformers.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {hf_lrsched.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="run a training script with the hf-lrsched schedule names registered",
        description=(
            "Run SCRIPT as `python SCRIPT ARGS...` would, after `import hf_lrsched`, so that "
            "--lr_scheduler_type accepts warmup_exponential, warmup_step, warmup_multistep, "
            "one_cycle, sgdr and every registered name: for HfArgumentParser scripts and for argparse "
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
