"""What a recipe run writes to ``--output_dir``, the same for both recipes.

``metrics.json``, ``log_history.json``, ``lr_trajectory.json`` (the LR and momentum/beta1 of param
group 0 at every optimizer update, as recorded by :func:`hf_lrsched.log_lrs` or
:class:`hf_lrsched.LRMonitorCallback`) and ``lr_schedule.png`` (drawn by :mod:`hf_lrsched.plotting`),
plus ``lr_choice.json`` / ``lr_choice.png`` after ``--find_lr``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from hf_lrsched.lr_choice import CHOICE_JSON, CHOICE_PLOT

TRAJECTORY = "lr_trajectory.json"
OUTPUT_FILES = ("metrics.json", "log_history.json", TRAJECTORY, "lr_schedule.png")
FIND_LR_FILES = (CHOICE_JSON, CHOICE_PLOT)  # what --find_lr adds (hf_lrsched.lr_choice.record_choice)

logger = logging.getLogger(__name__)


def output_files(find_lr: bool) -> tuple[str, ...]:
    """The files a run writes in ``--output_dir`` (checkpoint folders aside)."""
    return (*OUTPUT_FILES, *FIND_LR_FILES) if find_lr else OUTPUT_FILES


def write_json(path: str | os.PathLike, value) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(value, indent=2) + "\n")


def trajectory_row(values: Mapping[str, float]) -> dict:
    """One ``lr_trajectory.json`` row: ``step``, and group 0's ``lr`` and ``momentum`` (beta1 or momentum).

    Args:
      values: ``{"step": u, **hf_lrsched.param_group_values(optimizer)}`` for update ``u``, as
        :attr:`hf_lrsched.LRMonitorCallback.history` keeps them.

    Examples:
      >>> trajectory_row({"step": 3, "lr/group_0": 1e-4, "beta1/group_0": 0.9, "lr/group_1": 2e-4})
      {'step': 3, 'lr': 0.0001, 'momentum': 0.9}
    """
    momentum = values.get("beta1/group_0", values.get("momentum/group_0"))
    return {"step": values["step"], "lr": values["lr/group_0"], "momentum": momentum}


def schedule_header(name: str, options: dict, warmup, total: int, args, num_processes: int) -> dict:
    """What shaped the curve, written ahead of the updates in ``lr_trajectory.json``.

    ``args`` is the recipe's training arguments (``learning_rate``, ``gradient_accumulation_steps``).
    """
    return {
        "lr_scheduler_type": name,
        "lr_scheduler_kwargs": options,
        "num_warmup_steps": warmup,
        "num_training_steps": total,
        "learning_rate": args.learning_rate,
        "num_processes": num_processes,
        "gradient_accumulation_steps": args.gradient_accumulation_steps,
    }


def momentum_name(optimizer) -> str:
    """``"beta1"`` for Adam-style optimizers, else ``"momentum"`` (the plot's second axis)."""
    from hf_lrsched import momentum_key

    return "beta1" if momentum_key(optimizer.param_groups[0]) == "betas" else "momentum"


def plot_trajectory(updates: Sequence[dict], path: str | os.PathLike, schedule: Mapping, momentum: str, title: str):
    """Draw the recorded LR per update (and momentum/beta1 where it moves) with ``hf_lrsched.plotting``."""
    import numpy as np

    from hf_lrsched.plotting import ScheduleCurve, plot_curves

    if not updates:  # a run resumed at its end from a checkpoint without its trajectory
        logger.warning("no LR was recorded: %s is not drawn", path)
        return
    momenta = [np.nan if row["momentum"] is None else row["momentum"] for row in updates]
    curve = ScheduleCurve(
        name=schedule["lr_scheduler_type"],
        options=dict(schedule["lr_scheduler_kwargs"] or {}),
        steps=np.array([row["step"] for row in updates]),
        lrs=np.array([row["lr"] for row in updates], dtype=float),
        momentum=np.array(momenta, dtype=float),
        momentum_name=momentum,
        num_warmup_steps=schedule["num_warmup_steps"],
    )
    plot_curves([curve], title=title, output=path)


def write_outputs(
    folder: str | os.PathLike,
    *,
    metrics: dict,
    log_history: list,
    schedule: dict,
    updates: list[dict],
    momentum: str,
    title: str,
) -> None:
    """Write ``metrics.json``, ``log_history.json``, ``lr_trajectory.json`` and ``lr_schedule.png``.

    Args:
      folder: ``--output_dir``.
      metrics: the final metrics.
      log_history: the logged losses, LRs and evaluations.
      schedule: what shaped the curve (``lr_scheduler_type``, ``lr_scheduler_kwargs``,
        ``num_warmup_steps``, ``num_training_steps``, ...), written ahead of ``updates``.
      updates: the :func:`trajectory_row` of every update.
      momentum: :func:`momentum_name` of the optimizer.
      title: the plot's title.
    """
    folder = Path(folder)
    write_json(folder / "metrics.json", metrics)
    write_json(folder / "log_history.json", log_history)
    write_json(folder / TRAJECTORY, {**schedule, "updates": updates})
    plot_trajectory(updates, folder / "lr_schedule.png", schedule, momentum, title)


def log_done(log: logging.Logger, metrics: dict, folder, *, find_lr: bool, checkpoints: Sequence[str] = ()) -> None:
    """The run's last line: the result, and every file and checkpoint folder it wrote."""
    log.info(
        "done: eval_accuracy %.4f (majority class %.4f), eval_loss %.4f; wrote %s in %s",
        metrics["eval_accuracy"],
        metrics["majority_class_accuracy"],
        metrics["eval_loss"],
        ", ".join([*output_files(find_lr), *(f"{name}/" for name in checkpoints)]),
        folder,
    )
