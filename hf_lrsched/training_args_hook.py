"""The check ``TrainingArguments`` runs on ``lr_scheduler_type`` / ``lr_scheduler_kwargs`` when it is built.

Installed on import (``import hf_lrsched`` does it) through :mod:`hf_lrsched._transformers_compat`:
an unknown name, a malformed JSON object, an option the schedule does not take, or a value that is
wrong for any run length (:func:`hf_lrsched.option_probe.check_options_early`) fails at parse time,
not at ``trainer.train()``. What depends on the length of training waits for the real build.
"""

from __future__ import annotations

from typing import Any

from . import _transformers_compat as compat
from .option_probe import check_options_early
from .registry import _REGISTRY, _check_option_names, _unknown_name_error
from .validation import check_finite_options

__all__: list[str] = []  # nothing to call: importing it installs the check


def _check_training_args(name: str, kwargs: Any) -> None:
    """Fail at argument-parsing time on bad ``lr_scheduler_kwargs`` (installed on TrainingArguments)."""
    if name not in compat.known_scheduler_names():
        raise _unknown_name_error(name)  # transformers would too, without the did-you-mean hint
    if isinstance(kwargs, str):
        text = kwargs.strip()
        if text.startswith("{"):
            kwargs = compat.parse_kwargs_json(text)
        elif text and name in _REGISTRY:
            raise ValueError(
                f"--lr_scheduler_kwargs must be a JSON object such as '{{\"gamma\": 0.999}}', got {kwargs!r}"
            )
        else:
            return
    if name in _REGISTRY and kwargs:
        _check_option_names(name, kwargs)
        try:  # e.g. unsorted milestones: now, not at trainer.train()
            check_options_early(_REGISTRY[name].factory, kwargs)
        except ValueError as err:
            raise ValueError(f"lr_scheduler_kwargs for {name!r}: {err}") from None
    if name not in _REGISTRY and isinstance(kwargs, dict):  # transformers' own: NaN/inf need no run length
        check_finite_options(name, kwargs)


compat.install_training_args_check(_check_training_args)
