"""The Accelerate recipe's flags: their checks, ``--report_to``, and the flags a resume must repeat.

``TrainArguments`` itself is in ``finetune_accelerate.py``; these functions take its values. The
schedule is checked with :func:`hf_lrsched.check_schedule` (through ``common.check_schedule``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import checkpoints
import common
import outputs
from errors import RecipeError

import hf_lrsched


@dataclass
class ScheduleChoice:
    """The checked schedule flags."""

    name: str
    options: dict
    warmup: int | float


def check_arguments(args) -> ScheduleChoice:
    """Check the training flags before anything heavy runs (the schedule's own checks once its length is known)."""
    for flag in (
        "per_device_train_batch_size",
        "per_device_eval_batch_size",
        "num_train_epochs",
        "gradient_accumulation_steps",
        "logging_steps",
    ):
        if getattr(args, flag) < 1:
            raise RecipeError(f"--{flag} must be >= 1, got {getattr(args, flag)}")
    if args.find_lr and args.find_lr_num_steps is not None and args.find_lr_num_steps < 1:
        raise RecipeError(f"--find_lr_num_steps must be >= 1, got {args.find_lr_num_steps}")
    if args.max_train_steps is not None and args.max_train_steps < 1:
        raise RecipeError(f"--max_train_steps must be >= 1, got {args.max_train_steps}")
    if not args.learning_rate > 0:
        raise RecipeError(f"--learning_rate must be > 0, got {args.learning_rate}")
    if args.checkpointing_steps is not None and args.checkpointing_steps != "epoch":
        if not args.checkpointing_steps.isdigit() or int(args.checkpointing_steps) < 1:
            raise RecipeError(f"--checkpointing_steps must be an int >= 1 or 'epoch', got {args.checkpointing_steps!r}")
    warmup = args.num_warmup_steps
    if warmup < 0 or (warmup >= 1 and not float(warmup).is_integer()):
        raise RecipeError(f"--num_warmup_steps must be an int >= 0 or a fraction in (0, 1), got {warmup}")
    warmup = int(warmup) if warmup >= 1 or warmup == 0 else float(warmup)
    if args.lr_scheduler_type == "reduce_lr_on_plateau":
        raise RecipeError("--lr_scheduler_type reduce_lr_on_plateau needs a metric at every step; pick a schedule")
    try:
        options = hf_lrsched.parse_scheduler_kwargs(args.lr_scheduler_kwargs)
    except ValueError as err:
        raise RecipeError(str(err)) from None
    common.check_schedule(args.lr_scheduler_type, options, warmup, args.max_train_steps)
    common.check_output_dir(args.output_dir, outputs.output_files(args.find_lr))
    if args.resume_from_checkpoint == "latest":
        args.resume_from_checkpoint = checkpoints.latest(args.output_dir)
    return ScheduleChoice(args.lr_scheduler_type, options, warmup)


#: Flags that shape the LR curve, the data or its order: a resume must give the values the checkpoint was saved with.
RUN_FLAGS = (
    *common.MODEL_AND_DATA_FLAGS,
    "max_train_steps",
    "learning_rate",
    "weight_decay",
    "lr_scheduler_type",
    "lr_scheduler_kwargs",
    "num_warmup_steps",
    "group_by_length",
    "seed",
    "mixed_precision",
)


def check_resume(args, flags: dict) -> dict | None:
    """Check the ``--resume_from_checkpoint`` folder and its flags before the model loads; its state."""
    if not args.resume_from_checkpoint:
        return None
    state = checkpoints.read(args.resume_from_checkpoint)
    common.check_same_flags(args.resume_from_checkpoint, state["flags"], flags)
    return state


def trackers(args) -> list[str] | None:
    """The ``--report_to`` trackers for ``Accelerator(log_with=...)``; ``None`` for none."""
    if args.report_to.strip().lower() in ("", "none"):
        return None
    from accelerate.tracking import get_available_trackers
    from accelerate.utils import LoggerType

    names = [name.strip().lower() for name in args.report_to.split(",") if name.strip()]
    if "all" in names:
        return ["all"]
    available = {str(t) for t in get_available_trackers()}
    for name in names:
        if name not in LoggerType.list():
            raise RecipeError(f"--report_to {name!r} is not a tracker accelerate knows: {', '.join(LoggerType.list())}")
        if name not in available:
            raise RecipeError(f"--report_to {name!r}: its package is not installed; install it or use --report_to none")
    return names


def total_updates(batches_per_epoch: int, args) -> tuple[int, int]:
    """``(optimizer updates, epochs)`` for this many batches per epoch and process.

    An epoch's last partial accumulation also updates.
    """
    updates_per_epoch = math.ceil(batches_per_epoch / args.gradient_accumulation_steps)
    if args.max_train_steps is None:
        return args.num_train_epochs * updates_per_epoch, args.num_train_epochs
    return args.max_train_steps, math.ceil(args.max_train_steps / updates_per_epoch)


def check_schedule(schedule: ScheduleChoice, args, batches_per_epoch: int) -> None:
    """Check the schedule for the run's real number of updates, once the data gives it."""
    total = total_updates(batches_per_epoch, args)[0]
    per_epoch = math.ceil(batches_per_epoch / args.gradient_accumulation_steps)
    common.check_schedule(schedule.name, schedule.options, schedule.warmup, total, per_epoch)
