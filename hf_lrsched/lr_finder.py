"""The learning-rate range test (Smith 2015, 2017), for a ``Trainer`` or a plain/Accelerate loop.

:func:`find_lr` trains for ``num_steps`` updates while the LR grows from ``start_lr`` to ``end_lr``
(geometrically or linearly), records the loss of every update, smooths it (bias-corrected
exponential moving average) and stops early once the smoothed loss exceeds ``diverge_threshold``
times the best one seen. Everything it touches is put back afterwards: model weights, buffers and
gradients, train/eval modes, the optimizer's state and param groups (LRs, betas, ...), the random
number generators (Python, NumPy, torch CPU and CUDA) and the data loader's epoch counters, so the
real run starts exactly as it would have without the test (:mod:`hf_lrsched._tools.finder_state`).

:class:`LRFinderResult` (:mod:`hf_lrsched._tools.finder_result`) holds the curve and suggests an LR three ways (see
:meth:`LRFinderResult.suggest`); ``result.plot("lr_find.png")`` draws it with the suggestions marked.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import torch

from ._checks.validation import check_choice, check_int, check_real
from ._tools.finder_result import SUGGESTION_METHODS, LRFinderResult
from ._tools.finder_state import _Snapshot, batch_device
from ._tools.stepper import Stepper
from ._tools.training_parts import training_parts

__all__ = ["LRFinderResult", "SUGGESTION_METHODS", "find_lr"]

MODES = ("exp", "linear")


# --------------------------------------------------------------------------------------------------
# The test itself.
# --------------------------------------------------------------------------------------------------


def _check_arguments(start_lr, end_lr, num_steps, mode, smooth_f, diverge_threshold, accumulation_steps) -> None:
    check_real("start_lr", start_lr, 0, low_open=True)
    check_real("end_lr", end_lr)
    if end_lr <= start_lr:
        raise ValueError(f"end_lr must be greater than start_lr, got start_lr={start_lr!r}, end_lr={end_lr!r}")
    check_int("num_steps", num_steps, minimum=2)
    check_choice("mode", mode, MODES)
    check_real("smooth_f", smooth_f, 0, 1, low_open=True)  # the weight of each new loss
    if diverge_threshold is not None:
        check_real("diverge_threshold", diverge_threshold, 1, low_open=True)
    if accumulation_steps is not None:
        check_int("accumulation_steps", accumulation_steps, minimum=1)


def _lr_at(step: int, start_lr: float, end_lr: float, num_steps: int, mode: str) -> float:
    fraction = step / (num_steps - 1)
    if mode == "exp":
        return start_lr * (end_lr / start_lr) ** fraction
    return start_lr + (end_lr - start_lr) * fraction


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
    from accelerate.utils import send_to_device

    device = batch_device(model, accelerator)
    stepper = Stepper(model, optimizer, accelerator, loss_fn, max_grad_norm)
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
            micro = [send_to_device(next(batches), device) for _ in range(accumulation_steps)]
            value = stepper.backward(micro, mean_over_processes=True)  # every process decides alike
            if not math.isfinite(value):
                reason, stopped = f"loss became {value} at lr={lr:.3g}", True
                break
            stepper.step()
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
    check_choice("suggest", suggest, SUGGESTION_METHODS)
    parts = training_parts(
        "find_lr", model_or_trainer, optimizer, dataloader, accelerator,
        loss_fn=loss_fn, accumulation_steps=accumulation_steps, max_grad_norm=max_grad_norm,
    )  # fmt: skip
    snapshot = _Snapshot(parts.model, parts.optimizer, parts.dataloader, parts.accelerator)
    try:
        return _run_range_test(
            parts.model,
            parts.optimizer,
            parts.dataloader,
            loss_fn=parts.loss_fn,
            accelerator=parts.accelerator,
            start_lr=float(start_lr),
            end_lr=float(end_lr),
            num_steps=int(num_steps),
            mode=mode,
            smooth_f=float(smooth_f),
            diverge_threshold=diverge_threshold,
            accumulation_steps=int(parts.accumulation_steps),
            max_grad_norm=parts.max_grad_norm,
            show_progress=show_progress,
            default_method=suggest,
        )
    finally:
        snapshot.restore()
        parts.release()
