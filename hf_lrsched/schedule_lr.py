"""``ScheduleLR``: the ``LambdaLR`` every hf-lrsched factory returns (fast step, checked resume), and where a
param group keeps its momentum (:func:`momentum_key`, :func:`momentum_value`: the one answer the factories,
monitors, plots and recipes use)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from torch import Tensor
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR

from .schedules import Schedule

__all__ = ["ScheduleLR", "momentum_key", "momentum_value"]


#: The change reported for a state that records no schedule name.
_UNKNOWN = (
    "the saved schedule is unknown (transformers' own scheduler, e.g. lr_scheduler_type 'linear', "
    "a ScheduleLR built without schedule_name, or hf-lrsched 0.1.0)"
)


class ScheduleLR(LambdaLR):
    """A ``LambdaLR`` driven by one pure schedule shared by every parameter group.

    The multiplier is evaluated once per step and applied to each group's base LR, so groups keep
    their own LRs. Optionally it also sets each group's momentum (SGD ``momentum`` or Adam
    ``betas[0]``) from per-group momentum schedules, as ``OneCycleLR`` does.

    ``state_dict()`` holds only plain data, so checkpoints load with ``torch.load(weights_only=True)``.
    Besides the step counters and base LRs it saves what identifies the schedule: ``schedule_name``,
    ``schedule_options`` (the options, with lengths given as fractions resolved to steps) and
    ``momentum_key``. ``load_state_dict`` refuses a state saved with a different identity, with a
    ``ValueError`` naming each differing option (saved vs now), so a resume never mixes two
    schedules. To change the schedule on purpose, set the environment variable
    ``HF_LRSCHED_ALLOW_SCHEDULE_CHANGE=1``: the new schedule (with its own base LRs) then continues
    from the saved step. A state without an identity (transformers' own scheduler, hf-lrsched 0.1.0)
    is refused too, as an unknown schedule, unless the same variable is set; a ScheduleLR built by
    hand without ``schedule_name`` has no identity to compare and loads any state.
    The structure of the scheduler (momentum key, float or tensor LRs) always stays that of the
    current optimizer.

    Args:
      optimizer: wrapped optimizer.
      lr_lambda: ``step -> multiplier`` (one function for all groups).
      last_epoch: index of the last step, ``-1`` to start fresh (as in ``LambdaLR``).
      momentum_lambdas: one ``step -> momentum`` function per group, or ``None``.
      momentum_key: ``"momentum"`` or ``"betas"``: where the momentum goes in each group.
      schedule_name: the registered name of the schedule (``None``: not checked on load).
      schedule_options: the schedule's options as plain data (``None``: not checked on load).

    Examples:
      >>> import torch
      >>> from hf_lrsched import get_scheduler
      >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
      >>> saved = get_scheduler("warmup_step", opt, 0, 100, {"gamma": 0.5}).state_dict()
      >>> get_scheduler("warmup_step", opt, 0, 100, {"gamma": 0.2}).load_state_dict(saved)
      Traceback (most recent call last):
      ...
      ValueError: the scheduler state was saved with another schedule: gamma: saved 0.5, now 0.2; ...
    """

    #: Fields that describe this scheduler's structure: never taken from a loaded state.
    _STRUCTURE = ("schedule_name", "schedule_options", "momentum_key", "_tensor_lrs", "_momentum_lambdas")

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Schedule,
        last_epoch: int = -1,
        *,
        momentum_lambdas: Sequence[Schedule] | None = None,
        momentum_key: str | None = None,
        schedule_name: str | None = None,
        schedule_options: Mapping | None = None,
    ) -> None:
        if not callable(lr_lambda):
            raise TypeError(f"lr_lambda must be a callable step -> multiplier, got {lr_lambda!r}")
        self._momentum_lambdas = list(momentum_lambdas) if momentum_lambdas is not None else None
        self.momentum_key = momentum_key
        self.schedule_name = schedule_name
        self.schedule_options = dict(schedule_options) if schedule_options is not None else None
        self._tensor_lrs = any(isinstance(group["lr"], Tensor) for group in optimizer.param_groups)
        super().__init__(optimizer, lr_lambda, last_epoch)

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        multiplier = self.lr_lambdas[0](step)
        if self._momentum_lambdas is not None:
            self._set_momentum(step)
        return [base_lr * multiplier for base_lr in self.base_lrs]

    def step(self, epoch: int | None = None) -> None:
        # torch's step() handles the deprecated `epoch` argument, the first-step order warnings and
        # tensor LRs; past those, an update is "one multiplier times each base LR", done here without
        # the per-step context managers and list copies that dominate a torch scheduler step.
        if epoch is not None or self._step_count < 2 or self._tensor_lrs:
            super().step(epoch)
            return
        self._step_count += 1
        self.last_epoch = step = self.last_epoch + 1
        multiplier = self.lr_lambdas[0](step)
        if self._momentum_lambdas is not None:
            self._set_momentum(step)
        last_lr = []
        for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = lr = base_lr * multiplier
            last_lr.append(lr)
        self._last_lr = last_lr

    def _set_momentum(self, step: int) -> None:
        betas = self.momentum_key == "betas"
        previous = value = None
        for group, momentum in zip(self.optimizer.param_groups, self._momentum_lambdas, strict=True):
            if momentum is not previous:  # groups sharing one momentum schedule evaluate it once
                value, previous = momentum(step), momentum
            if betas:
                group["betas"] = (value, *group["betas"][1:])
            else:
                group["momentum"] = value

    def get_last_momentum(self) -> list[float] | None:
        """The momentum (or beta1) of each group at the current step, or ``None`` if not cycled."""
        if self._momentum_lambdas is None:
            return None
        return [m(self.last_epoch) for m in self._momentum_lambdas]

    def state_dict(self) -> dict:
        state = super().state_dict()
        state.pop("_momentum_lambdas", None)  # functions: rebuilt by the factory, not saved
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a state saved by :meth:`state_dict`; refuse one saved with another schedule.

        Raises:
          ValueError: the saved schedule name, options or momentum key differ from this scheduler's
            (each difference named, saved vs now), or the state records no schedule name, unless
            ``HF_LRSCHED_ALLOW_SCHEDULE_CHANGE=1``.
        """
        state = dict(state_dict)
        changes = self._schedule_changes(state)
        if changes and os.environ.get("HF_LRSCHED_ALLOW_SCHEDULE_CHANGE", "").lower() not in ("1", "true", "yes"):
            unknown = changes[0].startswith(_UNKNOWN)  # maybe the same schedule: do not say "another"
            header = "does not record its schedule" if unknown else "was saved with another schedule"
            raise ValueError(
                f"the scheduler state {header}: "
                + "; ".join(changes)
                + "; resume with the schedule it was saved with, or set HF_LRSCHED_ALLOW_SCHEDULE_CHANGE=1 "
                "to continue from the saved step with the new schedule"
            )
        for key in self._STRUCTURE:
            state.pop(key, None)
        if changes:
            state.pop("base_lrs", None)  # a deliberate change: the new schedule's peak LRs apply
        super().load_state_dict(state)
        if changes:
            self._apply_current_step()

    def _apply_current_step(self) -> None:
        # After a deliberate change the loaded optimizer still holds the old schedule's LR (and momentum)
        # for the saved step; without this the first update after resuming would use it.
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            if isinstance(group["lr"], Tensor):
                group["lr"].fill_(lr)  # in place, as torch's own step does
            else:
                group["lr"] = lr
        self._last_lr = [
            lr.clone() if isinstance(lr, Tensor) else lr for lr in (g["lr"] for g in self.optimizer.param_groups)
        ]

    def _schedule_changes(self, saved: Mapping) -> list[str]:
        """``"option: saved X, now Y"`` for each difference between a saved identity and this one."""
        changes = []
        if "momentum_key" in saved and saved["momentum_key"] != self.momentum_key:
            changes.append(f"momentum_key: saved {saved['momentum_key']!r}, now {self.momentum_key!r}")
        if self.schedule_name is None:
            return changes  # a hand-built ScheduleLR: no identity of its own to compare
        if saved.get("schedule_name") is None:
            # Resuming a `linear` Trainer checkpoint with one of ours would train a hybrid curve.
            return [f"{_UNKNOWN}, now {self.schedule_name!r}", *changes]
        if saved["schedule_name"] != self.schedule_name:
            return [f"schedule: saved {saved['schedule_name']!r}, now {self.schedule_name!r}", *changes]
        before, now = saved.get("schedule_options") or {}, self.schedule_options or {}
        for key in sorted(set(before) | set(now)):
            if before.get(key) != now.get(key):
                changes.append(f"{key}: saved {before.get(key)!r}, now {now.get(key)!r}")
        return changes


def momentum_key(group: Mapping[str, Any]) -> str | None:
    """``"betas"`` (Adam-style: momentum is ``betas[0]``), ``"momentum"`` (SGD-style), or ``None``.

    Args:
      group: a param group, or an optimizer's ``defaults`` (the key every group gets).

    Returns:
      The key that holds the momentum; ``None`` when the group has neither (e.g. Adagrad).

    Examples:
      >>> momentum_key({"lr": 1e-3, "betas": (0.9, 0.999)}), momentum_key({"momentum": 0.9}), momentum_key({})
      ('betas', 'momentum', None)
    """
    betas = group.get("betas")
    if isinstance(betas, (tuple, list)) and betas:
        return "betas"
    if "momentum" in group:
        return "momentum"
    return None


def momentum_value(group: Mapping[str, Any]) -> Any:
    """The momentum ``group`` uses: ``betas[0]`` or ``momentum`` as stored (a float, or a tensor), or ``None``.

    Examples:
      >>> momentum_value({"betas": (0.85, 0.999)}), momentum_value({"momentum": 0.9}), momentum_value({})
      (0.85, 0.9, None)
    """
    key = momentum_key(group)
    if key == "betas":
        return group["betas"][0]
    return group[key] if key is not None else None
