"""Per-param-group LR and momentum monitoring for ``Trainer`` and Accelerate loops.

transformers logs only the first group's LR (``learning_rate``). :class:`LRMonitorCallback` adds
``lr/group_<i>`` for every parameter group and, where the optimizer has one, ``beta1/group_<i>``
(Adam-style ``betas``) or ``momentum/group_<i>`` (SGD-style ``momentum``) to the training logs, so
``trainer.state.log_history``, TensorBoard and W&B see them. :func:`log_lrs` gives an Accelerate
loop the same dict and sends it to ``accelerator.log``.

Values are read from ``optimizer.param_groups`` exactly (Python floats, not rounded). Under
``Trainer`` they are taken right after ``optimizer.step()`` and before ``lr_scheduler.step()``: the
values the logged update used, the same moment transformers 5.x reads ``learning_rate`` at. (The
console printout of transformers formats every float with ``.4g``; ``log_history`` and the
reporting integrations get the exact values.)
"""

from __future__ import annotations

import numbers
from typing import Any

from transformers import TrainerCallback
from transformers.utils import logging

from .schedule_lr import momentum_key, momentum_value

__all__ = ["LRMonitorCallback", "log_lrs", "param_group_values"]

logger = logging.get_logger(__name__)


def _as_float(value: Any) -> float | None:
    if hasattr(value, "item") and getattr(value, "numel", lambda: 1)() == 1:
        value = value.item()  # a tensor LR (capturable optimizers)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    return None


def param_group_values(optimizer, *, momentum: bool = True) -> dict[str, float]:
    """The LR (and momentum or beta1) of every param group of ``optimizer``, keyed for logging.

    Keys: ``lr/group_<i>``; with ``momentum=True`` also ``beta1/group_<i>`` when the group has
    ``betas`` (Adam, AdamW, ...) or ``momentum/group_<i>`` when it has ``momentum`` (SGD, RMSprop).

    Args:
      optimizer: a ``torch.optim.Optimizer`` (or an Accelerate/Trainer wrapper of one).
      momentum: also report momentum/beta1.

    Returns:
      A dict of exact floats.

    Examples:
      >>> import torch
      >>> w, b = torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(1))
      >>> opt = torch.optim.AdamW([{"params": [w]}, {"params": [b], "lr": 1e-4}], lr=3e-4)
      >>> param_group_values(opt)
      {'lr/group_0': 0.0003, 'beta1/group_0': 0.9, 'lr/group_1': 0.0001, 'beta1/group_1': 0.9}
    """
    values: dict[str, float] = {}
    for i, group in enumerate(optimizer.param_groups):
        lr = _as_float(group.get("lr"))
        if lr is not None:
            values[f"lr/group_{i}"] = lr
        if not momentum:
            continue
        value = _as_float(momentum_value(group))
        if value is not None:
            values[f"{'beta1' if momentum_key(group) == 'betas' else 'momentum'}/group_{i}"] = value
    return values


def log_lrs(optimizer, accelerator=None, *, step: int | None = None, momentum: bool = True) -> dict[str, float]:
    """Per-group LR and momentum/beta1 for an Accelerate (or plain PyTorch) loop.

    Call it once per update, after ``optimizer.step()`` and before ``lr_scheduler.step()``, to
    record the values that update used. With an ``accelerator`` the dict also goes to
    ``accelerator.log(values, step=step)``, i.e. to every tracker given as ``log_with``
    (TensorBoard, W&B, ...).

    Args:
      optimizer: the (prepared or plain) optimizer.
      accelerator: an ``accelerate.Accelerator`` to log through, or ``None`` to only return the dict.
      step: the step to log at (passed to ``accelerator.log``).
      momentum: also report momentum/beta1.

    Returns:
      The dict of :func:`param_group_values`.

    Examples:
      >>> import torch
      >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
      >>> log_lrs(opt)
      {'lr/group_0': 0.1, 'momentum/group_0': 0.9}
    """
    values = param_group_values(optimizer, momentum=momentum)
    if accelerator is not None:
        accelerator.log(values, step=step)
    return values


class LRMonitorCallback(TrainerCallback):
    """A ``TrainerCallback`` that logs the LR (and momentum/beta1) of every param group.

    At each update it records :func:`param_group_values` of the optimizer right after
    ``optimizer.step()`` (the values the update used); at each training log (the entries that carry
    ``learning_rate``) it adds them to the logs and to ``trainer.state.log_history``.

    Callbacks see ``logs`` in the order they were added, and transformers adds its reporting
    callbacks (TensorBoard, W&B, ...) before those passed as ``callbacks=[...]``. For the keys to
    reach them, put this callback first with :meth:`attach`::

        trainer = Trainer(model, args, train_dataset=ds, optimizers=(optimizer, None))
        LRMonitorCallback.attach(trainer)

    Passed in ``callbacks=[LRMonitorCallback()]`` instead, the keys still reach ``log_history`` and
    the callbacks after it (a warning says so when ``report_to`` names integrations).

    Logs keep only the updates at logging steps; with ``keep_history=True`` the monitor also keeps
    every update's values in :attr:`history` (e.g. to save or plot the exact LR trajectory).

    Args:
      momentum: also log ``beta1/group_<i>`` or ``momentum/group_<i>``.
      keep_history: keep every update's values in :attr:`history`.

    Attributes:
      history: with ``keep_history=True``, one dict per optimizer update, in order:
        ``{"step": u, **param_group_values(optimizer)}`` where ``u`` is the number of updates done
        before it (``state.global_step``: 0 for the first), holding the values update ``u`` used.
        It is never cleared by the monitor, so it spans several ``train()`` calls; a resumed run
        can prepend what it recorded before its checkpoint.
    """

    def __init__(self, momentum: bool = True, *, keep_history: bool = False):
        self.momentum = momentum
        self.keep_history = keep_history
        self.history: list[dict[str, float]] = []
        self.first = False
        self._last: dict[str, float] | None = None

    @classmethod
    def attach(cls, trainer, *, momentum: bool = True, keep_history: bool = False) -> LRMonitorCallback:
        """Add a monitor to ``trainer`` ahead of every other callback (replacing one already there).

        Args:
          trainer: a ``transformers.Trainer``.
          momentum: also log momentum/beta1.
          keep_history: keep every update's values in :attr:`history`.

        Returns:
          The callback.
        """
        callbacks = trainer.callback_handler.callbacks
        callbacks[:] = [cb for cb in callbacks if not isinstance(cb, cls)]
        monitor = cls(momentum=momentum, keep_history=keep_history)
        monitor.first = True
        callbacks.insert(0, monitor)
        return monitor

    def on_train_begin(self, args, state, control, **kwargs):
        self._last = None
        report_to = args.report_to if isinstance(args.report_to, (list, tuple)) else [args.report_to]
        integrations = [r for r in report_to if r and r != "none"]
        if integrations and not self.first:
            logger.warning(
                "LRMonitorCallback runs after the reporting callbacks (%s), so its lr/group_* keys reach "
                "log_history but not them; use LRMonitorCallback.attach(trainer) to put it first.",
                ", ".join(map(str, integrations)),
            )

    def on_optimizer_step(self, args, state, control, optimizer=None, **kwargs):
        if optimizer is not None:
            self._last = param_group_values(optimizer, momentum=self.momentum)
            if self.keep_history:
                self.history.append({"step": state.global_step, **self._last})

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs is None or self._last is None or "learning_rate" not in logs:
            return
        logs.update(self._last)
        # Trainer.log appended a copy of these logs just before calling us.
        if state.log_history and state.log_history[-1].get("step") == state.global_step:
            entry = state.log_history[-1]
            if entry.get("learning_rate") == logs["learning_rate"]:
                entry.update(self._last)
