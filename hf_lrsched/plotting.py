"""LR (and momentum) curves of named schedules, read off a real optimizer, and their plots.

A curve is never re-computed here: :func:`schedule_curve` builds the scheduler with
:func:`hf_lrsched.get_scheduler` (the factory ``Trainer`` would use) on a one-parameter optimizer,
steps it ``num_training_steps`` times, and records each group-0 LR and momentum/beta1 from
``optimizer.param_groups`` before each update. ``hf-lrsched plot`` draws these curves.

matplotlib is needed only for :func:`plot_curves` / :func:`plot_schedules` (``pip install
hf-lrsched[plot]``); figures use the non-interactive Agg canvas, so no display is needed.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch

from .checked_build import get_scheduler
from .momentum import momentum_key, momentum_value
from .validation import check_choice, check_int, check_real

__all__ = [
    "ScheduleCurve",
    "SchedulePlot",
    "check_output_path",
    "new_figure",
    "plot_curves",
    "plot_schedules",
    "save_figure",
    "schedule_curve",
    "schedule_curves",
]

OPTIMIZERS = ("adamw", "sgd")


@dataclass(frozen=True, eq=False)
class ScheduleCurve:
    """One schedule's trajectory, per optimizer update ``0 .. num_training_steps - 1``.

    Attributes:
      name: the schedule name.
      options: the ``lr_scheduler_kwargs`` it was built with.
      steps: update indices.
      lrs: group-0 LR used at each update.
      momentum: group-0 beta1 (AdamW) or momentum (SGD) at each update.
      momentum_name: ``"beta1"`` or ``"momentum"``.
      num_warmup_steps: the warmup it was built with.
    """

    name: str
    options: dict[str, Any]
    steps: np.ndarray
    lrs: np.ndarray
    momentum: np.ndarray
    momentum_name: str
    num_warmup_steps: int | float = 0

    @property
    def cycles_momentum(self) -> bool:
        """Whether the schedule moves momentum/beta1 (``one_cycle`` does)."""
        return bool(np.ptp(self.momentum) > 0)

    @property
    def label(self) -> str:
        """Legend text: the name and the options given."""
        if not self.options:
            return self.name
        text = ", ".join(f"{k}={json.dumps(v)}" for k, v in self.options.items())
        return f"{self.name} ({text})"


class SchedulePlot(NamedTuple):
    """What :func:`plot_schedules` returns: the figure and the curves drawn in it."""

    figure: Any
    curves: list[ScheduleCurve]


def _optimizer(kind: str, lr: float) -> torch.optim.Optimizer:
    param = torch.nn.Parameter(torch.zeros(1))
    if check_choice("optimizer", kind, OPTIMIZERS) == "adamw":
        return torch.optim.AdamW([param], lr=lr)
    return torch.optim.SGD([param], lr=lr, momentum=0.9)


def _needs_metric(scheduler) -> bool:
    """True for schedulers whose ``step`` takes a metric (ReduceLROnPlateau, GreedyLR): no fixed curve."""
    params = list(inspect.signature(scheduler.step).parameters.values())
    return any(p.default is inspect.Parameter.empty and p.kind is p.POSITIONAL_OR_KEYWORD for p in params)


def schedule_curve(
    name: str,
    num_training_steps: int,
    num_warmup_steps: int | float = 0,
    *,
    lr: float = 5e-5,
    options: Mapping[str, Any] | str | None = None,
    optimizer: str = "adamw",
) -> ScheduleCurve:
    """Step the real scheduler ``name`` and record its LR and momentum at every update.

    Args:
      name: a schedule name (``lr_scheduler_type``): this package's, a registered one, or transformers'.
      num_training_steps: number of updates to record, >= 2.
      num_warmup_steps: warmup steps (or a fraction of training).
      lr: the optimizer's LR (the peak for most schedules).
      options: the schedule's ``lr_scheduler_kwargs`` (dict or JSON text).
      optimizer: ``"adamw"`` (momentum is ``betas[0]``) or ``"sgd"`` (``momentum=0.9``).

    Returns:
      A :class:`ScheduleCurve`.

    Examples:
      >>> c = schedule_curve("warmup_step", 6, 2, lr=1.0, options={"step_size": 2, "gamma": 0.5})
      >>> c.lrs.tolist(), c.cycles_momentum
      ([0.0, 0.5, 1.0, 1.0, 0.5, 0.5], False)
    """
    check_int("num_training_steps", num_training_steps, minimum=2)
    lr = check_real("lr", lr, 0, low_open=True)
    if isinstance(options, str):
        from ._transformers_compat import parse_kwargs_json

        options = parse_kwargs_json(options, option="kwargs") if options.strip() else None
    options = dict(options or {})
    opt = _optimizer(optimizer, float(lr))
    try:
        scheduler = get_scheduler(name, opt, num_warmup_steps, num_training_steps, options)
    except TypeError as err:  # a factory's own signature check, e.g. a required option left out
        raise ValueError(f"schedule {name!r} could not be built with options {options}: {err}") from None
    if _needs_metric(scheduler):
        kind = type(scheduler).__name__
        raise ValueError(f"schedule {name!r} adapts to a metric ({kind}); it has no fixed curve to plot")
    group = opt.param_groups[0]
    lrs = np.empty(num_training_steps)
    momentum = np.empty(num_training_steps)
    for step in range(num_training_steps):
        lrs[step] = group["lr"]
        momentum[step] = momentum_value(group)
        opt.step()  # no gradients: a no-op update, but keeps the scheduler's step-order check happy
        scheduler.step()
    return ScheduleCurve(
        name=str(name),
        options=options,
        steps=np.arange(num_training_steps),
        lrs=lrs,
        momentum=momentum,
        momentum_name="beta1" if momentum_key(group) == "betas" else "momentum",
        num_warmup_steps=num_warmup_steps,
    )


def schedule_curves(
    names: Sequence[str],
    num_training_steps: int,
    num_warmup_steps: int | float = 0,
    *,
    lr: float = 5e-5,
    options: Mapping[str, Mapping[str, Any] | str] | None = None,
    optimizer: str = "adamw",
) -> list[ScheduleCurve]:
    """:func:`schedule_curve` for several schedules.

    Args:
      names: schedule names.
      num_training_steps: updates to record, >= 2.
      num_warmup_steps: warmup steps (or a fraction), for every schedule.
      lr: the optimizer's LR.
      options: name -> that schedule's ``lr_scheduler_kwargs``; names not plotted are an error.
      optimizer: ``"adamw"`` or ``"sgd"``.

    Returns:
      A list of :class:`ScheduleCurve`, in the order of ``names``.

    Examples:
      >>> curves = schedule_curves(["linear", "one_cycle"], 100, 10)
      >>> [c.name for c in curves], [c.cycles_momentum for c in curves]
      (['linear', 'one_cycle'], [False, True])
    """
    if isinstance(names, str) or not names:
        raise ValueError(f"names must be a non-empty list of schedule names, got {names!r}")
    options = dict(options or {})
    unused = [key for key in options if key not in names]
    if unused:
        raise ValueError(f"kwargs given for {unused[0]!r}, which is not among the schedules plotted {list(names)}")
    return [
        schedule_curve(
            name, num_training_steps, num_warmup_steps, lr=lr, options=options.get(name), optimizer=optimizer
        )
        for name in names
    ]


def _figure_class():
    try:
        from matplotlib.figure import Figure  # a Figure made directly draws on Agg: no display, no pyplot state
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'hf-lrsched[plot]'") from None
    return Figure


def new_figure(*, figsize: tuple[float, float], dpi: int = 100):
    """A matplotlib ``Figure`` drawn on Agg (no display, no pyplot state), with constrained layout.

    Raises:
      ImportError: matplotlib is not installed (the message says how to get it).

    Examples:
      >>> new_figure(figsize=(4, 3)).get_size_inches().tolist()
      [4.0, 3.0]
    """
    return _figure_class()(figsize=figsize, dpi=dpi, layout="constrained")


def _image_formats() -> list[str]:
    return sorted(_figure_class()().canvas.get_supported_filetypes())


def check_output_path(path: str | os.PathLike, *, option: str = "output", formats: Sequence[str] | None = None) -> str:
    """Check, before any work, that a file can be written at ``path``.

    The folder must exist and be writable, ``path`` must not be a folder, and its extension must be
    one of ``formats`` (default: the image formats matplotlib writes).

    Args:
      path: the file to write.
      option: the option name used in error messages.
      formats: accepted extensions, without the dot.

    Returns:
      ``path`` as a string.

    Examples:
      >>> check_output_path("curves.txt", option="--output")
      Traceback (most recent call last):
      ...
      ValueError: --output 'curves.txt': unknown format 'txt'; use one of ...
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise ValueError(f"{option} {path!r} is a folder; give a file name")
    if not os.path.isdir(folder):
        raise ValueError(f"{option} {path!r}: {os.path.dirname(path) or '.'!r} is not an existing folder")
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise ValueError(f"{option} {path!r} is not writable")
    extension = os.path.splitext(path)[1].lstrip(".").lower()
    formats = _image_formats() if formats is None else list(formats)
    if extension not in formats:
        raise ValueError(f"{option} {path!r}: unknown format {extension!r}; use one of {', '.join(formats)}")
    return path


def save_figure(figure, path: str | os.PathLike, *, option: str = "output") -> str:
    """``figure.savefig(path)`` after :func:`check_output_path`, with errors that name ``option``.

    Args:
      figure: a matplotlib figure.
      path: where to write it; the extension picks the format.
      option: the option name used in error messages.

    Returns:
      ``path`` as a string.

    Examples:
      >>> import os, tempfile
      >>> fig, _ = plot_schedules(["linear"], 10)
      >>> path = save_figure(fig, os.path.join(tempfile.mkdtemp(), "linear.png"))
      >>> open(path, "rb").read(4)
      b'\\x89PNG'
    """
    path = check_output_path(path, option=option)
    try:
        figure.savefig(path)
    except OSError as err:
        raise ValueError(f"{option} {path!r} could not be written: {err.strerror or err}") from None
    return path


LAYOUTS = ("overlay", "grid")


def _lr_axis_scale(ax, log_y: bool) -> None:
    if log_y:
        ax.set_yscale("log", nonpositive="mask")
    else:
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))  # 5e-05, not 0.00005


def _overlay(figure, curves: Sequence[ScheduleCurve], log_y: bool) -> None:
    """All LR curves on one axis; the momentum of the schedules that cycle it below."""
    cycling = [c for c in curves if c.cycles_momentum]
    rows = 2 if cycling else 1
    axes = figure.subplots(rows, 1, sharex=True, squeeze=False, height_ratios=[3, 1.3][:rows])[:, 0]
    styles = ["-", "--", "-.", ":"]  # the colour cycle has 10 colours; beyond that vary the dashes
    colors = {}
    for i, curve in enumerate(curves):
        (line,) = axes[0].plot(curve.steps, curve.lrs, styles[(i // 10) % 4], lw=1.6, label=curve.label)
        colors[id(curve)] = line.get_color()
    axes[0].set_ylabel("learning rate")
    _lr_axis_scale(axes[0], log_y)
    axes[0].grid(True, alpha=0.3)
    axes[0].legend(fontsize="small", loc="best", framealpha=0.85)
    if cycling:
        for curve in cycling:
            axes[1].plot(curve.steps, curve.momentum, color=colors[id(curve)], lw=1.6, label=curve.label)
        axes[1].set_ylabel(" / ".join(sorted({c.momentum_name for c in cycling})))
        axes[1].grid(True, alpha=0.3)
    axes[-1].set_xlabel("optimizer step")


def _grid(figure, curves: Sequence[ScheduleCurve], log_y: bool) -> None:
    """One panel per schedule (shared axes); momentum, where it cycles, dashed on a right-hand axis."""
    cols = min(len(curves), 4)
    rows = math.ceil(len(curves) / cols)
    axes = figure.subplots(rows, cols, sharex=True, sharey=True, squeeze=False).ravel()
    colors = [f"C{i % 10}" for i in range(len(curves))]
    for ax, curve, color in zip(axes, curves, colors, strict=False):  # extra axes are hidden below
        ax.plot(curve.steps, curve.lrs, color=color, lw=1.6, label="learning rate")
        ax.set_title(textwrap.fill(curve.label, 38), fontsize="small")
        ax.grid(True, alpha=0.3)
        _lr_axis_scale(ax, log_y)
        if curve.cycles_momentum:
            twin = ax.twinx()
            twin.plot(curve.steps, curve.momentum, color="0.35", lw=1.2, ls="--", label=curve.momentum_name)
            twin.set_ylabel(f"{curve.momentum_name} (dashed)", fontsize="small")
            twin.tick_params(labelsize="small")
    for ax in axes[len(curves) :]:
        ax.set_visible(False)
    for ax in axes.reshape(rows, cols)[:, 0]:
        ax.set_ylabel("learning rate")
    for i, ax in enumerate(axes[: len(curves)]):
        if i + cols >= len(curves):  # lowest panel of its column
            ax.set_xlabel("optimizer step")
            ax.xaxis.set_tick_params(labelbottom=True)


def plot_curves(
    curves: Sequence[ScheduleCurve],
    *,
    layout: str = "overlay",
    log_y: bool = False,
    title: str | None = None,
    output: str | os.PathLike | None = None,
    figsize: tuple[float, float] | None = None,
):
    """Plot ``curves``: overlaid, or one panel each.

    ``layout="overlay"`` draws every LR curve on one axis, with a second panel for momentum/beta1
    when a schedule cycles it; ``layout="grid"`` gives each schedule its own panel (shared axes),
    with the momentum it cycles dashed on a right-hand axis. Each LR curve is a ``Line2D`` whose
    data are the curve's ``steps`` and ``lrs``, labelled with :attr:`ScheduleCurve.label`.

    Args:
      curves: from :func:`schedule_curves`.
      layout: ``"overlay"`` or ``"grid"``.
      log_y: logarithmic LR axis (steps where the LR is 0 are left out).
      title: figure title.
      output: write the figure there too (PNG, SVG, PDF, ... by extension).
      figsize: inches; default depends on the layout.

    Returns:
      A ``matplotlib.figure.Figure`` on the Agg canvas (shown inline by notebooks; ``savefig`` works).

    Examples:
      >>> fig = plot_curves(schedule_curves(["linear", "sgdr"], 50, 5), layout="grid")
      >>> [ax.get_title() for ax in fig.axes]
      ['linear', 'sgdr']
    """
    Figure = _figure_class()
    check_choice("layout", layout, LAYOUTS)
    if not curves:
        raise ValueError("curves is empty: nothing to plot")
    if output is not None:
        check_output_path(output)
    if layout == "overlay":
        size = (9.0, 6.5 if any(c.cycles_momentum for c in curves) else 4.8)
    else:
        cols = min(len(curves), 4)
        size = (3.6 * cols + 0.6, 2.9 * math.ceil(len(curves) / cols) + 0.6)
    figure = Figure(figsize=figsize or size, dpi=100, layout="constrained")
    (_overlay if layout == "overlay" else _grid)(figure, curves, log_y)
    warmups = "/".join(sorted({str(c.num_warmup_steps) for c in curves}))
    steps = "/".join(sorted({str(len(c.steps)) for c in curves}))
    figure.suptitle(title or f"LR schedules ({steps} steps, warmup {warmups})")
    if output is not None:
        save_figure(figure, output)
    return figure


def plot_schedules(
    names: Sequence[str],
    num_training_steps: int,
    num_warmup_steps: int | float = 0,
    *,
    lr: float = 5e-5,
    options: Mapping[str, Mapping[str, Any] | str] | None = None,
    optimizer: str = "adamw",
    layout: str = "overlay",
    log_y: bool = False,
    title: str | None = None,
    output: str | os.PathLike | None = None,
) -> SchedulePlot:
    """Build, step and plot the named schedules: the Python side of ``hf-lrsched plot``.

    Args:
      names: schedule names.
      num_training_steps: updates to draw.
      num_warmup_steps: warmup steps (or fraction), for every schedule.
      lr: the optimizer's LR.
      options: name -> ``lr_scheduler_kwargs`` (dict or JSON).
      optimizer: ``"adamw"`` or ``"sgd"``.
      layout: ``"overlay"`` or ``"grid"`` (see :func:`plot_curves`).
      log_y: logarithmic LR axis.
      title: figure title.
      output: also save the figure there.

    Returns:
      ``SchedulePlot(figure, curves)``.

    Examples:
      >>> fig, curves = plot_schedules(["one_cycle", "cosine"], 200, 20, lr=1e-3)
      >>> len(fig.axes), float(curves[0].lrs.max())
      (2, 0.001)
    """
    if output is not None:
        check_output_path(output)
    curves = schedule_curves(names, num_training_steps, num_warmup_steps, lr=lr, options=options, optimizer=optimizer)
    figure = plot_curves(curves, layout=layout, log_y=log_y, title=title, output=output)
    return SchedulePlot(figure, curves)
