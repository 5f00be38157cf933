"""One optimizer update as the training loop makes it: the one loop of the LR tools (``find_lr``'s range
test and ``choose_lr``'s probes), with the accelerator's backward, autocast and clipping rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

__all__ = ["Stepper"]


@dataclass
class Stepper:
    """Forward, backward, clip and step a model on given batches (gradients accumulated over them).

    Args:
      model, optimizer: what is trained (prepared or not).
      accelerator: an ``accelerate.Accelerator``, or ``None``.
      loss_fn: ``(model, batch) -> loss``.
      max_grad_norm: clip the gradient norm before each update (``None``/0: no clipping).
    """

    model: Any
    optimizer: Any
    accelerator: Any
    loss_fn: Callable
    max_grad_norm: float | None

    def __post_init__(self) -> None:
        from accelerate.optimizer import AcceleratedOptimizer

        acc = self.accelerator
        # accelerator.backward scales the loss for its GradScaler, which only a prepared optimizer unscales
        # (a Trainer's optimizer is prepared only inside train()): otherwise use a plain backward.
        self.use_accelerator = acc is not None and (
            getattr(acc, "scaler", None) is None or isinstance(self.optimizer, AcceleratedOptimizer)
        )
        self.autocast = acc.autocast if acc is not None else None
        # accelerator.backward divides by its gradient_accumulation_steps: undo it, we accumulate here.
        self.undo_division = getattr(acc, "gradient_accumulation_steps", 1) if self.use_accelerator else 1
        self.several_processes = acc is not None and getattr(acc, "num_processes", 1) > 1

    def loss(self, batch) -> torch.Tensor:
        if self.autocast is not None:
            with self.autocast():
                return self.loss_fn(self.model, batch)
        return self.loss_fn(self.model, batch)

    def backward(self, batches: list, *, mean_over_processes: bool = False) -> float:
        """Zero the gradients, then accumulate them over ``batches``; returns the mean loss.

        ``mean_over_processes``: average the loss over processes too, so that every process takes
        the same decision from it (the range test stops on it).
        """
        self.optimizer.zero_grad(set_to_none=True)
        total = 0.0
        for batch in batches:
            loss = self.loss(batch)
            scaled = loss * (self.undo_division / len(batches))
            if self.use_accelerator:
                self.accelerator.backward(scaled)
            else:
                scaled.backward()
            total += float(loss.detach())
        mean = total / len(batches)
        if mean_over_processes and self.several_processes:
            mean = float(self.accelerator.reduce(torch.tensor(mean, device=self.accelerator.device), reduction="mean"))
        return mean

    def step(self) -> None:
        """Clip the accumulated gradients, update, and zero them."""
        if self.max_grad_norm:
            params = [p for g in self.optimizer.param_groups for p in g["params"]]
            if self.use_accelerator:
                self.accelerator.clip_grad_norm_(params, self.max_grad_norm)
            else:
                torch.nn.utils.clip_grad_norm_(params, self.max_grad_norm)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)

    def update(self, batches: list, lr: float) -> float:
        """One update at ``lr`` (every param group) on ``batches``; returns the mean loss."""
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        loss = self.backward(batches)
        self.step()
        return loss

    def heldout_losses(self, batches: list) -> torch.Tensor:
        """The loss of each held-out batch, those of every process concatenated (all processes get the same)."""
        training = self.model.training
        self.model.eval()
        with torch.no_grad():
            losses = torch.stack([self.loss(batch).detach().float() for batch in batches])
        self.model.train(training)
        if self.several_processes:
            losses = self.accelerator.gather(losses.to(self.accelerator.device))
        return losses.cpu()
