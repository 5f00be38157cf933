"""Warmup, written once and joined to every decay of :mod:`hf_lrsched.schedules` (re-exported there)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

from ._checks.validation import check_choice, check_lengths, check_real

Schedule = Callable[[int], float]

WARMUP_TYPES = ("linear", "cosine", "exponential")

__all__ = ["WARMUP_TYPES", "warmup_multiplier"]


def _check_warmup_options(warmup_type, warmup_start_ratio, min_lr_ratio) -> tuple[float, float]:
    """The options every warmup schedule shares, which need no run length; returns ``(start, floor)``."""
    check_choice("warmup_type", warmup_type, WARMUP_TYPES)
    start = check_real("warmup_start_ratio", warmup_start_ratio, 0.0, 1.0, high_open=True)
    if warmup_type == "exponential" and start == 0.0:
        raise ValueError(
            "warmup_type='exponential' needs warmup_start_ratio > 0 (it multiplies up from it), "
            f"got warmup_start_ratio={start!r}"
        )
    floor = check_real("min_lr_ratio", min_lr_ratio, 0.0, 1.0, high_open=True)
    return start, floor


def _check_common(
    num_warmup_steps,
    num_training_steps,
    warmup_type,
    warmup_start_ratio,
    min_lr_ratio,
    *,
    require_total: bool = True,
) -> tuple[int, int | None, str, float, float]:
    """Validate the lengths and the options every schedule shares; returns them resolved."""
    warmup, num_training_steps = check_lengths(num_warmup_steps, num_training_steps, require_total=require_total)
    start, floor = _check_warmup_options(warmup_type, warmup_start_ratio, min_lr_ratio)
    return warmup, num_training_steps, warmup_type, start, floor


def warmup_multiplier(
    step: int, *, num_warmup_steps: int, warmup_type: str = "linear", warmup_start_ratio: float = 0.0
) -> float:
    """Multiplier during warmup, for ``0 <= step < num_warmup_steps``.

    With ``p = step / W`` and ``s = warmup_start_ratio``:

    * ``linear``:      ``s + (1 - s) p`` (transformers' warmup when ``s = 0``)
    * ``cosine``:      ``s + (1 - s) (1 - cos(pi p)) / 2``
    * ``exponential``: ``s ** (1 - p)`` (geometric growth; needs ``s > 0``)

    All three reach 1 at ``step = W``, so the schedule is continuous at the end of warmup.

    Examples:
      >>> warmup_multiplier(5, num_warmup_steps=10)
      0.5
      >>> warmup_multiplier(0, num_warmup_steps=10, warmup_type="exponential", warmup_start_ratio=0.01)
      0.01
    """
    p = step / num_warmup_steps
    s = warmup_start_ratio
    if warmup_type == "linear":
        return s + (1.0 - s) * p
    if warmup_type == "cosine":
        return s + (1.0 - s) * (1.0 - math.cos(math.pi * p)) / 2.0
    return s ** (1.0 - p)


def _join_warmup(
    step: int,
    *,
    num_warmup_steps: int,
    warmup_type: str,
    warmup_start_ratio: float,
    decay: Schedule,
) -> float:
    # Like optax.join_schedules: the decay sees the step count since the end of warmup.
    if step < num_warmup_steps:
        return warmup_multiplier(
            step,
            num_warmup_steps=num_warmup_steps,
            warmup_type=warmup_type,
            warmup_start_ratio=warmup_start_ratio,
        )
    return decay(step - num_warmup_steps)


def _with_warmup(decay: Schedule, num_warmup_steps: int, warmup_type: str, start: float) -> Schedule:
    if num_warmup_steps == 0:
        return decay
    return functools.partial(
        _join_warmup,
        num_warmup_steps=num_warmup_steps,
        warmup_type=warmup_type,
        warmup_start_ratio=start,
        decay=decay,
    )
