"""The probes of :func:`hf_lrsched.choose_lr`: the schedule compressed, the batches, one update, the search.

Everything here works on a model that the caller snapshots and restores; nothing is chosen here
but the probe optimum (the horizon rule and the public entry points are in ``lr_choice``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._checks.validation import check_int
from ..lr_finder import _batches
from .finder_state import _Snapshot, batch_device
from .stepper import Stepper

__all__ = ["compressed_schedule"]

HELDOUT_EXAMPLES = 128
NOISE_MULTIPLE = 2.0  # the probes must lower the held-out loss by more than this many standard errors
SLICE_EXAMPLES = 8  # held-out batches are scored in slices of 8 examples: 16 paired values whatever the batch size
SPREAD_STRIDE = 8  # take every 8th batch (at most) for the probes and the held-out slice

_CURVE_MAX_STEPS = 20_000  # longer schedules are drawn at this resolution (the shape is what matters)


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
    from .curves import schedule_curve

    check_int("num_training_steps", num_training_steps, minimum=2)
    check_int("probe_steps", probe_steps, minimum=1, maximum=num_training_steps)
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
    start_loss: float = math.nan  # held-out loss before any probe
    movement: float = math.nan  # start_loss minus the best probe's held-out loss
    noise: float = math.nan  # standard error of that difference over the held-out batches (paired)

    @property
    def unreliable_reason(self) -> str:
        """Why the probes cannot place the LR, or ``""`` when they can."""
        if not self.movement > NOISE_MULTIPLE * self.noise:
            return (
                f"the best probe lowered the held-out loss by {self.movement:.4f} (from {self.start_loss:.4f}), "
                f"not more than {NOISE_MULTIPLE:g}x its noise ({self.noise:.4f}): the probes learned too little "
                "to place the LR"
            )
        if not self.bracketed:
            return f"the best probe is at the edge of the search ({len(self.tried)} probes)"
        return ""


def _movement_and_noise(start: torch.Tensor, best: torch.Tensor, weights: torch.Tensor | None = None):
    """Mean of the paired per-piece decrease ``start - best`` (weighted by the pieces' sizes) and its standard
    error (0 with one piece)."""
    decrease = start.double() - best.double()
    weights = torch.ones_like(decrease) if weights is None else weights.double()
    movement = float((decrease * weights).sum() / weights.sum())
    if not math.isfinite(movement):
        return -math.inf, math.inf
    noise = float(decrease.std() / math.sqrt(len(decrease))) if len(decrease) > 1 else 0.0
    return movement, noise


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


def _slices(batch, size: int = SLICE_EXAMPLES) -> list:
    """``batch`` cut along its first dimension into pieces of ``size`` examples (the last may be smaller).

    Every tensor whose first dimension is the batch's size is cut; anything else is shared by the
    pieces. A batch that is not a tensor, a mapping or a sequence of them is one piece.
    """
    n = _batch_size(batch)

    def cut(value, start: int):
        if isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape[0] == n:
            return value[start : start + size]
        return value

    if n <= size:
        return [batch]
    if isinstance(batch, torch.Tensor):
        return list(batch.split(size))
    if isinstance(batch, Mapping):
        return [type(batch)({k: cut(v, start) for k, v in batch.items()}) for start in range(0, n, size)]
    if isinstance(batch, (list, tuple)):
        return [type(batch)(cut(v, start) for v in batch) for start in range(0, n, size)]
    return [batch]


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


def probe_and_search(
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

    device = batch_device(model, accelerator)
    heldout, updates = _draw_batches(dataloader, heldout_batches, len(multipliers), accumulation_steps)
    heldout = [send_to_device(b, device) for b in heldout]
    pieces = [piece for b in heldout for piece in _slices(b)]
    if accelerator is not None and accelerator.num_processes > 1:  # gather needs as many pieces on every rank
        counts = accelerator.gather(torch.tensor([len(pieces)], device=accelerator.device)).tolist()
        pieces = pieces if len(set(counts)) == 1 else heldout
    heldout = pieces
    sizes = torch.tensor([_batch_size(piece) for piece in heldout], dtype=torch.float64)
    updates = [[send_to_device(b, device) for b in group] for group in updates]
    stepper = Stepper(model, optimizer, accelerator, loss_fn, max_grad_norm)
    start = _Snapshot(model, optimizer, dataloader, accelerator)  # every probe starts here, RNGs included
    start_losses = stepper.heldout_losses(heldout)  # eval mode: no dropout, no RNG drawn
    # Every process holds out pieces of the same sizes; the gathered losses come process after process.
    weights = sizes.repeat(len(start_losses) // len(sizes))

    def example_mean(losses: torch.Tensor) -> float:
        return float((losses.double() * weights).sum() / weights.sum())

    after: dict[float, torch.Tensor] = {}  # probe peak LR -> held-out loss of each piece after the probe
    model.train()
    main = accelerator is None or accelerator.is_local_main_process
    progress = tqdm(total=max_probes, desc="LR choice probes", disable=not (show_progress and main), leave=False)

    def score(peak: float) -> float:
        start.restore()
        model.train()
        # No early exit on a NaN training loss: every process must make the same collective calls.
        for multiplier, batches in zip(multipliers, updates, strict=True):
            stepper.update(batches, peak * multiplier)
        after[peak] = stepper.heldout_losses(heldout)
        loss = example_mean(after[peak])
        loss = loss if math.isfinite(loss) else math.inf
        progress.update(1)
        progress.set_postfix(lr=f"{peak:.2e}", heldout=f"{loss:.4f}")
        return loss

    try:
        search = _search(score, center_lr, factor, max_probes)
    finally:
        progress.close()
    search.heldout_examples = int(sizes.sum())
    best = min(search.tried, key=lambda k: (search.tried[k], k))
    search.start_loss = example_mean(start_losses)
    search.movement, search.noise = _movement_and_noise(start_losses, after[center_lr * factor**best], weights)
    return search
