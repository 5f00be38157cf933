"""Choose the LR of a fine-tuning run from short probes of the run itself, scored on held-out training data.

An LR range test reads the *training* loss while the LR grows by the step; for a pretrained body
with a new head it points at the LR where the loss still falls within one step (often ~1e-3),
far above what a whole run of many steps tolerates. :func:`choose_lr` asks the question the run
asks instead:

1. **Held-out slice.** ``heldout_batches`` batches of the training loader (by default enough for
   128 examples per process) are set aside (never trained on by the probes), and ``probe_steps``
   updates' batches are the probes' training data; both are every 8th batch from the start of the
   epoch (fewer apart if the epoch is short), so that they are typical batches, not the longest
   ones a length-grouped sampler puts first. Only training data is read: no validation split.
2. **Probes.** Each probe restarts from the exact starting state (weights, optimizer, RNGs) and
   trains ``probe_steps`` updates with the run's own schedule *compressed*: the probe's update ``k``
   gets the mean multiplier of the ``k``-th of ``probe_steps`` equal segments of the real schedule
   (so warmup, peak and decay keep their share of the LR area), times the probe's peak LR. Then
   the mean loss on the held-out slice is measured. Every probe sees the same batches and the same
   dropout, so the comparison between LRs is paired.
3. **Bracket search.** Probe peak LRs lie on a geometric grid (``factor`` apart) around
   ``center_lr``; the search extends towards lower held-out loss until the best LR has a worse
   neighbour on each side (or ``max_probes`` is reached). A parabola through the best point and its
   two neighbours (in log LR) places the probe optimum between grid points.
4. **Horizon.** A probe is ``probe_steps`` updates long, the run ``num_training_steps``. The LR
   that is best for ``T`` updates shrinks like ``T**-beta``, so the result is
   ``probe optimum * (probe_steps / num_training_steps)**beta``. ``beta`` depends on the optimizer:

   * ``1/3`` for optimizers that normalise their steps (the Adam family: param groups with
     ``betas``). Bjorck et al., "Scaling Optimal LR Across Token Horizons" (ICLR 2025), measure
     the AdamW-optimal LR falling as ``D**-0.32`` with the training horizon ``D``.
   * ``1/2`` otherwise (SGD): the fixed step size that minimises SGD's error bound after ``T``
     steps (noise grows with the LR, progress with LR x steps).

The value returned is the schedule's LR argument: the peak (``max_lr``) for ``one_cycle``, the base
LR for warmup schedules and transformers' ``linear``/``cosine``. Everything the probes touch is
restored exactly afterwards, as :func:`hf_lrsched.find_lr` does.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .lr_finder import _batches, _default_loss, _is_trainer, _Snapshot, _trainer_loss

__all__ = [
    "LRChoice",
    "choose_lr",
    "choose_lr_for_trainer",
    "compressed_schedule",
    "default_horizon_exponent",
    "install_trainer_hook",
    "record_choice",
]

logger = logging.getLogger(__name__)
CHOICE_JSON = "lr_choice.json"
CHOICE_PLOT = "lr_choice.png"
HELDOUT_EXAMPLES = 128
SPREAD_STRIDE = 8  # take every 8th batch (at most) for the probes and the held-out slice

_CURVE_MAX_STEPS = 20_000  # longer schedules are drawn at this resolution (the shape is what matters)


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
      horizon_exponent: ``beta`` of the horizon rule (1/3 for the Adam family, 1/2 for SGD).
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

    @property
    def suggestion(self) -> float:
        """The chosen LR (the name :class:`hf_lrsched.LRFinderResult` uses)."""
        return self.lr

    def __str__(self) -> str:
        tried = ", ".join(f"{lr:.3g}: {loss:.4f}" for lr, loss in sorted(zip(self.probe_lrs, self.heldout_losses)))
        edge = "" if self.bracketed else "; best probe at the edge of the search"
        return (
            f"LR choice for {self.schedule}: {self.lr:.3g} = probe optimum {self.probe_lr:.3g} x "
            f"{self.horizon_text} ({len(self.probe_lrs)} probes of {self.probe_steps} "
            f"updates, held-out loss {tried}; {self.seconds:.1f} s{edge})"
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
        from .plotting import _figure_class, check_output_path, save_figure

        if path is not None:
            check_output_path(path, option="path")
        figure = _figure_class()(figsize=(7.5, 4.6), dpi=100, layout="constrained")
        ax = figure.subplots()
        order = np.argsort(self.probe_lrs)
        lrs = np.asarray(self.probe_lrs)[order]
        losses = np.asarray(self.heldout_losses, dtype=float)[order]
        shown = np.isfinite(losses)
        ax.plot(lrs[shown], losses[shown], "o-", color="C0", label="held-out loss after each probe")
        ax.axvline(self.probe_lr, color="C1", ls="--", label=f"probe optimum {self.probe_lr:.2g}")
        ax.axvline(
            self.lr,
            color="C3",
            lw=2,
            label=f"chosen LR {self.lr:.2g} (x {self.horizon_text})",
        )
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


# --------------------------------------------------------------------------------------------------
# The schedule, compressed.
# --------------------------------------------------------------------------------------------------


def compressed_schedule(
    name: str,
    num_training_steps: int,
    probe_steps: int,
    num_warmup_steps: int | float = 0,
    options: Mapping[str, Any] | str | None = None,
) -> list[float]:
    """The real schedule squeezed into ``probe_steps`` updates, as multipliers of the peak LR.

    The run's ``num_training_steps`` updates are cut into ``probe_steps`` equal segments; probe
    update ``k`` gets the mean LR multiplier of segment ``k``, so every part of the schedule (warmup,
    peak, decay) keeps its share of the area under the LR curve.

    Args:
      name: schedule name (``lr_scheduler_type``).
      num_training_steps: updates of the real run (>= 2).
      probe_steps: updates of a probe (>= 1, at most ``num_training_steps``).
      num_warmup_steps: the run's warmup, in steps or as a fraction of the run.
      options: the schedule's ``lr_scheduler_kwargs``.

    Returns:
      ``probe_steps`` multipliers (LR / the optimizer's LR argument).

    Examples:
      >>> [round(m, 3) for m in compressed_schedule("linear", 8, 4)]  # 1, 7/8, ..., 1/8 in pairs
      [0.938, 0.688, 0.438, 0.188]
      >>> [round(m, 3) for m in compressed_schedule("constant_with_warmup", 10, 2, 4)]
      [0.5, 1.0]
    """
    from .plotting import schedule_curve

    if isinstance(num_training_steps, bool) or not isinstance(num_training_steps, int) or num_training_steps < 2:
        raise ValueError(f"num_training_steps must be an int >= 2, got {num_training_steps!r}")
    if isinstance(probe_steps, bool) or not isinstance(probe_steps, int) or not 1 <= probe_steps <= num_training_steps:
        raise ValueError(
            f"probe_steps must be an int in [1, num_training_steps={num_training_steps}], got {probe_steps!r}"
        )
    steps = min(num_training_steps, _CURVE_MAX_STEPS)
    warmup = num_warmup_steps
    if steps < num_training_steps and isinstance(warmup, int) and warmup >= 1:
        warmup = warmup / num_training_steps  # keep its share of the run at the coarser resolution
    lrs = schedule_curve(name, steps, warmup, lr=1.0, options=options).lrs
    edges = np.linspace(0, steps, probe_steps + 1)
    cumulative = np.concatenate([[0.0], np.cumsum(lrs)])
    # Mean of the piecewise-constant curve over [edges[k], edges[k+1]) (fractional edges interpolate).
    area = np.interp(edges, np.arange(steps + 1), cumulative)
    return (np.diff(area) / np.diff(edges)).tolist()


# --------------------------------------------------------------------------------------------------
# One probe.
# --------------------------------------------------------------------------------------------------


@dataclass
class _Stepper:
    """One optimizer update on given batches, as the training loop makes it (backward, clip, step)."""

    model: Any
    optimizer: Any
    accelerator: Any
    loss_fn: Callable
    max_grad_norm: float | None

    def __post_init__(self) -> None:
        from accelerate.optimizer import AcceleratedOptimizer

        acc = self.accelerator
        # As find_lr: accelerator.backward needs a prepared optimizer when it scales the loss (fp16).
        self.use_accelerator = acc is not None and (
            getattr(acc, "scaler", None) is None or isinstance(self.optimizer, AcceleratedOptimizer)
        )
        self.autocast = acc.autocast if acc is not None else None
        # accelerator.backward divides by its gradient_accumulation_steps: undo it, we accumulate here.
        self.undo_division = getattr(acc, "gradient_accumulation_steps", 1) if self.use_accelerator else 1

    def loss(self, batch) -> torch.Tensor:
        if self.autocast is not None:
            with self.autocast():
                return self.loss_fn(self.model, batch)
        return self.loss_fn(self.model, batch)

    def update(self, batches: list, lr: float) -> float:
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.optimizer.zero_grad(set_to_none=True)
        total = 0.0
        for batch in batches:
            loss = self.loss(batch)
            scaled = loss * (self.undo_division / len(batches))
            if self.use_accelerator:
                self.accelerator.backward(scaled)
            else:
                scaled.backward()
            total += float(loss.detach())
        if self.max_grad_norm:
            params = [p for g in self.optimizer.param_groups for p in g["params"]]
            if self.use_accelerator:
                self.accelerator.clip_grad_norm_(params, self.max_grad_norm)
            else:
                torch.nn.utils.clip_grad_norm_(params, self.max_grad_norm)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return total / len(batches)

    def heldout_loss(self, batches: list) -> float:
        """Mean loss over the held-out batches, averaged over processes (all processes get the same value)."""
        training = self.model.training
        self.model.eval()
        with torch.no_grad():
            losses = torch.stack([self.loss(batch).detach().float() for batch in batches]).mean()
        self.model.train(training)
        acc = self.accelerator
        if acc is not None and getattr(acc, "num_processes", 1) > 1:
            losses = acc.reduce(losses.to(acc.device), reduction="mean")
        value = float(losses)
        return value if math.isfinite(value) else math.inf


# --------------------------------------------------------------------------------------------------
# The search.
# --------------------------------------------------------------------------------------------------


def _parabola_vertex(x: list[float], y: list[float]) -> float:
    """Vertex of the parabola through three points with ``x`` equally spaced; ``x[1]`` if it is not a minimum."""
    denominator = y[0] - 2 * y[1] + y[2]
    if not all(math.isfinite(v) for v in y) or denominator <= 0:
        return x[1]
    step = x[1] - x[0]
    offset = 0.5 * (y[0] - y[2]) / denominator  # in units of step, within [-0.5, 0.5] when y[1] is the lowest
    return x[1] + step * max(-0.5, min(0.5, offset))


@dataclass
class _Search:
    probe_lr: float
    tried: dict[int, float]  # grid index k -> held-out loss after the probe at center_lr * factor**k
    bracketed: bool
    heldout_examples: int = 0


def _search(score: Callable[[float], float], center_lr: float, factor: float, max_probes: int) -> _Search:
    """Bracket the lowest score on the grid ``center_lr * factor**k``, then interpolate between grid points."""
    tried: dict[int, float] = {}

    def probe(k: int) -> float:
        tried[k] = score(center_lr * factor**k)
        return tried[k]

    # Down first (fine-tuning wants the lower side more often); for a unimodal curve a better point
    # below the center means the minimum is below it, so the point above is never needed (and vice versa).
    probe(0)
    step = -1 if probe(-1) < tried[0] else 1
    if step == 1:
        probe(1)
    k = step
    while len(tried) < max_probes and tried.get(k, math.inf) < tried[k - step]:
        k += step
        probe(k)
    best = min(tried, key=lambda k: (tried[k], k))
    bracketed = best - 1 in tried and best + 1 in tried
    if bracketed:
        ks = [best - 1, best, best + 1]
        k_opt = _parabola_vertex([float(k) for k in ks], [tried[k] for k in ks])
    else:
        k_opt = float(best)
    return _Search(center_lr * factor**k_opt, tried, bracketed)


def _batch_size(batch) -> int:
    if isinstance(batch, Mapping):
        batch = next((v for v in batch.values() if isinstance(v, torch.Tensor)), None)
    elif isinstance(batch, (list, tuple)) and batch:
        batch = batch[0]
    return int(batch.shape[0]) if isinstance(batch, torch.Tensor) and batch.dim() > 0 else 1


def _draw_batches(dataloader, heldout_batches: int | None, probe_steps: int, accumulation_steps: int):
    """The held-out batches and each probe update's batches, spread over the start of the epoch.

    Taking the first batches would take whatever the sampler puts first: a length-grouped sampler
    puts the longest batches there (slow probes, a slice of long texts only). So every
    ``stride``-th batch is taken (``stride`` up to ``SPREAD_STRIDE``, as far as the epoch allows),
    and the held-out ones are spread evenly among the picks.
    """
    stream = _batches(dataloader)
    try:
        first = next(stream)
        if heldout_batches is None:  # 128 examples: the same slice whatever the batch size
            heldout_batches = max(2, math.ceil(HELDOUT_EXAMPLES / _batch_size(first)))
        needed = heldout_batches + probe_steps * accumulation_steps
        try:
            per_epoch = len(dataloader)
        except TypeError:  # an iterable without a length: consecutive batches
            per_epoch = needed
        stride = max(1, min(SPREAD_STRIDE, per_epoch // needed))
        picks = [first]
        for index in range(1, (needed - 1) * stride + 1):
            batch = next(stream)
            if index % stride == 0:
                picks.append(batch)
    finally:
        stream.close()
    held = {round(j * needed / heldout_batches) for j in range(heldout_batches)}
    heldout = [b for i, b in enumerate(picks) if i in held]
    rest = iter(b for i, b in enumerate(picks) if i not in held)
    return heldout, [[next(rest) for _ in range(accumulation_steps)] for _ in range(probe_steps)]


def _probe_and_search(
    model,
    optimizer,
    dataloader,
    *,
    accelerator,
    loss_fn,
    multipliers,
    heldout_batches,
    accumulation_steps,
    max_grad_norm,
    center_lr,
    factor,
    max_probes,
    show_progress,
) -> _Search:
    """Draw the held-out and probe batches once, then run the search; the caller restores the state."""
    from accelerate.utils import send_to_device
    from tqdm.auto import tqdm

    if accelerator is not None:
        device = accelerator.device
    else:
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
    heldout, updates = _draw_batches(dataloader, heldout_batches, len(multipliers), accumulation_steps)
    heldout = [send_to_device(b, device) for b in heldout]
    updates = [[send_to_device(b, device) for b in group] for group in updates]
    stepper = _Stepper(model, optimizer, accelerator, loss_fn, max_grad_norm)
    start = _Snapshot(model, optimizer, dataloader, accelerator)  # every probe starts here, RNGs included
    model.train()
    main = accelerator is None or accelerator.is_local_main_process
    progress = tqdm(total=max_probes, desc="LR choice probes", disable=not (show_progress and main), leave=False)

    def score(peak: float) -> float:
        start.restore()
        model.train()
        # No early exit on a NaN training loss: every process must make the same collective calls.
        for multiplier, batches in zip(multipliers, updates, strict=True):
            stepper.update(batches, peak * multiplier)
        loss = stepper.heldout_loss(heldout)
        progress.update(1)
        progress.set_postfix(lr=f"{peak:.2e}", heldout=f"{loss:.4f}")
        return loss

    try:
        search = _search(score, center_lr, factor, max_probes)
    finally:
        progress.close()
    search.heldout_examples = sum(_batch_size(b) for b in heldout)
    return search


ADAPTIVE_HORIZON_EXPONENT = 1 / 3  # Adam family: Bjorck et al. (ICLR 2025) measure D**-0.32 for AdamW
SGD_HORIZON_EXPONENT = 1 / 2  # SGD's fixed-step error bound after T steps is smallest at LR ~ 1/sqrt(T)


def default_horizon_exponent(optimizer) -> float:
    """``beta`` of the horizon rule ``best LR ~ T**-beta`` for ``optimizer``.

    Optimizers that normalise each step by a running gradient scale (the Adam family, recognised
    by ``betas`` in a param group) take steps whose size hardly depends on the gradient's size, so
    their best LR falls more slowly with the run's length than SGD's.

    Args:
      optimizer: a torch optimizer (or an accelerate-wrapped one).

    Returns:
      ``1/3`` for the Adam family, ``1/2`` otherwise.

    Examples:
      >>> p = [torch.nn.Parameter(torch.zeros(1))]
      >>> default_horizon_exponent(torch.optim.AdamW(p)), default_horizon_exponent(torch.optim.SGD(p, lr=0.1))
      (0.3333333333333333, 0.5)
    """
    adaptive = any("betas" in group for group in optimizer.param_groups)
    return ADAPTIVE_HORIZON_EXPONENT if adaptive else SGD_HORIZON_EXPONENT


def _check(name: str, value, low: float, *, integer: bool = False, above: bool = False) -> None:
    bad = isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
    if integer:
        bad = bad or not isinstance(value, int)
    if bad or value < low or (above and value == low):
        kind = "an int" if integer else "a number"
        raise ValueError(f"{name} must be {kind} {'>' if above else '>='} {low:g}, got {value!r}")


def _trainer_setup(trainer, num_training_steps, schedule, num_warmup_steps, schedule_options):
    """The run's length and schedule as the Trainer's arguments define them."""
    args = trainer.args
    loader = trainer.get_train_dataloader()
    if num_training_steps is None:
        if args.max_steps and args.max_steps > 0:
            num_training_steps = int(args.max_steps)
        else:
            per_epoch = max(len(loader) // args.gradient_accumulation_steps, 1)
            num_training_steps = math.ceil(args.num_train_epochs * per_epoch)
    if schedule is None:
        schedule = str(getattr(args.lr_scheduler_type, "value", args.lr_scheduler_type))
        if schedule_options is None:
            schedule_options = args.lr_scheduler_kwargs or None
        if num_warmup_steps is None:
            ratio = getattr(args, "warmup_ratio", 0) or 0
            num_warmup_steps = args.warmup_steps if args.warmup_steps else ratio
    return loader, num_training_steps, schedule, num_warmup_steps, schedule_options


def choose_lr(
    model_or_trainer,
    optimizer=None,
    dataloader=None,
    *,
    num_training_steps: int | None = None,
    schedule: str | None = None,
    num_warmup_steps: int | float | None = None,
    schedule_options: Mapping[str, Any] | str | None = None,
    accelerator=None,
    loss_fn: Callable[[torch.nn.Module, Any], torch.Tensor] | None = None,
    probe_steps: int | None = None,
    heldout_batches: int | None = None,
    center_lr: float = 1e-3,
    factor: float = 2.0,
    max_probes: int = 7,
    accumulation_steps: int | None = None,
    max_grad_norm: float | None = None,
    horizon_exponent: float | None = None,
    show_progress: bool = True,
) -> LRChoice:
    """Choose the run's LR from short probes of its own schedule, scored on held-out training batches.

    See the module docstring for the method. In short: probes of ``probe_steps`` updates with the
    run's schedule compressed, at peak LRs ``center_lr * factor**k``, bracketing the lowest loss on
    the first ``heldout_batches`` training batches (never trained on); the probe optimum
    (parabola-interpolated in log LR) times ``(probe_steps / num_training_steps)**beta`` is the choice
    (``beta`` 1/3 for the Adam family, 1/2 for SGD).
    The model, optimizer (state and param groups), RNGs and data loader are restored exactly.

    Called as :func:`hf_lrsched.find_lr` is: ``choose_lr(trainer)`` (length, schedule and warmup
    read from its ``TrainingArguments``) or ``choose_lr(model, optimizer, dataloader,
    num_training_steps=..., schedule=..., num_warmup_steps=..., accelerator=...)``.

    Args:
      model_or_trainer: a ``torch.nn.Module`` or a ``transformers.Trainer``.
      optimizer: the run's optimizer (not with a Trainer).
      dataloader: the run's training batches (not with a Trainer).
      num_training_steps: optimizer updates of the real run (a Trainer: from its arguments).
      schedule: the run's ``lr_scheduler_type`` (default ``"linear"``; a Trainer: its own).
      num_warmup_steps: the run's warmup, steps or a fraction (default 0; a Trainer: its own).
      schedule_options: the schedule's ``lr_scheduler_kwargs``.
      accelerator: the ``accelerate.Accelerator`` the objects were prepared with (several
        processes: each holds out its own batches; the held-out loss is averaged over processes,
        so every process chooses the same LR).
      loss_fn: ``(model, batch) -> scalar loss``; default ``model(**batch).loss``.
      probe_steps: updates per probe; default ``max(6, ceil(0.05 * num_training_steps))``.
      heldout_batches: training batches held out to score the probes (>= 1); default: enough for
        128 examples per process (at least 2).
      center_lr: first probe peak LR; the search moves from there.
      factor: ratio between neighbouring probe LRs (> 1).
      max_probes: most probes (>= 3).
      accumulation_steps: batches per update (default: the accelerator's, else 1; a Trainer: its own).
      max_grad_norm: gradient clipping in the probes, as the run clips (a Trainer: its own).
      horizon_exponent: ``beta`` in ``lr = probe optimum * (probe_steps / num_training_steps)**beta``,
        in (0, 1]; default :func:`default_horizon_exponent` of the optimizer (1/3 Adam family, 1/2 SGD).
      show_progress: a tqdm bar over the probes (main process).

    Returns:
      An :class:`LRChoice`; ``.lr`` is the value for the schedule's LR argument.

    Examples:
      >>> import torch
      >>> _ = torch.manual_seed(0)
      >>> x = torch.randn(512, 8); y = (x @ torch.randn(8) > 0).long()
      >>> loader = torch.utils.data.DataLoader(list(zip(x, y)), batch_size=32, shuffle=True)
      >>> model = torch.nn.Linear(8, 2)
      >>> opt = torch.optim.AdamW(model.parameters(), lr=0.123)
      >>> before = model.weight.clone()
      >>> choice = choose_lr(model, opt, loader, num_training_steps=64, schedule="linear",
      ...                    loss_fn=lambda m, b: torch.nn.functional.cross_entropy(m(b[0]), b[1]),
      ...                    show_progress=False)
      >>> choice.probe_steps, round(choice.horizon_factor, 3), choice.lr == choice.probe_lr * choice.horizon_factor
      (6, 0.454, True)
      >>> torch.equal(model.weight, before), opt.param_groups[0]["lr"]
      (True, 0.123)
    """
    started = time.perf_counter()
    created_optimizer = False
    trainer = model_or_trainer if _is_trainer(model_or_trainer) else None
    if trainer is not None:
        if optimizer is not None or dataloader is not None or accelerator is not None:
            raise ValueError(
                "with a Trainer, choose_lr uses the Trainer's optimizer, train data loader and accelerator: "
                "do not pass optimizer, dataloader or accelerator"
            )
        model = trainer.model
        dataloader, num_training_steps, schedule, num_warmup_steps, schedule_options = _trainer_setup(
            trainer, num_training_steps, schedule, num_warmup_steps, schedule_options
        )
        if trainer.optimizer is None:
            trainer.create_optimizer()
            created_optimizer = True
        optimizer, accelerator = trainer.optimizer, trainer.accelerator
        loss_fn = loss_fn or _trainer_loss(trainer)
        accumulation_steps = accumulation_steps or trainer.args.gradient_accumulation_steps
        max_grad_norm = trainer.args.max_grad_norm if max_grad_norm is None else max_grad_norm
    else:
        model = model_or_trainer
        if not isinstance(model, torch.nn.Module):
            raise ValueError(f"choose_lr needs a torch.nn.Module or a transformers.Trainer, got {type(model).__name__}")
        if optimizer is None or not hasattr(optimizer, "param_groups"):
            raise ValueError(f"optimizer must be a torch optimizer, got {optimizer!r}")
        if dataloader is None:
            raise ValueError("dataloader is required (an iterable of batches)")
        if num_training_steps is None:
            raise ValueError("num_training_steps is required: the real run's number of optimizer updates")
        accumulation_steps = accumulation_steps or int(getattr(accelerator, "gradient_accumulation_steps", 1) or 1)
    schedule = schedule or "linear"
    num_warmup_steps = 0 if num_warmup_steps is None else num_warmup_steps
    if isinstance(num_warmup_steps, float) and num_warmup_steps >= 1 and num_warmup_steps.is_integer():
        num_warmup_steps = int(num_warmup_steps)  # transformers 5 keeps warmup_steps=4 as 4.0
    _check("num_training_steps", num_training_steps, 2, integer=True)
    if probe_steps is None:
        probe_steps = min(max(6, math.ceil(0.05 * num_training_steps)), num_training_steps)
    _check("probe_steps", probe_steps, 1, integer=True)
    if heldout_batches is not None:
        _check("heldout_batches", heldout_batches, 1, integer=True)
    _check("center_lr", center_lr, 0, above=True)
    _check("factor", factor, 1, above=True)
    _check("max_probes", max_probes, 3, integer=True)
    _check("accumulation_steps", accumulation_steps, 1, integer=True)
    if horizon_exponent is None:
        beta = default_horizon_exponent(optimizer)
    else:
        _check("horizon_exponent", horizon_exponent, 0, above=True)
        if horizon_exponent > 1:
            raise ValueError(f"horizon_exponent must be a number in (0, 1], got {horizon_exponent!r}")
        beta = float(horizon_exponent)
    multipliers = compressed_schedule(schedule, num_training_steps, probe_steps, num_warmup_steps, schedule_options)

    snapshot = _Snapshot(model, optimizer, dataloader, accelerator)
    try:
        search = _probe_and_search(
            model,
            optimizer,
            dataloader,
            accelerator=accelerator,
            loss_fn=loss_fn or _default_loss,
            multipliers=multipliers,
            heldout_batches=heldout_batches,
            accumulation_steps=accumulation_steps,
            max_grad_norm=max_grad_norm,
            center_lr=float(center_lr),
            factor=float(factor),
            max_probes=max_probes,
            show_progress=show_progress,
        )
    finally:
        snapshot.restore()
        if created_optimizer:
            trainer.optimizer = None
    horizon = (probe_steps / num_training_steps) ** beta
    return LRChoice(
        lr=search.probe_lr * horizon,
        probe_lr=search.probe_lr,
        probe_lrs=[center_lr * factor**k for k in search.tried],
        heldout_losses=list(search.tried.values()),
        probe_steps=probe_steps,
        num_training_steps=num_training_steps,
        horizon_factor=horizon,
        schedule=str(schedule),
        multipliers=multipliers,
        heldout_examples=search.heldout_examples,
        bracketed=search.bracketed,
        seconds=time.perf_counter() - started,
        horizon_exponent=beta,
    )


def record_choice(choice: LRChoice, output_dir: str | os.PathLike | None, *, write: bool = True) -> None:
    """Log ``choice`` and write ``lr_choice.json`` and its plot ``lr_choice.png`` to ``output_dir``.

    Args:
      choice: what :func:`choose_lr` returned.
      output_dir: the run's output folder (created if missing); ``None`` writes nothing.
      write: write the files (pass ``False`` on every process but the main one).
    """
    logger.info("%s", choice)
    if not write or output_dir is None:
        return
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CHOICE_JSON).write_text(json.dumps(choice.to_dict(), indent=2) + "\n")
    choice.plot(folder / CHOICE_PLOT)


def choose_lr_for_trainer(trainer, **kwargs) -> LRChoice:
    """Choose the LR of ``trainer``'s run, set ``trainer.args.learning_rate`` to it, log it and write it.

    Writes ``lr_choice.json`` and ``lr_choice.png`` to ``trainer.args.output_dir`` (main process).
    The Trainer's model, optimizer, RNGs and data loader are as they were; the next ``train()``
    builds its optimizer and schedule with the chosen LR.

    Args:
      trainer: a ``transformers.Trainer`` not yet trained.
      **kwargs: passed to :func:`choose_lr`.

    Returns:
      The :class:`LRChoice`.
    """
    choice = choose_lr(trainer, **kwargs)
    record_choice(choice, trainer.args.output_dir, write=trainer.is_world_process_zero())
    trainer.args.learning_rate = choice.lr
    if trainer.optimizer is not None and trainer.lr_scheduler is None:
        for group in trainer.optimizer.param_groups:  # a user-made optimizer: the schedule reads this LR
            group["lr"] = choice.lr
            group.pop("initial_lr", None)
    return choice


def install_trainer_hook(**kwargs) -> None:
    """Make every ``transformers.Trainer.train()`` choose the LR first (``hf-lrsched run --auto_lr``).

    The first ``train()`` of each Trainer runs :func:`choose_lr_for_trainer` (unless it resumes from a
    checkpoint, whose LR is kept), prints the choice on the main process and then trains as usual
    with it. Calling this twice installs one hook.

    Args:
      **kwargs: passed to :func:`choose_lr`.
    """
    from transformers import Trainer

    original = Trainer.train
    if getattr(original, "_hf_lrsched_auto_lr", False):
        return

    @functools.wraps(original)
    def train(self, resume_from_checkpoint=None, *args, **train_kwargs):
        if resume_from_checkpoint:
            logger.warning("--auto_lr is skipped when resuming: the checkpoint's learning rate is kept")
        elif not getattr(self, "_hf_lrsched_lr_chosen", False):
            self._hf_lrsched_lr_chosen = True
            choice = choose_lr_for_trainer(self, **kwargs)
            if self.is_world_process_zero():
                where = os.path.join(self.args.output_dir, CHOICE_JSON)
                print(f"hf-lrsched --auto_lr: learning_rate {choice.lr:.4g} ({where}); {choice}", file=sys.stderr)
        return original(self, resume_from_checkpoint, *args, **train_kwargs)

    train._hf_lrsched_auto_lr = True
    Trainer.train = train
