"""Plots of LR (and momentum) curves: the Python side of ``hf-lrsched plot``.

The curves come from :mod:`hf_lrsched._tools.curves` (read off a real optimizer, never re-computed), the
figures from :mod:`hf_lrsched._tools.figures` (Agg canvas, no display needed); both are re-exported here,
so ``hf_lrsched.plotting`` is the one import for plotting. matplotlib is needed only for
:func:`plot_curves` / :func:`plot_schedules` (``pip install hf-lrsched[plot]``).
"""

from __future__ import annotations

import math
import os
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from ._checks.validation import check_choice
from ._tools.curves import ScheduleCurve, schedule_curve, schedule_curves
from ._tools.figures import _figure_class, check_output_path, new_figure, save_figure  # noqa: F401  (lr_choice reads _figure_class here)

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


class SchedulePlot(NamedTuple):
    """What :func:`plot_schedules` returns: the figure and the curves drawn in it."""

    figure: Any
    curves: list[ScheduleCurve]


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
    figure = new_figure(figsize=figsize or size)
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
