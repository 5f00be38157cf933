"""Kept for pickles: a ``TrainingArguments`` saved by an earlier hf-lrsched (``training_args.bin`` in every
Trainer checkpoint) names ``hf_lrsched._transformers_compat._scheduler_type`` to rebuild its
``lr_scheduler_type``. The code lives in :mod:`hf_lrsched._hf.compat`."""

from ._hf.compat import _scheduler_type  # noqa: F401
