"""A tiny but real ``Trainer`` run for tests, with the exact LR of every optimizer update recorded.

The model is a one-layer BERT built from a config (nothing downloaded); the data is random token
ids made here. ``train_tiny`` returns an :class:`OptimizerRecorder` holding, for every update, each
param group's ``lr`` and momentum (Adam ``betas[0]``) read from the optimizer just before
``optimizer.step()``: the values the update really used, unrounded (``log_history`` rounds).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import torch
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    HfArgumentParser,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")

TINY_BERT = dict(
    hidden_size=32,
    num_hidden_layers=1,
    num_attention_heads=2,
    intermediate_size=37,
    vocab_size=100,
    max_position_embeddings=32,
    num_labels=2,
)
SEQ_LEN = 8
BATCH_SIZE = 4


def tiny_model(seed: int = 0) -> BertForSequenceClassification:
    """A freshly initialised one-layer BERT classifier (same weights for the same seed)."""
    torch.manual_seed(seed)
    return BertForSequenceClassification(BertConfig(**TINY_BERT))


def tiny_dataset(size: int = 32, seed: int = 0) -> list[dict[str, torch.Tensor]]:
    """``size`` random examples in the format ``default_data_collator`` stacks."""
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, TINY_BERT["vocab_size"], (size, SEQ_LEN), generator=generator)
    labels = torch.randint(0, 2, (size,), generator=generator)
    return [
        {"input_ids": ids[i], "attention_mask": torch.ones(SEQ_LEN, dtype=torch.long), "labels": labels[i]}
        for i in range(size)
    ]


class OptimizerRecorder(TrainerCallback):
    """Records, before each optimizer update, its index and every group's ``lr`` and beta1/momentum."""

    def __init__(self) -> None:
        self.steps: list[int] = []
        self.lrs: list[list[float]] = []
        self.momenta: list[list[float | None]] = []

    def on_pre_optimizer_step(self, args, state, control, optimizer=None, **kwargs):
        self.steps.append(state.global_step)  # updates done so far = index of this one
        self.lrs.append([group["lr"] for group in optimizer.param_groups])
        self.momenta.append(
            [group["betas"][0] if "betas" in group else group.get("momentum") for group in optimizer.param_groups]
        )


def training_options(output_dir, **overrides) -> dict:
    """``TrainingArguments`` options for a short, quiet CPU run (works on transformers 4.50+ and 5.x)."""
    options = dict(
        output_dir=str(output_dir),
        max_steps=24,
        per_device_train_batch_size=BATCH_SIZE,
        learning_rate=1e-3,
        warmup_steps=0,
        lr_scheduler_type="linear",
        use_cpu=True,
        report_to=[],
        logging_strategy="no",
        eval_strategy="no",
        save_strategy="no",
        disable_tqdm=True,
        seed=0,
    )
    options.update(overrides)
    return options


def command_line(options: dict) -> list[str]:
    """The ``--name value`` command line that gives ``options`` (dicts as JSON, as users type them)."""
    import json

    argv = []
    for name, value in options.items():
        if isinstance(value, dict):
            value = json.dumps(value)
        elif isinstance(value, list):
            value = " ".join(value) or "none"
        argv += [f"--{name}", str(value)]
    return argv


def make_args(output_dir, *, via_command_line: bool = False, **overrides) -> TrainingArguments:
    """``TrainingArguments`` built directly or, with ``via_command_line``, parsed by ``HfArgumentParser``."""
    options = training_options(output_dir, **overrides)
    if not via_command_line:
        return TrainingArguments(**options)
    (args,) = HfArgumentParser(TrainingArguments).parse_args_into_dataclasses(args=command_line(options))
    return args


def train_tiny(
    args: TrainingArguments,
    *,
    make_optimizer: Callable[[torch.nn.Module], torch.optim.Optimizer] | None = None,
    resume_from_checkpoint: str | None = None,
) -> tuple[OptimizerRecorder, Trainer]:
    """Train the tiny model with ``args``; the scheduler is always created by ``Trainer`` itself."""
    model = tiny_model(args.seed)
    optimizers = (make_optimizer(model) if make_optimizer else None, None)
    recorder = OptimizerRecorder()
    trainer = Trainer(model=model, args=args, train_dataset=tiny_dataset(), callbacks=[recorder], optimizers=optimizers)
    trainer.train(resume_from_checkpoint=resume_from_checkpoint)
    return recorder, trainer
