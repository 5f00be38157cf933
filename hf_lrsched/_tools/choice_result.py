"""What :func:`hf_lrsched.choose_lr` returns: the chosen LR, the probes behind it, and their plot."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["LRChoice"]


@dataclass
class LRChoice:
    """The outcome of :func:`choose_lr`.

    Attributes:
      lr: the chosen LR for the run (the schedule's LR argument: peak / ``max_lr`` / base LR).
      probe_lr: the best peak LR for a probe (interpolated between grid points).
      probe_lrs: peak LR of each probe, in the order run.
      heldout_losses: held-out loss after each probe (``inf`` where the loss became NaN/inf).
      probe_steps: updates per probe.
      num_training_steps: updates of the real run.
      horizon_factor: ``(probe_steps / num_training_steps) ** horizon_exponent``;
        ``lr = probe_lr * horizon_factor``.
      schedule: the schedule name the probes were shaped like.
      multipliers: the compressed schedule (LR of each probe update / the probe's peak).
      heldout_examples: examples in the held-out slice (this process).
      bracketed: the best probe had a worse neighbour on both sides.
      seconds: wall time of the whole choice.
      horizon_exponent: the exponent of the horizon rule (default 1/2).
      reliable: the probes moved the held-out loss beyond its noise and bracketed their optimum; when
        not, ``lr`` is ``fallback_lr`` and ``reason`` says why.
      reason: why the probes cannot be trusted (``""`` when they can).
      probe_choice: what the probes chose (``probe_lr * horizon_factor``), used or not.
      fallback_lr: the LR used when the probes cannot be trusted (the run's own LR by default).
      start_loss: held-out loss before any probe.
      movement: ``start_loss`` minus the best probe's held-out loss.
      noise: standard error of ``movement`` over the held-out pieces of 8 examples (paired: the same
        examples before and after).
    """

    lr: float
    probe_lr: float
    probe_lrs: list[float]
    heldout_losses: list[float]
    probe_steps: int
    num_training_steps: int
    horizon_factor: float
    schedule: str
    multipliers: list[float] = field(default_factory=list)
    heldout_examples: int = 0
    bracketed: bool = True
    seconds: float = 0.0
    horizon_exponent: float = 0.5
    reliable: bool = True
    reason: str = ""
    probe_choice: float = math.nan
    fallback_lr: float | None = None
    start_loss: float = math.nan
    movement: float = math.nan
    noise: float = math.nan

    @property
    def suggestion(self) -> float:
        """The chosen LR (the name :class:`hf_lrsched.LRFinderResult` uses)."""
        return self.lr

    def __str__(self) -> str:
        tried = ", ".join(f"{lr:.3g}: {loss:.4f}" for lr, loss in sorted(zip(self.probe_lrs, self.heldout_losses)))
        edge = "" if self.bracketed else "; best probe at the edge of the search"
        before = f"{self.start_loss:.4f} before, " if math.isfinite(self.start_loss) else ""
        probes = (
            f"probe optimum {self.probe_lr:.3g} x {self.horizon_text} ({len(self.probe_lrs)} probes of "
            f"{self.probe_steps} updates, held-out loss {before}{tried}; {self.seconds:.1f} s{edge})"
        )
        if self.reliable:
            return f"LR choice for {self.schedule}: {self.lr:.3g} = {probes}"
        return (
            f"LR choice for {self.schedule}: {self.lr:.3g}, the fallback; the probes' {self.probe_choice:.3g} "
            f"(= {probes}) is not used: {self.reason}"
        )

    @property
    def warning(self) -> str:
        """One line for the log when the probes cannot be trusted (``""`` when they can)."""
        if self.reliable:
            return ""
        return (
            f"the LR choice cannot be trusted ({self.reason}); using the fallback learning rate "
            f"{self.lr:.3g} instead of the probes' {self.probe_choice:.3g}"
        )

    @property
    def horizon_text(self) -> str:
        """The horizon rule as applied, e.g. ``(6/96)^(1/3)``."""
        exponent = {0.5: "1/2", 1 / 3: "1/3"}.get(self.horizon_exponent, f"{self.horizon_exponent:g}")
        return f"({self.probe_steps}/{self.num_training_steps})^({exponent})"

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-serialisable); non-finite losses become ``None``."""

        def finite(x):
            return x if math.isfinite(x) else None

        return {
            "method": "probes",
            "suggestion": self.lr,
            "probe_lr": self.probe_lr,
            "probe_lrs": list(self.probe_lrs),
            "heldout_losses": [finite(x) for x in self.heldout_losses],
            "probe_steps": self.probe_steps,
            "num_training_steps": self.num_training_steps,
            "horizon_factor": self.horizon_factor,
            "horizon_exponent": self.horizon_exponent,
            "schedule": self.schedule,
            "multipliers": list(self.multipliers),
            "heldout_examples": self.heldout_examples,
            "bracketed": self.bracketed,
            "seconds": self.seconds,
            "reliable": self.reliable,
            "reason": self.reason,
            "probe_choice": finite(self.probe_choice),
            "fallback_lr": self.fallback_lr,
            "start_loss": finite(self.start_loss),
            "movement": finite(self.movement),
            "noise": finite(self.noise),
        }

    def plot(self, path: str | os.PathLike | None = None, *, title: str | None = None):
        """Held-out loss after each probe against its peak LR (log x), with the probe optimum and the chosen LR.

        Args:
          path: also write the figure there (PNG, SVG, PDF by extension).
          title: figure title.

        Returns:
          The ``matplotlib.figure.Figure`` (Agg canvas).

        Examples:
          >>> choice = LRChoice(1e-4, 4e-4, [2e-4, 4e-4, 8e-4], [0.6, 0.5, 0.7], 6, 96, 0.25, "linear")
          >>> figure = choice.plot()
          >>> [line.get_label() for line in figure.axes[0].get_lines()][1:]
          ['probe optimum 0.0004', 'chosen LR 0.0001 (x (6/96)^(1/2))']
        """
        from .figures import check_output_path, new_figure, save_figure

        if path is not None:
            check_output_path(path, option="path")
        figure = new_figure(figsize=(7.5, 4.6))
        ax = figure.subplots()
        order = np.argsort(self.probe_lrs)
        lrs = np.asarray(self.probe_lrs)[order]
        losses = np.asarray(self.heldout_losses, dtype=float)[order]
        shown = np.isfinite(losses)
        ax.plot(lrs[shown], losses[shown], "o-", color="C0", label="held-out loss after each probe")
        ax.axvline(self.probe_lr, color="C1", ls="--", label=f"probe optimum {self.probe_lr:.2g}")
        if math.isfinite(self.start_loss):
            ax.axhline(self.start_loss, color="0.5", ls=":", label=f"before the probes {self.start_loss:.4f}")
        if self.reliable:
            label = f"chosen LR {self.lr:.2g} (x {self.horizon_text})"
        else:
            label = f"fallback LR {self.lr:.2g} (probes not trusted)"
        ax.axvline(self.lr, color="C3", lw=2, label=label)
        ax.set_xscale("log")
        ax.set_xlabel("peak learning rate")
        ax.set_ylabel("held-out training-data loss")
        ax.grid(True, which="both", alpha=0.25)
        ax.legend(fontsize="small")
        ax.set_title(
            title
            or f"LR choice ({self.schedule}): {len(self.probe_lrs)} probes of {self.probe_steps} updates, "
            f"{self.heldout_examples} held-out examples",
            fontsize="medium",
        )
        if path is not None:
            save_figure(figure, path, option="path")
        return figure
