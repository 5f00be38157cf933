"""``hf-lrsched plot NAME [NAME ...]``: draw the LR (and momentum) curves of schedules, optionally as CSV too."""

from __future__ import annotations

import argparse

from .._hf import compat
from .common import _add_import_option, _import_modules

__all__: list[str] = []  # reached through hf_lrsched.cli


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

    from ..plotting import check_output_path

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
    from ..plotting import check_output_path, plot_curves, save_figure, schedule_curves

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
