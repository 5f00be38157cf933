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
   that is best for ``T`` updates shrinks like ``1/sqrt(T)`` (the fixed step size that minimises
   SGD's error bound after ``T`` steps: noise grows with the LR, progress with LR x steps), so the
   result is ``probe optimum * (probe_steps / num_training_steps) ** horizon_exponent`` with
   ``horizon_exponent=1/2``. A smaller exponent (1/3, as measured for AdamW in LLM pre-training)
   was tried and chose LRs that diverged on a fine-tuning benchmark; a short probe cannot see an
   instability that builds up later, so the rule errs low.

5. **Trust.** The held-out loss is also measured before any probe, and every held-out batch is
   scored in pieces of 8 examples (16 pieces for 128 examples, whatever the batch size). If the
   best probe did not lower the loss by more than twice its standard error (the decreases of the
   pieces are paired: the same examples before and after), the probes learned too little for their
   optimum to mean anything,
   and if the best probe is at the edge of the search the optimum lies outside it. Either way the
   choice says so (``reliable=False``, ``reason``) and returns ``fallback_lr`` instead, by default
   the LR the run was configured with: the choice then changes nothing.

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
from pathlib import Path
from typing import Any

import torch

from ._checks.validation import check_int, check_real
from ._tools.choice_result import LRChoice
from ._tools.finder_state import _Snapshot
from ._tools.probes import compressed_schedule, probe_and_search
from ._tools.training_parts import training_parts

__all__ = [
    "LRChoice",
    "choose_lr",
    "choose_lr_for_trainer",
    "compressed_schedule",
    "install_trainer_hook",
    "record_choice",
]

logger = logging.getLogger(__name__)
CHOICE_JSON = "lr_choice.json"
CHOICE_PLOT = "lr_choice.png"


def _trainer_setup(trainer, loader, num_training_steps, schedule, num_warmup_steps, schedule_options):
    """The run's length and schedule as the Trainer's arguments define them (what the caller left out)."""
    args = trainer.args
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
    return num_training_steps, schedule, num_warmup_steps, schedule_options


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
    horizon_exponent: float = 0.5,
    fallback_lr: float | None = None,
    show_progress: bool = True,
) -> LRChoice:
    """Choose the run's LR from short probes of its own schedule, scored on held-out training batches.

    See the module docstring for the method. In short: probes of ``probe_steps`` updates with the
    run's schedule compressed, at peak LRs ``center_lr * factor**k``, bracketing the lowest loss on
    the first ``heldout_batches`` training batches (never trained on); the probe optimum
    (parabola-interpolated in log LR) times ``(probe_steps / num_training_steps)**horizon_exponent``
    (default ``sqrt``) is the choice.
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
        in (0, 1]. The default 1/2 is SGD's rule; 1/3 (the exponent measured for AdamW in LLM
        pre-training) chose LRs that diverged on a fine-tuning benchmark (docs/results.md).
      fallback_lr: the LR returned when the probes cannot be trusted (``reliable=False``); default:
        the run's own LR (a Trainer: ``args.learning_rate``; else the first param group's LR now).
      show_progress: a tqdm bar over the probes (main process).

    Returns:
      An :class:`LRChoice`; ``.lr`` is the value for the schedule's LR argument: the probes' choice,
      or ``fallback_lr`` when ``.reliable`` is false (``.reason`` says why).

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
      ...                    center_lr=0.05, show_progress=False)  # a new linear model wants a large LR
      >>> choice.reliable, choice.probe_steps, round(choice.horizon_factor, 3)
      (True, 6, 0.306)
      >>> choice.lr == choice.probe_choice == choice.probe_lr * choice.horizon_factor
      True
      >>> torch.equal(model.weight, before), opt.param_groups[0]["lr"]
      (True, 0.123)
    """
    started = time.perf_counter()
    if accumulation_steps is not None:  # checked as given: 0 must not fall back to a default
        check_int("accumulation_steps", accumulation_steps, minimum=1)
    parts = training_parts(
        "choose_lr", model_or_trainer, optimizer, dataloader, accelerator,
        loss_fn=loss_fn, accumulation_steps=accumulation_steps, max_grad_norm=max_grad_norm,
    )  # fmt: skip
    try:  # an optimizer created for a Trainer is dropped again, whatever happens
        if parts.trainer is not None:
            num_training_steps, schedule, num_warmup_steps, schedule_options = _trainer_setup(
                parts.trainer, parts.dataloader, num_training_steps, schedule, num_warmup_steps, schedule_options
            )
        elif num_training_steps is None:
            raise ValueError("num_training_steps is required: the real run's number of optimizer updates")
        schedule = schedule or "linear"
        num_warmup_steps = 0 if num_warmup_steps is None else num_warmup_steps
        if isinstance(num_warmup_steps, float) and num_warmup_steps >= 1 and num_warmup_steps.is_integer():
            num_warmup_steps = int(num_warmup_steps)  # transformers 5 keeps warmup_steps=4 as 4.0
        check_int("num_training_steps", num_training_steps, minimum=2)
        if fallback_lr is None:
            own = parts.trainer.args.learning_rate if parts.trainer is not None else None
            fallback_lr = own if own is not None else float(parts.optimizer.param_groups[0]["lr"])
        fallback_lr = check_real("fallback_lr", fallback_lr, 0, low_open=True)
        if probe_steps is None:
            probe_steps = min(max(6, math.ceil(0.05 * num_training_steps)), num_training_steps)
        check_int("probe_steps", probe_steps, minimum=1, maximum=num_training_steps)
        if heldout_batches is not None:
            check_int("heldout_batches", heldout_batches, minimum=1)
        check_real("center_lr", center_lr, 0, low_open=True)
        check_real("factor", factor, 1, low_open=True)
        check_int("max_probes", max_probes, minimum=3)
        check_int("accumulation_steps", parts.accumulation_steps, minimum=1)
        beta = check_real("horizon_exponent", horizon_exponent, 0, 1, low_open=True)
        multipliers = compressed_schedule(schedule, num_training_steps, probe_steps, num_warmup_steps, schedule_options)

        snapshot = _Snapshot(parts.model, parts.optimizer, parts.dataloader, parts.accelerator)
        try:
            search = probe_and_search(
                parts.model,
                parts.optimizer,
                parts.dataloader,
                accelerator=parts.accelerator,
                loss_fn=parts.loss_fn,
                multipliers=multipliers,
                heldout_batches=heldout_batches,
                accumulation_steps=parts.accumulation_steps,
                max_grad_norm=parts.max_grad_norm,
                center_lr=float(center_lr),
                factor=float(factor),
                max_probes=max_probes,
                show_progress=show_progress,
            )
        finally:
            snapshot.restore()
        horizon = (probe_steps / num_training_steps) ** beta
        reason = search.unreliable_reason
        probe_choice = search.probe_lr * horizon
        return LRChoice(
            lr=fallback_lr if reason else probe_choice,
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
            reliable=not reason,
            reason=reason,
            probe_choice=probe_choice,
            fallback_lr=fallback_lr,
            start_loss=search.start_loss,
            movement=search.movement,
            noise=search.noise,
        )
    finally:
        parts.release()


def record_choice(choice: LRChoice, output_dir: str | os.PathLike | None, *, write: bool = True) -> None:
    """Log ``choice`` and write ``lr_choice.json`` and its plot ``lr_choice.png`` to ``output_dir``.

    A choice that cannot be trusted (``reliable=False``) is also one warning line (with ``write``).

    Args:
      choice: what :func:`choose_lr` returned.
      output_dir: the run's output folder (created if missing); ``None`` writes nothing.
      write: write the files (pass ``False`` on every process but the main one).
    """
    logger.info("%s", choice)
    if write and not choice.reliable:  # one line, from the main process
        logger.warning("%s", choice.warning)
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
