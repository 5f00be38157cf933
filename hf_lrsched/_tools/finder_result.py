"""The outcome of an LR range test (:class:`LRFinderResult`): the curve, LR suggestions and its plot."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._checks.validation import check_choice

__all__ = ["LRFinderResult", "SUGGESTION_METHODS"]

#: How :meth:`LRFinderResult.suggest` can pick an LR.
SUGGESTION_METHODS = ("valley", "steepest", "minimum")


def _valley_index(values: Sequence[float]) -> int:
    """Index halfway down the longest valley of ``values`` (fastai's ``valley`` rule).

    The valley's length ``L`` is that of the longest strictly decreasing subsequence (noise makes
    the descent ragged, so its points need not be adjacent) and it is taken to be the ``L`` points
    that end where that subsequence ends, at the bottom; the suggestion sits about halfway along.
    """
    n = len(values)
    longest = [1] * n  # longest decreasing subsequence ending at i
    for i in range(n):
        for j in range(i):
            if values[j] > values[i] and longest[j] + 1 > longest[i]:
                longest[i] = longest[j] + 1
    end = max(range(n), key=lambda i: (longest[i], -i))
    length = longest[end]
    start = max(end - length, 0)
    return min(start + length // 3 + length // 6, n - 1)


@dataclass
class LRFinderResult:
    """The outcome of :func:`find_lr`.

    Attributes:
      lrs: the LR of every recorded update.
      losses: the raw training loss of each update (mean over accumulated batches and processes).
      smoothed_losses: bias-corrected exponential moving average of ``losses`` (weight ``smooth_f``).
      start_lr, end_lr, num_steps, mode: the range asked for.
      stopped_early: the loss diverged (or became NaN/inf) before ``num_steps``.
      stop_reason: why the test ended.
      default_method: the method :attr:`suggestion` uses.
    """

    lrs: list[float]
    losses: list[float]
    smoothed_losses: list[float]
    start_lr: float
    end_lr: float
    num_steps: int
    mode: str = "exp"
    stopped_early: bool = False
    stop_reason: str = ""
    default_method: str = "valley"
    suggestions: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.lrs and not self.suggestions:
            self.suggestions = {method: self.suggest(method) for method in SUGGESTION_METHODS}

    @property
    def suggestion(self) -> float:
        """The suggested LR by :attr:`default_method`."""
        return self.suggestions[self.default_method]

    def _window(self) -> tuple[int, int]:
        """Indices to search: skip the first 10% (noisy start) and the last few (divergence)."""
        n = len(self.lrs)
        skip_start = n // 10
        skip_end = min(5, n // 10)
        if n - skip_start - skip_end < 3:
            return 0, n
        return skip_start, n - skip_end

    def suggest(self, method: str = "valley") -> float:
        """Suggest an LR from the smoothed loss curve.

        * ``"valley"``: as fastai's ``valley``: the longest stretch over which the smoothed loss
          keeps falling (its length is that of the longest decreasing subsequence, and it ends
          where that subsequence bottoms out), and the LR about halfway along it.
        * ``"steepest"``: where the smoothed loss falls fastest (most negative slope against
          log LR in ``exp`` mode, against LR in ``linear`` mode).
        * ``"minimum"``: a tenth of the LR at the lowest smoothed loss (not below ``lrs[0]``).

        The first 10% and the last few points are left out of the search when there are enough.

        Args:
          method: one of ``SUGGESTION_METHODS``.

        Returns:
          An LR within the tested range.

        Examples:
          >>> lrs = [10 ** (k / 4 - 6) for k in range(25)]  # 1e-6 .. 1, four steps per decade
          >>> losses = [1.0] * 8 + [0.98, 0.94, 0.85, 0.7, 0.4, 0.3, 0.27, 0.25, 0.3, 0.5, 1.0] + [3.0] * 6
          >>> result = LRFinderResult(lrs, losses, losses, 1e-6, 1.0, 25)
          >>> [lrs.index(result.suggest(m)) for m in ("valley", "steepest", "minimum")]
          [10, 11, 11]

          The loss falls fastest from step 11 to 12; it is lowest at step 15, and a tenth of
          ``lrs[15]`` is ``lrs[11]``.
        """
        check_choice("method", method, SUGGESTION_METHODS)
        if not self.lrs:
            raise ValueError("no losses were recorded: nothing to suggest from")
        lo, hi = self._window()
        lrs = np.asarray(self.lrs[lo:hi], dtype=float)
        losses = np.asarray(self.smoothed_losses[lo:hi], dtype=float)
        if method == "minimum":
            return float(max(lrs[int(np.argmin(losses))] / 10.0, self.lrs[0]))
        if len(lrs) < 2:
            return float(lrs[0])
        if method == "steepest":
            x = np.log(lrs) if self.mode == "exp" else lrs
            return float(lrs[int(np.argmin(np.gradient(losses, x)))])
        return float(lrs[_valley_index(losses.tolist())])

    def __str__(self) -> str:
        picks = ", ".join(f"{m}={v:.3g}" for m, v in self.suggestions.items())
        span = f"{len(self.lrs)} steps from {self.lrs[0]:.3g} to {self.lrs[-1]:.3g}" if self.lrs else "no steps"
        return f"LR range test: {span} ({self.stop_reason}); suggested LR {self.suggestion:.3g} [{picks}]"

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-serialisable)."""
        return {
            "lrs": list(self.lrs),
            "losses": list(self.losses),
            "smoothed_losses": list(self.smoothed_losses),
            "start_lr": self.start_lr,
            "end_lr": self.end_lr,
            "num_steps": self.num_steps,
            "mode": self.mode,
            "stopped_early": self.stopped_early,
            "stop_reason": self.stop_reason,
            "suggestions": dict(self.suggestions),
            "suggestion": self.suggestion if self.lrs else None,
        }

    def plot(self, path: str | os.PathLike | None = None, *, title: str | None = None, show_raw: bool = True):
        """Loss against LR (log x in ``exp`` mode), with every suggestion marked.

        Args:
          path: also write the figure there (PNG, SVG, PDF by extension); errors name ``path``.
          title: figure title.
          show_raw: draw the raw losses faintly behind the smoothed curve.

        Returns:
          The ``matplotlib.figure.Figure`` (Agg canvas).

        Examples:
          >>> lrs, losses = [1e-4, 1e-3, 1e-2, 1e-1], [1.0, 0.8, 0.5, 2.0]
          >>> result = LRFinderResult(lrs, losses, [1.0, 0.9, 0.7, 1.2], 1e-4, 1e-1, 4)
          >>> figure = result.plot()
          >>> [line.get_label() for line in figure.axes[0].get_lines()][:2]
          ['loss', 'smoothed loss']
        """
        from ..plotting import check_output_path, new_figure, save_figure

        if path is not None:
            check_output_path(path, option="path")
        figure = new_figure(figsize=(7.5, 4.6))
        ax = figure.subplots()
        if show_raw:
            ax.plot(self.lrs, self.losses, color="0.75", lw=1.0, label="loss")
        ax.plot(self.lrs, self.smoothed_losses, color="C0", lw=1.8, label="smoothed loss")
        markers = {"valley": ("o", "C3"), "steepest": ("s", "C2"), "minimum": ("^", "C1")}
        for method, lr in self.suggestions.items():
            marker, color = markers[method]
            y = float(np.interp(np.log(lr), np.log(self.lrs), self.smoothed_losses))
            star = " (default)" if method == self.default_method else ""
            ax.plot([lr], [y], marker, color=color, ms=9, ls="none", label=f"{method}: {lr:.2g}{star}")
        if self.mode == "exp":
            ax.set_xscale("log")
        # Frame the descent: from the lowest smoothed loss to a little above where it started, so the
        # divergence at the end does not flatten the part of the curve that matters.
        first, low = self.smoothed_losses[0], min(self.smoothed_losses)
        drop = max(first - low, 0.02 * abs(first), 1e-12)
        ax.set_ylim(low - 0.3 * drop, first + 2.0 * drop)
        ax.set_xlabel("learning rate")
        ax.set_ylabel("training loss")
        ax.grid(True, which="both", alpha=0.25)
        ax.legend(fontsize="small")
        ending = "stopped early: " + self.stop_reason if self.stopped_early else self.stop_reason
        ax.set_title(title or f"LR range test, {len(self.lrs)} steps ({ending})", fontsize="medium")
        if path is not None:
            save_figure(figure, path, option="path")
        return figure
