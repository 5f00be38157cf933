"""The vocabulary of every check: each error is a ``ValueError`` naming the option and the value it got.

The schedules' option checks (:mod:`hf_lrsched._checks.options`), the registry and the tools all say
"wrong" in these words, so an option reads the same wherever it is checked. Step counts are at most
:data:`MAX_STEPS`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

#: Largest accepted step count: steps up to 2**53 are exact as floats (the phase arithmetic uses them).
MAX_STEPS = 2**53

__all__ = [
    "MAX_STEPS",
    "check_bool",
    "check_choice",
    "check_int",
    "check_length",
    "check_lengths",
    "check_per_group",
    "check_real",
    "check_steps_per_epoch",
    "epochs_of",
    "is_int",
    "is_real",
    "length_in_steps",
    "resolve_length",
]


def is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _show_int(value: int) -> str:
    text = repr(int(value))
    return text if len(text) <= 30 else f"{text[:6]}... (an int of {len(text)} digits)"


def check_int(name: str, value, *, minimum: int = 0, maximum: int = MAX_STEPS) -> int:
    """Check that ``value`` is an int (not a bool) in ``[minimum, maximum]`` and return it.

    Examples:
      >>> check_int("num_steps", 1, minimum=2)
      Traceback (most recent call last):
      ...
      ValueError: num_steps must be >= 2, got 1
    """
    if not is_int(value):
        raise ValueError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {_show_int(value)}")
    if value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {_show_int(value)}")
    return int(value)


def _interval(low, high, low_open: bool, high_open: bool) -> str:
    """The accepted range in words: ``> 0``, ``<= 1.0``, ``in (0.0, 1.0]`` or ``''`` (any finite number)."""
    if low is None and high is None:
        return ""
    if high is None:
        return f"{'>' if low_open else '>='} {low}"
    if low is None:
        return f"{'<' if high_open else '<='} {high}"
    return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"


def check_real(
    name: str,
    value,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Check that ``value`` is a finite real number (not a bool) in the given interval; return it as float.

    Args:
      name: option name, used in error messages.
      value: the value given.
      low, high: bounds (``None``: unbounded on that side).
      low_open, high_open: exclude the bound itself.

    Returns:
      ``float(value)``.

    Examples:
      >>> check_real("gamma", 1, 0.0, 1.0, low_open=True)
      1.0
      >>> check_real("start_lr", 0.0, 0, low_open=True)
      Traceback (most recent call last):
      ...
      ValueError: start_lr must be > 0, got 0.0
      >>> check_real("end_lr", float("inf"))
      Traceback (most recent call last):
      ...
      ValueError: end_lr must be a finite number, got inf
    """
    if not is_real(value):
        raise ValueError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    try:
        value = float(value)
    except OverflowError:  # an int too large for a float
        raise ValueError(f"{name} must be a finite number, got {value!r}") from None
    interval = _interval(low, high, low_open, high_open)
    bounded = low is not None and high is not None
    if not math.isfinite(value) and not bounded:  # inf is "> 0": say what is wrong with it
        raise ValueError(f"{name} must be a finite number{' ' + interval if interval else ''}, got {value!r}")
    if (
        not math.isfinite(value)
        or (low is not None and (value < low or (low_open and value == low)))
        or (high is not None and (value > high or (high_open and value == high)))
    ):
        raise ValueError(f"{name} must be {interval}, got {value!r}")
    return value


def check_bool(name: str, value) -> bool:
    """Check that ``value`` is a bool (not ``0``/``1`` or a string such as ``"false"``) and return it.

    Examples:
      >>> check_bool("three_phase", "false")
      Traceback (most recent call last):
      ...
      ValueError: three_phase must be a bool, got 'false'
    """
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be a bool, got {value!r}")
    return value


def check_choice(name: str, value, choices: Sequence[str]) -> str:
    """Check that ``value`` is one of ``choices`` and return it.

    Examples:
      >>> check_choice("mode", "log", ("exp", "linear"))
      Traceback (most recent call last):
      ...
      ValueError: mode must be one of ['exp', 'linear'], got 'log'
    """
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def epochs_of(value) -> float | None:
    """The number of epochs in a length written ``"Nep"`` (``"2ep"``, ``"0.5ep"``), or ``None`` for any other value.

    Examples:
      >>> epochs_of("60ep"), epochs_of("0.5ep"), epochs_of(60), epochs_of("ep")
      (60.0, 0.5, None, None)
    """
    if not isinstance(value, str) or not value.endswith("ep"):
        return None
    try:
        epochs = float(value[:-2])
    except ValueError:
        return None
    return epochs if math.isfinite(epochs) else None


def check_steps_per_epoch(value) -> int:
    """Check ``steps_per_epoch`` (optimizer updates per epoch, what ``"Nep"`` lengths are counted in).

    Examples:
      >>> check_steps_per_epoch(0)
      Traceback (most recent call last):
      ...
      ValueError: steps_per_epoch must be >= 1, got 0
    """
    return check_int("steps_per_epoch", value, minimum=1)


def check_length(name: str, value, *, minimum: int = 0) -> int | float | str:
    """Check a length: steps (``int`` >= ``minimum``), a fraction of training (``float`` in (0, 1)) or ``"Nep"``.

    Needs no run length: it is what :func:`resolve_length` checks before turning a fraction or epochs
    into steps. ``N`` in ``"Nep"`` is a positive number (``"0.5ep"`` is half an epoch).

    Returns:
      ``value`` (an ``int``, a ``float`` or the ``"Nep"`` string).

    Examples:
      >>> check_length("step_size", 0.25), check_length("step_size", 30, minimum=1), check_length("step_size", "2ep")
      (0.25, 30, '2ep')
      >>> check_length("step_size", 1.5)
      Traceback (most recent call last):
      ...
      ValueError: step_size must be an int number of steps or a float in (0, 1) (...), or epochs such as '2ep', got 1.5
      >>> check_length("step_size", "0ep")
      Traceback (most recent call last):
      ...
      ValueError: step_size must be a positive number of epochs, got '0ep'
    """
    if is_int(value):
        return check_int(name, value, minimum=minimum, maximum=MAX_STEPS)
    if is_real(value) and 0.0 < value < 1.0:
        return float(value)
    epochs = epochs_of(value)
    if epochs is not None:
        if epochs <= 0:
            raise ValueError(f"{name} must be a positive number of epochs, got {value!r}")
        return value
    raise ValueError(
        f"{name} must be an int number of steps or a float in (0, 1) (a fraction of num_training_steps), "
        f"or epochs such as '2ep', got {value!r}"
    )


def resolve_length(
    name: str, value, num_training_steps: int | None, *, minimum: int = 0, steps_per_epoch: int | None = None
) -> int:
    """Check a length given as steps, a fraction of training or epochs (:func:`check_length`); return it in steps.

    :func:`check_length`, then :func:`length_in_steps`.

    Args:
      name: option name, used in error messages.
      value: an ``int`` >= ``minimum`` or a ``float`` in (0, 1).
      num_training_steps: total optimizer steps; needed for fractions.
      minimum: smallest accepted number of steps.
      steps_per_epoch: optimizer updates per epoch; needed for ``"Nep"``.

    Returns:
      The length in optimizer steps.

    Examples:
      >>> resolve_length("num_warmup_steps", 0.1, 1000)
      100
      >>> resolve_length("num_warmup_steps", 250, None)
      250
    """
    checked = check_length(name, value, minimum=minimum)
    return length_in_steps(name, checked, num_training_steps, minimum=minimum, steps_per_epoch=steps_per_epoch)


def length_in_steps(
    name: str,
    value: int | float | str,
    num_training_steps: int | None,
    *,
    minimum: int = 0,
    steps_per_epoch: int | None = None,
) -> int:
    """A length already checked by :func:`check_length`, in steps: the one place a fraction or epochs become steps.

    Fractions and epochs round up, as transformers does for ``warmup_ratio``; the product is first
    rounded to 9 decimals so that ``0.3 * 100`` gives 30, not 31. ``steps_per_epoch`` is already
    checked (:func:`check_steps_per_epoch`).

    Examples:
      >>> length_in_steps("step_size", 0.3, 100), length_in_steps("step_size", 0.001, 100, minimum=1)
      (30, 1)
      >>> length_in_steps("step_size", 0.3, None)
      Traceback (most recent call last):
      ...
      ValueError: step_size=0.3 is a fraction of training, which needs num_training_steps; ...
      >>> length_in_steps("milestones[0]", "1.5ep", None, steps_per_epoch=4)
      6
      >>> length_in_steps("milestones[0]", "60ep", 200)
      Traceback (most recent call last):
      ...
      ValueError: milestones[0]='60ep' is in epochs, which needs steps_per_epoch (optimizer updates per epoch); ...
    """
    if is_int(value):
        return int(value)
    epochs = epochs_of(value)
    if epochs is not None:
        if steps_per_epoch is None:
            raise ValueError(
                f"{name}={value!r} is in epochs, which needs steps_per_epoch (optimizer updates per epoch); "
                "it is unknown here: give steps_per_epoch (to get_scheduler, a factory or in lr_scheduler_kwargs), "
                "or train with a dataloader that has a length (not an IterableDataset)"
            )
        return max(minimum, math.ceil(round(epochs * steps_per_epoch, 9)))
    if num_training_steps is None:
        raise ValueError(
            f"{name}={value!r} is a fraction of training, which needs num_training_steps; "
            "give num_training_steps or an int number of steps"
        )
    return max(minimum, math.ceil(round(value * num_training_steps, 9)))


def check_per_group(name: str, value, low: float | None = None, high: float | None = None, **interval) -> list[float]:
    """:func:`check_real` on one number, or on each of a list with one per param group (named ``name[i]``).

    How many groups there are is the optimizer's business (see the one-cycle factory); this checks values only.

    Examples:
      >>> check_per_group("max_lr", [1e-3, 0.0], 0, low_open=True)
      Traceback (most recent call last):
      ...
      ValueError: max_lr[1] must be > 0, got 0.0
    """
    if isinstance(value, (list, tuple)):
        return [check_real(f"{name}[{i}]", v, low, high, **interval) for i, v in enumerate(value)]
    return [check_real(name, value, low, high, **interval)]


def check_lengths(
    num_warmup_steps,
    num_training_steps,
    *,
    require_total: bool = True,
    require_warmup: bool = True,
    schedule: str = "this schedule",
    steps_per_epoch: int | None = None,
) -> tuple[int | None, int | None]:
    """Check the two lengths every schedule gets (this package's and transformers' own alike).

    ``num_training_steps``: ``None`` (where ``require_total`` is false) or an int in [1, 2**53];
    ``num_warmup_steps``: ``None``, an int in [0, 2**53], a fraction in (0, 1) of
    ``num_training_steps`` or epochs (``"Nep"``, with ``steps_per_epoch``), resolved to steps; with a
    total, warmup must end before it. Bools are
    rejected (``True`` is an int to Python, never a step count).

    Args:
      num_warmup_steps: warmup steps, a fraction of training, or ``None``.
      num_training_steps: total optimizer updates, or ``None``.
      require_total: whether the schedule needs ``num_training_steps``.
      require_warmup: whether ``num_warmup_steps=None`` is an error.
      schedule: the schedule's name, for the message when the total is missing.
      steps_per_epoch: optimizer updates per epoch (checked already), for a warmup in epochs.

    Returns:
      ``(warmup, total)``, resolved (``warmup`` is ``None`` only if given as ``None``).

    Examples:
      >>> check_lengths(0.1, 200)
      (20, 200)
      >>> check_lengths(-1, 200)
      Traceback (most recent call last):
      ...
      ValueError: num_warmup_steps must be >= 0, got -1
    """
    if num_training_steps is None:
        if require_total:
            raise ValueError(f"num_training_steps is required for {schedule}, got None")
    else:
        num_training_steps = check_int("num_training_steps", num_training_steps, minimum=1)
    if num_warmup_steps is None and not require_warmup:
        return None, num_training_steps
    warmup = resolve_length("num_warmup_steps", num_warmup_steps, num_training_steps, steps_per_epoch=steps_per_epoch)
    if num_training_steps is not None and warmup >= num_training_steps:
        raise ValueError(f"num_warmup_steps={warmup} must be smaller than num_training_steps={num_training_steps}")
    return warmup, num_training_steps
