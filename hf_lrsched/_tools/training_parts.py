"""What ``find_lr`` and ``choose_lr`` train with: from a ``Trainer``, or given one by one.

Both tools take either a ``transformers.Trainer`` (its model, optimizer, train data loader,
accelerator, loss, accumulation and clipping) or a model with its optimizer and batches. The one
reach into a private Trainer method is ``Trainer._prepare_inputs``: it is what Trainer's own
``training_step`` calls to move a batch (and, under DeepSpeed, cast it), user subclasses override
it, and transformers has no public equivalent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

LossFn = Callable[[torch.nn.Module, Any], torch.Tensor]


def default_loss(model, batch) -> torch.Tensor:
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


def is_trainer(obj) -> bool:
    from transformers import Trainer

    return isinstance(obj, Trainer)


def trainer_loss(trainer) -> LossFn:
    """The loss as ``trainer`` computes it (its input preparation, loss context and ``compute_loss``)."""

    def loss_fn(model, batch):
        inputs = trainer._prepare_inputs(batch)
        with trainer.compute_loss_context_manager():
            return trainer.compute_loss(model, inputs)

    return loss_fn


@dataclass
class TrainingParts:
    """The objects a tool trains with; :meth:`release` undoes what was created for it."""

    model: torch.nn.Module
    optimizer: Any
    dataloader: Any
    accelerator: Any
    loss_fn: LossFn
    accumulation_steps: int
    max_grad_norm: float | None
    trainer: Any = None
    created_optimizer: bool = False

    def release(self) -> None:
        """Drop an optimizer made only for the tool, so the Trainer's ``train()`` makes its own."""
        if self.created_optimizer:
            self.trainer.optimizer = None


def training_parts(
    tool: str,
    model_or_trainer,
    optimizer=None,
    dataloader=None,
    accelerator=None,
    *,
    loss_fn: LossFn | None = None,
    accumulation_steps: int | None = None,
    max_grad_norm: float | None = None,
) -> TrainingParts:
    """Resolve a tool's arguments into :class:`TrainingParts` (``tool`` names the caller in errors).

    With a Trainer, the optimizer is created if it does not exist yet (``release`` drops it again),
    and accumulation and clipping default to its arguments; otherwise accumulation defaults to the
    accelerator's (else 1) and the loss to ``model(**batch).loss``.

    Raises:
      ValueError: a Trainer given with other objects, or a missing/wrong model, optimizer or batches.
    """
    if is_trainer(model_or_trainer):
        trainer = model_or_trainer
        if optimizer is not None or dataloader is not None or accelerator is not None:
            raise ValueError(
                f"with a Trainer, {tool} uses the Trainer's optimizer, train data loader and accelerator: "
                "do not pass optimizer, dataloader or accelerator"
            )
        created = trainer.optimizer is None
        if created:
            trainer.create_optimizer()
        return TrainingParts(
            model=trainer.model,
            optimizer=trainer.optimizer,
            dataloader=trainer.get_train_dataloader(),
            accelerator=trainer.accelerator,
            loss_fn=loss_fn or trainer_loss(trainer),
            accumulation_steps=accumulation_steps or trainer.args.gradient_accumulation_steps,
            max_grad_norm=trainer.args.max_grad_norm if max_grad_norm is None else max_grad_norm,
            trainer=trainer,
            created_optimizer=created,
        )
    model = model_or_trainer
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"{tool} needs a torch.nn.Module or a transformers.Trainer, got {type(model).__name__}")
    if optimizer is None or not hasattr(optimizer, "param_groups"):
        raise ValueError(f"optimizer must be a torch optimizer, got {optimizer!r}")
    if dataloader is None:
        raise ValueError("dataloader is required (an iterable of batches)")
    return TrainingParts(
        model=model,
        optimizer=optimizer,
        dataloader=dataloader,
        accelerator=accelerator,
        loss_fn=loss_fn or default_loss,
        accumulation_steps=accumulation_steps or int(getattr(accelerator, "gradient_accumulation_steps", 1) or 1),
        max_grad_norm=max_grad_norm,
    )
