"""The learning-rate range test (Smith 2015, 2017), for a ``Trainer`` or a plain/Accelerate loop.

:func:`find_lr` trains for ``num_steps`` updates while the LR grows from ``start_lr`` to ``end_lr``
(geometrically or linearly), records the loss of every update, smooths it (bias-corrected
exponential moving average) and stops early once the smoothed loss exceeds ``diverge_threshold``
times the best one seen. Everything it touches is put back afterwards: model weights, buffers and
gradients, train/eval modes, the optimizer's state and param groups (LRs, betas, ...), the random
number generators (Python, NumPy, torch CPU and CUDA) and the data loader's epoch counters, so the
real run starts exactly as it would have without the test.

:class:`LRFinderResult` holds the curve and suggests an LR three ways (see
:meth:`LRFinderResult.suggest`); ``result.plot("lr_find.png")`` draws it with the suggestions marked.
"""

from __future__ import annotations

import copy
import math
import numbers
import os
import random
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

__all__ = ["LRFinderResult", "SUGGESTION_METHODS", "find_lr"]

#: How :meth:`LRFinderResult.suggest` can pick an LR.
SUGGESTION_METHODS = ("valley", "steepest", "minimum")
MODES = ("exp", "linear")


# --------------------------------------------------------------------------------------------------
# The result and its suggestions.
# --------------------------------------------------------------------------------------------------


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
        if method not in SUGGESTION_METHODS:
            raise ValueError(f"method must be one of {list(SUGGESTION_METHODS)}, got {method!r}")
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
        from .plotting import _figure_class, check_output_path, save_figure

        if path is not None:
            check_output_path(path, option="path")
        figure = _figure_class()(figsize=(7.5, 4.6), dpi=100, layout="constrained")
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


# --------------------------------------------------------------------------------------------------
# Snapshot and exact restore of everything a range test disturbs.
# --------------------------------------------------------------------------------------------------


def _copy_tensor(value):
    # Keep a CPU copy (saves accelerator memory); `.to(device)` later restores bits, dtype and device.
    if isinstance(value, torch.Tensor):
        return (value.detach().to("cpu", copy=True), value.device)
    return copy.deepcopy(value)


def _paste_tensor(saved):
    if isinstance(saved, tuple) and len(saved) == 2 and isinstance(saved[0], torch.Tensor):
        tensor, device = saved
        return tensor.to(device, copy=True)
    return copy.deepcopy(saved)


def _inner_optimizer(optimizer):
    # accelerate's AcceleratedOptimizer (and similar wrappers) keep the torch optimizer as `.optimizer`.
    while isinstance(getattr(optimizer, "optimizer", None), torch.optim.Optimizer):
        optimizer = optimizer.optimizer
    return optimizer


_MISSING = object()
_DATALOADER_COUNTERS = ("iteration", "epoch", "end_of_dataloader")


class _Snapshot:
    """Everything the range test changes, saved before it and put back after it."""

    def __init__(self, model, optimizer, dataloader, accelerator):
        self.model, self.optimizer = model, _inner_optimizer(optimizer)
        self.weights = {k: _copy_tensor(v) for k, v in model.state_dict().items()}
        # Buffers registered with persistent=False are not in the state dict.
        self.buffers = [(b, _copy_tensor(b)) for n, b in model.named_buffers() if n not in self.weights]
        self.modes = [m.training for m in model.modules()]
        params = list(model.parameters())
        seen = {id(p) for p in params}
        params += [p for g in self.optimizer.param_groups for p in g["params"] if id(p) not in seen]
        self.grads = [(p, None if p.grad is None else _copy_tensor(p.grad)) for p in params]
        groups = self.optimizer.param_groups
        self.groups = [{k: copy.deepcopy(v) for k, v in g.items() if k != "params"} for g in groups]
        self.state = {p: {k: _copy_tensor(v) for k, v in s.items()} for p, s in self.optimizer.state.items()}
        # torch's LR schedulers mark a stepped optimizer with `_opt_called`; keep that mark as it was.
        wrappers = [optimizer] if optimizer is self.optimizer else [optimizer, self.optimizer]
        self.flags = [(o, getattr(o, "__dict__", {}).get("_opt_called", _MISSING)) for o in wrappers]
        self.rng = _rng_state()
        self.loader = _dataloader_state(dataloader)
        scaler = getattr(accelerator, "scaler", None)
        self.scaler = (scaler, copy.deepcopy(scaler.state_dict())) if scaler is not None else None

    def restore(self) -> None:
        with torch.no_grad():
            self.model.load_state_dict({k: _paste_tensor(v) for k, v in self.weights.items()})
            for buffer, saved in self.buffers:
                buffer.copy_(_paste_tensor(saved))
        for module, mode in zip(self.model.modules(), self.modes, strict=True):
            module.training = mode
        for param, grad in self.grads:
            param.grad = None if grad is None else _paste_tensor(grad)
        for group, saved in zip(self.optimizer.param_groups, self.groups, strict=True):
            for key in [k for k in group if k != "params"]:
                del group[key]
            group.update(copy.deepcopy(saved))
        state = defaultdict(dict)
        for param, saved in self.state.items():
            state[param] = {k: _paste_tensor(v) for k, v in saved.items()}
        self.optimizer.state = state
        for obj, flag in self.flags:
            if flag is _MISSING:
                obj.__dict__.pop("_opt_called", None)
            else:
                obj._opt_called = flag
        _set_rng_state(self.rng)
        _set_dataloader_state(self.loader)
        if self.scaler is not None:
            scaler, saved = self.scaler
            scaler.load_state_dict(saved)


def _rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state:
        torch.cuda.set_rng_state_all(state["cuda"])


def _dataloader_parts(dataloader) -> list:
    """The loader and the samplers inside it (accelerate nests them a few levels deep)."""
    parts, seen, todo = [], set(), [dataloader]
    while todo and len(parts) < 16:
        obj = todo.pop(0)
        if obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        parts.append(obj)
        attrs = getattr(obj, "__dict__", {})
        todo += [attrs.get(name) for name in ("base_dataloader", "batch_sampler", "sampler")]
    return parts


def _dataloader_state(dataloader) -> list:
    """Epoch counters and generators that iterating a loader (or accelerate's wrappers) advances."""
    saved = []
    for part in _dataloader_parts(dataloader):
        attrs = getattr(part, "__dict__", {})
        for name in _DATALOADER_COUNTERS:
            if isinstance(attrs.get(name), (int, bool)):
                saved.append((part, name, attrs[name], None))
        if "generator" in attrs:
            generator = attrs["generator"]
            rng = generator.get_state() if isinstance(generator, torch.Generator) else None
            saved.append((part, "generator", generator, rng))
    return saved


def _set_dataloader_state(saved: list) -> None:
    for part, name, value, rng in saved:
        setattr(part, name, value)
        if rng is not None:
            value.set_state(rng)


# --------------------------------------------------------------------------------------------------
# The test itself.
# --------------------------------------------------------------------------------------------------


def _check_arguments(start_lr, end_lr, num_steps, mode, smooth_f, diverge_threshold, accumulation_steps) -> None:
    def real(name, value):
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")

    real("start_lr", start_lr)
    real("end_lr", end_lr)
    if start_lr <= 0:
        raise ValueError(f"start_lr must be > 0, got {start_lr!r}")
    if end_lr <= start_lr:
        raise ValueError(f"end_lr must be greater than start_lr, got start_lr={start_lr!r}, end_lr={end_lr!r}")
    if isinstance(num_steps, bool) or not isinstance(num_steps, numbers.Integral) or num_steps < 2:
        raise ValueError(f"num_steps must be an int >= 2, got {num_steps!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}, got {mode!r}")
    real("smooth_f", smooth_f)
    if not 0 < smooth_f <= 1:
        raise ValueError(f"smooth_f must be in (0, 1] (the weight of each new loss), got {smooth_f!r}")
    if diverge_threshold is not None:
        real("diverge_threshold", diverge_threshold)
        if diverge_threshold <= 1:
            raise ValueError(f"diverge_threshold must be > 1 (or None), got {diverge_threshold!r}")
    if accumulation_steps is not None and (
        isinstance(accumulation_steps, bool)
        or not isinstance(accumulation_steps, numbers.Integral)
        or accumulation_steps < 1
    ):
        raise ValueError(f"accumulation_steps must be an int >= 1, got {accumulation_steps!r}")


def _lr_at(step: int, start_lr: float, end_lr: float, num_steps: int, mode: str) -> float:
    fraction = step / (num_steps - 1)
    if mode == "exp":
        return start_lr * (end_lr / start_lr) ** fraction
    return start_lr + (end_lr - start_lr) * fraction


def _default_loss(model, batch) -> torch.Tensor:
    """``model(**batch).loss`` for dict batches with labels (HF models)."""
    if not isinstance(batch, Mapping):
        raise ValueError(
            f"batches are {type(batch).__name__}, not dicts of model inputs: pass "
            "loss_fn=lambda model, batch: ... that returns the loss"
        )
    outputs = model(**batch)
    loss = outputs.get("loss") if isinstance(outputs, Mapping) else getattr(outputs, "loss", None)
    if loss is None:
        raise ValueError("the model returned no loss (do the batches hold labels?); pass loss_fn=... to compute it")
    return loss


def _batches(dataloader) -> Iterator:
    """Cycle through ``dataloader``, starting a new pass when one ends."""
    while True:
        empty = True
        iterator = iter(dataloader)
        try:
            for batch in iterator:
                empty = False
                yield batch
        finally:
            # Leaving mid-pass: let accelerate's loaders unregister as they do at the end of a pass.
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
            end = getattr(dataloader, "end", None)
            if callable(end) and getattr(dataloader, "gradient_state", None) is not None:
                if dataloader in getattr(dataloader.gradient_state, "dataloader_references", []):
                    end()
        if empty:
            raise ValueError("dataloader is empty")


def _progress(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="LR range test", disable=not enabled, leave=False)


def _run_range_test(
    model,
    optimizer,
    dataloader,
    *,
    loss_fn,
    accelerator,
    start_lr,
    end_lr,
    num_steps,
    mode,
    smooth_f,
    diverge_threshold,
    accumulation_steps,
    max_grad_norm,
    show_progress,
    default_method,
) -> LRFinderResult:
    from accelerate.optimizer import AcceleratedOptimizer
    from accelerate.utils import send_to_device

    if accelerator is not None:
        device = accelerator.device
    else:
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
    # accelerator.backward scales the loss for its GradScaler, which only a prepared optimizer unscales
    # (a Trainer's optimizer is prepared only inside train()): otherwise use a plain backward.
    use_accelerator = accelerator is not None and (
        getattr(accelerator, "scaler", None) is None or isinstance(optimizer, AcceleratedOptimizer)
    )
    backward_scale = 1.0 / accumulation_steps
    if use_accelerator:
        # accelerator.backward divides by its own gradient_accumulation_steps: undo it, we accumulate here.
        backward_scale *= getattr(accelerator, "gradient_accumulation_steps", 1)
    autocast = accelerator.autocast if accelerator is not None else None
    batches = _batches(dataloader)
    lrs, losses, smoothed = [], [], []
    average, best = 0.0, math.inf
    reason, stopped = f"reached end_lr={end_lr:g}", False
    model.train()
    progress = _progress(num_steps, show_progress and (accelerator is None or accelerator.is_local_main_process))
    try:
        for step in range(num_steps):
            lr = _lr_at(step, start_lr, end_lr, num_steps, mode)
            for group in optimizer.param_groups:
                group["lr"] = lr
            optimizer.zero_grad(set_to_none=True)
            total = 0.0
            for _ in range(accumulation_steps):
                batch = send_to_device(next(batches), device)
                if autocast is not None:
                    with autocast():
                        loss = loss_fn(model, batch)
                else:
                    loss = loss_fn(model, batch)
                if use_accelerator:
                    accelerator.backward(loss * backward_scale)
                else:
                    (loss * backward_scale).backward()
                detached = loss.detach().float()
                if accelerator is not None and getattr(accelerator, "num_processes", 1) > 1:
                    detached = accelerator.reduce(detached, reduction="mean")  # every process decides alike
                total += float(detached)
            value = total / accumulation_steps
            if not math.isfinite(value):
                reason, stopped = f"loss became {value} at lr={lr:.3g}", True
                break
            if max_grad_norm:
                params = [p for g in optimizer.param_groups for p in g["params"]]
                if use_accelerator:
                    accelerator.clip_grad_norm_(params, max_grad_norm)
                else:
                    torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
            optimizer.step()
            average = (1.0 - smooth_f) * average + smooth_f * value
            smooth = average / (1.0 - (1.0 - smooth_f) ** (step + 1))  # bias-corrected EMA
            lrs.append(lr)
            losses.append(value)
            smoothed.append(smooth)
            best = min(best, smooth)
            progress.update(1)
            progress.set_postfix(lr=f"{lr:.2e}", loss=f"{smooth:.4f}")
            if diverge_threshold is not None and step > 0 and smooth > diverge_threshold * best:
                reason = f"smoothed loss {smooth:.4g} > {diverge_threshold:g} x best {best:.4g} at lr={lr:.3g}"
                stopped = True
                break
    finally:
        progress.close()
        batches.close()
        optimizer.zero_grad(set_to_none=True)
    if not lrs:
        raise ValueError(f"the LR range test recorded no loss ({reason}); lower start_lr")
    return LRFinderResult(
        lrs=lrs,
        losses=losses,
        smoothed_losses=smoothed,
        start_lr=float(start_lr),
        end_lr=float(end_lr),
        num_steps=int(num_steps),
        mode=mode,
        stopped_early=stopped,
        stop_reason=reason,
        default_method=default_method,
    )


def _is_trainer(obj) -> bool:
    from transformers import Trainer

    return isinstance(obj, Trainer)


def _trainer_loss(trainer) -> Callable:
    def loss_fn(model, batch):
        inputs = trainer._prepare_inputs(batch)
        with trainer.compute_loss_context_manager():
            return trainer.compute_loss(model, inputs)

    return loss_fn


def find_lr(
    model_or_trainer,
    optimizer=None,
    dataloader=None,
    *,
    accelerator=None,
    loss_fn: Callable[[torch.nn.Module, Any], torch.Tensor] | None = None,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_steps: int = 100,
    mode: str = "exp",
    smooth_f: float = 0.05,
    diverge_threshold: float | None = 4.0,
    accumulation_steps: int | None = None,
    max_grad_norm: float | None = None,
    suggest: str = "valley",
    show_progress: bool = True,
) -> LRFinderResult:
    """Run the LR range test and put the model, optimizer and RNGs back exactly as they were.

    Two ways to call it:

    * ``find_lr(trainer, ...)`` with a ``transformers.Trainer``: uses its model, its optimizer (made
      with ``trainer.create_optimizer()`` and dropped again if it had none yet, so that a changed
      ``args.learning_rate`` takes effect), its training data loader, ``compute_loss`` and
      accelerator; ``accumulation_steps`` and ``max_grad_norm`` default to the ``TrainingArguments``.
    * ``find_lr(model, optimizer, dataloader, ...)`` for a plain or Accelerate loop. Batches go to the
      model's device (or come from a prepared loader); the loss is ``loss_fn(model, batch)``, by
      default ``model(**batch).loss``. With ``accelerator=`` (objects already prepared) it uses
      ``accelerator.backward``, ``autocast`` and ``clip_grad_norm_``, and averages the loss over
      processes so that all stop together.

    Every param group gets the same LR at each step. ``accumulation_steps`` batches make one update
    (default: the accelerator's ``gradient_accumulation_steps``, else 1).

    Args:
      model_or_trainer: a ``torch.nn.Module`` or a ``transformers.Trainer``.
      optimizer: the optimizer (not with a Trainer).
      dataloader: an iterable of batches, cycled if shorter than the test (not with a Trainer).
      accelerator: an ``accelerate.Accelerator`` the objects were prepared with.
      loss_fn: ``(model, batch) -> scalar loss tensor``.
      start_lr: first LR, > 0.
      end_lr: last LR, > ``start_lr``.
      num_steps: updates (LR values), >= 2.
      mode: ``"exp"`` (geometric LR steps, the usual choice) or ``"linear"``.
      smooth_f: weight of each new loss in the moving average, in (0, 1]; 1 means no smoothing.
      diverge_threshold: stop when the smoothed loss exceeds this times the best one (> 1), or
        ``None`` to always run ``num_steps``.
      accumulation_steps: batches per update.
      max_grad_norm: clip the gradient norm before each update (``None``/0: no clipping).
      suggest: default method of :attr:`LRFinderResult.suggestion`: ``"valley"``, ``"steepest"``
        or ``"minimum"``.
      show_progress: show a tqdm progress bar (main process only).

    Returns:
      An :class:`LRFinderResult`.

    Examples:
      >>> import torch
      >>> _ = torch.manual_seed(0)
      >>> x = torch.randn(256, 4); y = x @ torch.tensor([1.0, -2.0, 3.0, 0.5])
      >>> loader = torch.utils.data.DataLoader(list(zip(x, y)), batch_size=16, shuffle=True)
      >>> model = torch.nn.Linear(4, 1)
      >>> opt = torch.optim.SGD(model.parameters(), lr=0.01)
      >>> before = model.weight.clone()
      >>> result = find_lr(model, opt, loader, num_steps=60, end_lr=100.0, show_progress=False,
      ...                  loss_fn=lambda m, b: torch.nn.functional.mse_loss(m(b[0]).squeeze(-1), b[1]))
      >>> result.stopped_early, 1e-7 <= result.suggestion <= 100.0
      (True, True)
      >>> torch.equal(model.weight, before), opt.param_groups[0]["lr"]
      (True, 0.01)
    """
    _check_arguments(start_lr, end_lr, num_steps, mode, smooth_f, diverge_threshold, accumulation_steps)
    if suggest not in SUGGESTION_METHODS:
        raise ValueError(f"suggest must be one of {list(SUGGESTION_METHODS)}, got {suggest!r}")
    created_optimizer = False
    trainer = model_or_trainer if _is_trainer(model_or_trainer) else None
    if trainer is not None:
        if optimizer is not None or dataloader is not None or accelerator is not None:
            raise ValueError(
                "with a Trainer, find_lr uses the Trainer's optimizer, train data loader and accelerator: "
                "do not pass optimizer, dataloader or accelerator"
            )
        model = trainer.model
        if trainer.optimizer is None:
            trainer.create_optimizer()
            created_optimizer = True
        optimizer = trainer.optimizer
        dataloader = trainer.get_train_dataloader()
        accelerator = trainer.accelerator
        loss_fn = loss_fn or _trainer_loss(trainer)
        if accumulation_steps is None:
            accumulation_steps = trainer.args.gradient_accumulation_steps
        if max_grad_norm is None:
            max_grad_norm = trainer.args.max_grad_norm
    else:
        model = model_or_trainer
        if not isinstance(model, torch.nn.Module):
            raise ValueError(f"find_lr needs a torch.nn.Module or a transformers.Trainer, got {type(model).__name__}")
        if optimizer is None or not hasattr(optimizer, "param_groups"):
            raise ValueError(f"optimizer must be a torch optimizer, got {optimizer!r}")
        if dataloader is None:
            raise ValueError("dataloader is required (an iterable of batches)")
        if accumulation_steps is None:
            accumulation_steps = int(getattr(accelerator, "gradient_accumulation_steps", 1) or 1)
    snapshot = _Snapshot(model, optimizer, dataloader, accelerator)
    try:
        return _run_range_test(
            model,
            optimizer,
            dataloader,
            loss_fn=loss_fn or _default_loss,
            accelerator=accelerator,
            start_lr=float(start_lr),
            end_lr=float(end_lr),
            num_steps=int(num_steps),
            mode=mode,
            smooth_f=float(smooth_f),
            diverge_threshold=diverge_threshold,
            accumulation_steps=int(accumulation_steps),
            max_grad_norm=max_grad_norm,
            show_progress=show_progress,
            default_method=suggest,
        )
    finally:
        snapshot.restore()
        if created_optimizer:
            trainer.optimizer = None
