"""Lengths in epochs under ``Trainer``: tell the factories how many optimizer updates an epoch has.

transformers calls a schedule's factory from ``Trainer.create_scheduler`` with the warmup, the total and
``lr_scheduler_kwargs``, never the epoch length. ``Trainer.set_initial_training_values`` computes it
(``ceil(len(train_dataloader) / gradient_accumulation_steps)``, when the dataloader has a length), so
we record it on the trainer there and expose it while ``create_scheduler`` runs, through a context
variable that the registry's wrapper reads (:class:`hf_lrsched.registry._NamedFactory`). Outside a
``create_scheduler`` call, and for a dataloader without a length (an ``IterableDataset``), it is
``None``: a length in epochs is then a ``ValueError`` naming ``steps_per_epoch``.
"""

from __future__ import annotations

import contextvars
import functools

from transformers import Trainer
from transformers.trainer_utils import has_length

_STEPS_PER_EPOCH: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "hf_lrsched_steps_per_epoch", default=None
)
_RECORDED = "_hf_lrsched_steps_per_epoch"


def current_steps_per_epoch() -> int | None:
    """Optimizer updates per epoch of the ``Trainer`` whose ``create_scheduler`` is running, else ``None``."""
    return _STEPS_PER_EPOCH.get()


def install_trainer_epoch_hook() -> None:
    """Wrap ``Trainer.set_initial_training_values`` (to record the epoch length) and ``create_scheduler``
    (to expose it while the scheduler is built). Idempotent; transformers without
    ``set_initial_training_values`` records nothing (epochs then need ``steps_per_epoch``)."""
    record = getattr(Trainer, "set_initial_training_values", None)
    if record is not None and not getattr(record, "_hf_lrsched_epochs", False):

        @functools.wraps(record)
        def set_initial_training_values(self, args, dataloader, *rest, **kwargs):
            values = record(self, args, dataloader, *rest, **kwargs)
            # values[1] is num_update_steps_per_epoch; without a dataloader length it is max_steps, not an epoch
            setattr(self, _RECORDED, int(values[1]) if has_length(dataloader) else None)
            return values

        set_initial_training_values._hf_lrsched_epochs = True
        Trainer.set_initial_training_values = set_initial_training_values

    create = Trainer.create_scheduler
    if getattr(create, "_hf_lrsched_epochs", False):
        return

    @functools.wraps(create)
    def create_scheduler(self, *args, **kwargs):
        token = _STEPS_PER_EPOCH.set(getattr(self, _RECORDED, None))
        try:
            return create(self, *args, **kwargs)
        finally:
            _STEPS_PER_EPOCH.reset(token)

    create_scheduler._hf_lrsched_epochs = True
    Trainer.create_scheduler = create_scheduler
