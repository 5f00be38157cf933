"""Each built-in schedule's options, checked in one pass.

For every schedule there are two functions, and nothing else checks its options:

* ``check_<schedule>_options(**options)`` takes every ``lr_scheduler_kwargs`` option and runs the
  checks that need no run length (types and ranges, milestone order, the warmup shape). It is what
  ``TrainingArguments`` runs when it is parsed, through :func:`hf_lrsched.check_schedule_options`.
* ``<schedule>_options(num_warmup_steps, num_training_steps, **options)`` calls it, checks the two
  lengths, turns every length given as a fraction of training into steps (the one place this
  happens) and checks what the run length decides (a drop that never comes, a milestone past the
  end). It returns the options *resolved*: what the curves of :mod:`hf_lrsched.schedules` evaluate
  and what a :class:`~hf_lrsched.ScheduleLR` records as its identity. Options left at ``None`` (a
  default the curve derives) stay ``None``.

Every message comes from :mod:`hf_lrsched._checks.validation`, so it names the option and the value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .validation import (
    check_bool,
    check_choice,
    check_int,
    check_length,
    check_lengths,
    check_per_group,
    check_real,
    check_steps_per_epoch,
    epochs_of,
    is_real,
    length_in_steps,
)

WARMUP_TYPES = ("linear", "cosine", "exponential")
ANNEAL_STRATEGIES = ("cos", "linear")

#: The fraction of training one-cycle rises for when neither ``pct_start`` nor a warmup is given (OneCycleLR's).
ONE_CYCLE_PCT_START = 0.3


# --------------------------------------------------------------------------------------------------
# Shared by the warmup schedules.
# --------------------------------------------------------------------------------------------------


def check_warmup_options(warmup_type, warmup_start_ratio, min_lr_ratio) -> None:
    """The options every warmup schedule shares."""
    check_warmup_shape(warmup_type, warmup_start_ratio)
    check_real("min_lr_ratio", min_lr_ratio, 0.0, 1.0, high_open=True)


def steps_per_epoch_of(steps_per_epoch) -> int | None:
    """``steps_per_epoch`` checked when given: what every length in epochs (``"Nep"``) is counted in."""
    return None if steps_per_epoch is None else check_steps_per_epoch(steps_per_epoch)


def _check_gamma(gamma) -> None:
    check_real("gamma", gamma, 0.0, 1.0, low_open=True)


def _check_drops_inside_training(name: str, given, steps: int, warmup: int, total: int) -> None:
    # A drop every `steps` steps after warmup first happens `steps` steps after the peak.
    span = total - warmup
    if steps >= span:
        raise ValueError(
            f"{name}={given!r} ({steps} steps) is not shorter than the {span} steps after warmup "
            f"(num_training_steps={total} - num_warmup_steps={warmup}); the LR would never drop"
        )


def _plain(value):
    """Lists for tuples (nested too): the identity is plain data that ``torch.load(weights_only=True)`` reads."""
    return [_plain(v) for v in value] if isinstance(value, (list, tuple)) else value


def _resolved(warmup, total, **options) -> dict[str, Any]:
    return {"num_training_steps": total, "num_warmup_steps": warmup, **{k: _plain(v) for k, v in options.items()}}


# --------------------------------------------------------------------------------------------------
# warmup_exponential
# --------------------------------------------------------------------------------------------------


def check_exponential_options(
    *, gamma, final_lr_ratio, staircase_steps, min_lr_ratio, warmup_type, warmup_start_ratio
) -> None:
    check_warmup_options(warmup_type, warmup_start_ratio, min_lr_ratio)
    if gamma is not None and final_lr_ratio is not None:
        raise ValueError(
            f"give gamma or final_lr_ratio, not both (got gamma={gamma!r}, final_lr_ratio={final_lr_ratio!r})"
        )
    if gamma is not None:
        _check_gamma(gamma)
    if final_lr_ratio is not None:
        check_real("final_lr_ratio", final_lr_ratio, 0.0, 1.0, low_open=True)
    if staircase_steps is not None:
        check_length("staircase_steps", staircase_steps, minimum=1)


def exponential_options(num_warmup_steps, num_training_steps, *, steps_per_epoch=None, **options) -> dict[str, Any]:
    check_exponential_options(**options)
    per_epoch = steps_per_epoch_of(steps_per_epoch)
    warmup, total = check_lengths(num_warmup_steps, num_training_steps, require_total=False, steps_per_epoch=per_epoch)
    if options["gamma"] is None and total is None:
        ratio = 0.01 if options["final_lr_ratio"] is None else options["final_lr_ratio"]
        raise ValueError(
            "num_training_steps is required unless gamma is given (final_lr_ratio="
            f"{ratio!r} is reached at num_training_steps), got num_training_steps=None"
        )
    staircase = options["staircase_steps"]
    if staircase is not None:
        steps = length_in_steps("staircase_steps", staircase, total, minimum=1, steps_per_epoch=per_epoch)
        if total is not None and steps > 1:
            _check_drops_inside_training("staircase_steps", staircase, steps, warmup, total)
        options["staircase_steps"] = steps
    return _resolved(warmup, total, **options)


# --------------------------------------------------------------------------------------------------
# warmup_step
# --------------------------------------------------------------------------------------------------


def check_step_options(*, step_size, gamma, min_lr_ratio, warmup_type, warmup_start_ratio) -> None:
    check_warmup_options(warmup_type, warmup_start_ratio, min_lr_ratio)
    if step_size is not None:
        check_length("step_size", step_size, minimum=1)
    _check_gamma(gamma)


def step_options(num_warmup_steps, num_training_steps, *, steps_per_epoch=None, **options) -> dict[str, Any]:
    check_step_options(**options)
    per_epoch = steps_per_epoch_of(steps_per_epoch)
    warmup, total = check_lengths(num_warmup_steps, num_training_steps, steps_per_epoch=per_epoch)
    if options["step_size"] is not None:
        steps = length_in_steps("step_size", options["step_size"], total, minimum=1, steps_per_epoch=per_epoch)
        _check_drops_inside_training("step_size", options["step_size"], steps, warmup, total)
        options["step_size"] = steps
    return _resolved(warmup, total, **options)


# --------------------------------------------------------------------------------------------------
# warmup_multistep
# --------------------------------------------------------------------------------------------------


def _not_increasing(milestones, i: int, before: int, steps) -> None:
    """Raise: ``milestones[i]`` (at ``steps[i]``) is not after ``milestones[before]``."""
    where = (
        f"resolves to step {steps[i]}, not after {steps[before]}"
        if isinstance(steps[i], int)
        else f"is not after milestones[{before}]={milestones[before]!r}"
    )
    raise ValueError(
        f"milestones must be strictly increasing, got {list(milestones)!r} (milestones[{i}]={milestones[i]!r} {where})"
    )


def _in_own_unit(length):
    return epochs_of(length) if isinstance(length, str) else length


def check_multistep_options(*, milestones, gamma, min_lr_ratio, warmup_type, warmup_start_ratio) -> None:
    check_warmup_options(warmup_type, warmup_start_ratio, min_lr_ratio)
    _check_gamma(gamma)
    if milestones is None:
        return
    if isinstance(milestones, (str, bytes)) or not isinstance(milestones, Sequence) or not milestones:
        raise ValueError(f"milestones must be a non-empty list of steps, got {milestones!r}")
    given = [check_length(f"milestones[{i}]", m) for i, m in enumerate(milestones)]
    # Steps, fractions and epochs compare only once the lengths are known; each kind must increase on its own.
    for kind in (int, float, str):
        same = [i for i, m in enumerate(given) if isinstance(m, kind)]
        for before, i in zip(same, same[1:]):
            if _in_own_unit(given[i]) <= _in_own_unit(given[before]):
                _not_increasing(milestones, i, before, given)


def multistep_options(num_warmup_steps, num_training_steps, *, steps_per_epoch=None, **options) -> dict[str, Any]:
    check_multistep_options(**options)
    per_epoch = steps_per_epoch_of(steps_per_epoch)
    warmup, total = check_lengths(num_warmup_steps, num_training_steps, steps_per_epoch=per_epoch)
    milestones = options["milestones"]
    if milestones is not None:
        steps = [
            length_in_steps(f"milestones[{i}]", m, total, steps_per_epoch=per_epoch) for i, m in enumerate(milestones)
        ]
        for i in range(1, len(steps)):
            if steps[i] <= steps[i - 1]:
                _not_increasing(milestones, i, i - 1, steps)
        for i, s in enumerate(steps):
            # A milestone at the peak step W (step 0 without warmup) would hide the base LR entirely.
            if s <= warmup:
                where = "falls inside warmup" if warmup else "is the first step, so the base LR is never used"
                raise ValueError(
                    f"milestones[{i}]={milestones[i]!r} (step {s}) {where} "
                    f"(num_warmup_steps={warmup}); milestones are absolute steps and must be > {warmup}"
                )
            if s >= total:
                raise ValueError(
                    f"milestones[{i}]={milestones[i]!r} (step {s}) is not before "
                    f"num_training_steps={total}; it would never take effect"
                )
        options["milestones"] = steps
    return _resolved(warmup, total, **options)


# --------------------------------------------------------------------------------------------------
# sgdr
# --------------------------------------------------------------------------------------------------


def check_sgdr_options(*, cycle_steps, cycle_mult, cycle_decay, min_lr_ratio, warmup_type, warmup_start_ratio) -> None:
    check_warmup_options(warmup_type, warmup_start_ratio, min_lr_ratio)
    if cycle_steps is not None:
        check_length("cycle_steps", cycle_steps, minimum=1)
    check_int("cycle_mult", cycle_mult, minimum=1)
    check_real("cycle_decay", cycle_decay, 0.0, 1.0, low_open=True)


def sgdr_options(num_warmup_steps, num_training_steps, *, steps_per_epoch=None, **options) -> dict[str, Any]:
    check_sgdr_options(**options)
    per_epoch = steps_per_epoch_of(steps_per_epoch)
    warmup, total = check_lengths(num_warmup_steps, num_training_steps, steps_per_epoch=per_epoch)
    given = options["cycle_steps"]
    if given is not None:
        cycle = length_in_steps("cycle_steps", given, total, minimum=1, steps_per_epoch=per_epoch)
        span = total - warmup
        if cycle == 1 and options["cycle_mult"] == 1 and span > 1:
            raise ValueError(
                f"cycle_steps={given!r} is 1 step with cycle_mult=1: every step would restart at the peak, "
                "so the LR would never anneal (a constant curve); use cycle_steps >= 2"
            )
        if cycle > span:
            raise ValueError(
                f"cycle_steps={given!r} ({cycle} steps) is longer than the {span} steps after warmup: the "
                f"first cycle would never finish or restart; use cycle_steps <= {span}"
            )
        options["cycle_steps"] = cycle
    return _resolved(warmup, total, **options)


# --------------------------------------------------------------------------------------------------
# one_cycle
# --------------------------------------------------------------------------------------------------


def check_pct_start(pct_start) -> None:
    if not is_real(pct_start) or not 0.0 < pct_start < 1.0:
        raise ValueError(f"pct_start must be a float in (0, 1), got {pct_start!r}")


def check_one_cycle_lr_options(
    *, pct_start, anneal_strategy, div_factor, final_div_factor, three_phase, min_lr_ratio
) -> None:
    """The options of the LR curve (:func:`hf_lrsched.schedules.one_cycle_schedule`); ``pct_start=None``: derived."""
    if pct_start is not None:
        check_pct_start(pct_start)
    check_bool("three_phase", three_phase)
    check_choice("anneal_strategy", anneal_strategy, ANNEAL_STRATEGIES)
    # Below 1 the initial LR would exceed max_lr, or the final LR the initial one.
    check_real("div_factor", div_factor, 1.0)
    check_real("final_div_factor", final_div_factor, 1.0)
    check_real("min_lr_ratio", min_lr_ratio, 0.0, 1.0, high_open=True)


def check_momentum_options(*, base_momentum, max_momentum) -> None:
    """One value, or one per param group (how many groups there are is the optimizer's business)."""
    check_per_group("base_momentum", base_momentum, 0.0, 1.0, high_open=True)
    check_per_group("max_momentum", max_momentum, 0.0, 1.0, high_open=True)


def check_one_cycle_options(*, max_lr, cycle_momentum, base_momentum, max_momentum, **lr_options) -> None:
    """Every option of the one-cycle factory: the LR curve's, then the peak LRs and the momentum's."""
    check_one_cycle_lr_options(**lr_options)
    if max_lr is not None:
        check_per_group("max_lr", max_lr, 0.0, low_open=True)
    check_bool("cycle_momentum", cycle_momentum)
    check_momentum_options(base_momentum=base_momentum, max_momentum=max_momentum)


def one_cycle_pct_start(pct_start, num_warmup_steps: int, num_training_steps: int) -> float:
    """``pct_start`` as given, else ``W / T`` (the warmup is the rise), else 0.3 (``OneCycleLR``'s default).

    Examples:
      >>> one_cycle_pct_start(None, 25, 100), one_cycle_pct_start(None, 0, 100), one_cycle_pct_start(0.4, 25, 100)
      (0.25, 0.3, 0.4)
    """
    if pct_start is not None:
        return pct_start
    return num_warmup_steps / num_training_steps if num_warmup_steps else ONE_CYCLE_PCT_START


def one_cycle_end_steps(num_training_steps: int, pct_start: float, three_phase: bool) -> tuple[float, ...]:
    """The last step of each phase, as ``OneCycleLR`` computes them (floats, as torch's)."""
    first = float(pct_start * num_training_steps) - 1
    if not three_phase:
        return (first, num_training_steps - 1)
    return (first, float(2 * pct_start * num_training_steps) - 2, num_training_steps - 1)


def _check_phases(total: int, pct_start: float, three_phase: bool, origin: str) -> None:
    # origin: where a derived pct_start came from, put first in the messages.
    first, *rest = one_cycle_end_steps(total, pct_start, three_phase)
    if first <= 0:
        raise ValueError(
            f"{origin}pct_start={pct_start!r} with num_training_steps={total} leaves {pct_start * total:g} steps "
            f"for the rise; it needs more than 1 (pct_start > {1 / total:g})"
        )
    if three_phase and rest[0] >= total - 1:
        raise ValueError(
            f"{origin}pct_start={pct_start!r} is too large for three_phase=True: rise and fall take "
            f"2 * pct_start of training, leaving nothing for the final anneal (use pct_start < 0.5)"
        )


def one_cycle_lengths(
    num_warmup_steps, num_training_steps, pct_start, three_phase, steps_per_epoch: int | None = None
) -> tuple[int, int]:
    """The lengths of a one-cycle run, checked with its (given or derived) ``pct_start``: ``(W, T)``.

    ``T`` must be at least 2; an error about a ``pct_start`` derived from the warmup names the warmup.
    """
    warmup, total = check_lengths(
        num_warmup_steps, num_training_steps, schedule="one_cycle", steps_per_epoch=steps_per_epoch
    )
    if total < 2:  # two phase ends at least
        raise ValueError(f"num_training_steps must be >= 2, got {total}")
    derived = one_cycle_pct_start(pct_start, warmup, total)
    origin = ""
    if pct_start is None and warmup:
        origin = f"num_warmup_steps={warmup} gives pct_start = {warmup}/{total} = {derived!r}: "
    _check_phases(total, derived, three_phase, origin)
    return warmup, total


def one_cycle_options(num_warmup_steps, num_training_steps, *, steps_per_epoch=None, **options) -> dict[str, Any]:
    """The one-cycle factory's options; ``pct_start`` stays ``None`` when it is derived from the warmup."""
    check_one_cycle_options(**options)
    per_epoch = steps_per_epoch_of(steps_per_epoch)
    warmup, total = one_cycle_lengths(
        num_warmup_steps, num_training_steps, options["pct_start"], options["three_phase"], per_epoch
    )
    return _resolved(warmup, total, **options)


# --------------------------------------------------------------------------------------------------
# Composed by name: sequential and wsd. A phase (or wsd's decay) may be any registered name, so these
# passes look names up in the catalog and the registry, which import this module: hence the late import.
# --------------------------------------------------------------------------------------------------

#: wsd's own decay shapes; any catalog name but the composed ones is accepted too.
WSD_DECAY_TYPES = ("linear", "cosine", "1-sqrt", "exponential")
#: The composed names: neither is a decay of wsd, and sequential is no phase (wsd is: two levels at most).
COMPOSED = ("sequential", "wsd")
METRIC_DRIVEN = ("reduce_lr_on_plateau", "greedy")
#: What a phase holds besides its schedule's own options.
PHASE_KEYS = ("schedule", "length", "num_warmup_steps")


def _names():
    from .. import catalog, registry  # noqa: PLC0415  (they import this module)

    return catalog, registry


def check_warmup_shape(warmup_type, warmup_start_ratio) -> None:
    """The warmup's shape: ``warmup_type`` and ``warmup_start_ratio``."""
    check_choice("warmup_type", warmup_type, WARMUP_TYPES)
    start = check_real("warmup_start_ratio", warmup_start_ratio, 0.0, 1.0, high_open=True)
    if warmup_type == "exponential" and start == 0.0:
        raise ValueError(
            "warmup_type='exponential' needs warmup_start_ratio > 0 (it multiplies up from it), "
            f"got warmup_start_ratio={start!r}"
        )


def _in_phase(where: str, err: ValueError) -> ValueError:
    return ValueError(f"{where}: {err}")


def _phase_list(phases) -> list[tuple[str, dict]]:
    """``(name, options)`` of each phase, its structure checked: a non-empty list of objects, each with a
    known ``schedule`` that is neither composed nor metric-driven. Options keep ``length`` and warmup."""
    if phases is None:
        return [("linear", {})]
    if isinstance(phases, (str, bytes, Mapping)) or not isinstance(phases, Sequence) or not phases:
        raise ValueError(f"phases must be a non-empty list of phases such as {{'schedule': 'linear'}}, got {phases!r}")
    _, registry = _names()
    known = registry.available_schedules()
    parsed = []
    for k, phase in enumerate(phases):
        if not isinstance(phase, Mapping):
            raise ValueError(f"phases[{k}] must be an object such as {{'schedule': 'linear'}}, got {phase!r}")
        name = phase.get("schedule")
        if name is None:
            raise ValueError(f"phases[{k}].schedule is required (a name such as 'linear'), got {dict(phase)!r}")
        if name == "sequential":
            raise ValueError(f"phases[{k}].schedule={name!r}: a phase cannot itself be sequential (nest by listing)")
        if name in METRIC_DRIVEN:
            raise ValueError(
                f"phases[{k}].schedule={name!r} is driven by a metric, not by the step, so it cannot be a phase"
            )
        if name not in known:
            raise _in_phase(f"phases[{k}].schedule", registry._unknown_name_error(name))
        if "steps_per_epoch" in phase:  # one epoch length for the whole run, not one per phase
            raise ValueError(
                f"phases[{k}].steps_per_epoch={phase['steps_per_epoch']!r}: give steps_per_epoch once, for the "
                "whole schedule (get_scheduler / the factory), not inside a phase"
            )
        if "length" not in phase and k < len(phases) - 1:
            raise ValueError(f"phases[{k}].length is required (only the last phase may omit it: the rest of training)")
        parsed.append((name, dict(phase)))
    return parsed


def _own_options(phase: dict) -> dict:
    return {key: value for key, value in phase.items() if key not in PHASE_KEYS}


def _check_phase_without_length(k: int, name: str, phase: dict) -> None:
    """What a phase's options can be checked for before the run length is known."""
    _, registry = _names()
    if "length" in phase:
        check_length(f"phases[{k}].length", phase["length"], minimum=1)
    if phase.get("num_warmup_steps") is not None:
        check_length(f"phases[{k}].num_warmup_steps", phase["num_warmup_steps"])
    try:
        registry.check_schedule_options(name, _own_options(phase))
    except ValueError as err:
        raise _in_phase(f"phases[{k}] ({name})", err) from None


def check_sequential_options(*, phases, min_lr_ratio, warmup_type, warmup_start_ratio) -> None:
    check_warmup_options(warmup_type, warmup_start_ratio, min_lr_ratio)
    for k, (name, phase) in enumerate(_phase_list(phases)):
        _check_phase_without_length(k, name, phase)


def _phase_lengths(parsed, warmup: int, total: int, per_epoch) -> list[int]:
    """Each phase's length in steps; they fill the ``total - warmup`` steps after the warmup exactly."""
    span, start, lengths = total - warmup, 0, []
    for k, (_, phase) in enumerate(parsed):
        if "length" in phase:
            given = phase["length"]
            length = length_in_steps(f"phases[{k}].length", given, total, minimum=1, steps_per_epoch=per_epoch)
        else:  # the last phase: the rest of training
            given, length = None, span - start
            if length < 1:
                raise ValueError(
                    f"phases[{k}] has no length and gets the rest of training, but the phases before it end at "
                    f"step {warmup + start} = num_training_steps={total}: nothing is left for it"
                )
        if start + length > span:
            raise ValueError(
                f"phases[{k}].length={given!r} ({length} steps) ends at step {warmup + start + length}, past "
                f"num_training_steps={total} (num_warmup_steps={warmup} + the phases' lengths must add up to it)"
            )
        if k == len(parsed) - 1 and start + length < span:
            raise ValueError(
                f"phases[{k}].length={given!r} ({length} steps) ends at step {warmup + start + length}, before "
                f"num_training_steps={total}: the lengths must add up to the training after warmup; "
                "omit the last phase's length to give it the rest"
            )
        lengths.append(length)
        start += length
    return lengths


def resolve_phase(where: str, name: str, options: dict, warmup, length: int, per_epoch) -> dict[str, Any]:
    """The resolved options of a schedule run for ``length`` steps inside a composed one (its identity there).

    This package's schedules run their options pass; any other name (transformers' own, a user's) is
    built once on a throw-away optimizer by :func:`hf_lrsched.get_scheduler`, which runs its checks, and
    must give a step-driven ``LambdaLR`` with one multiplier for every group.
    """
    catalog, registry = _names()
    row = registry._builtin_row(name)
    try:
        if row is not None:
            resolved = row.resolve(warmup, length, steps_per_epoch=per_epoch, **{**row.option_defaults(), **options})
            if name == "one_cycle" and (resolved["cycle_momentum"] or resolved["max_lr"] is not None):
                raise ValueError(
                    "one_cycle inside a composed schedule sets the LR only: give cycle_momentum=false and no max_lr"
                )
            return resolved
        if "min_lr" in options:  # an absolute LR, read from the optimizer the phase is not built on
            raise ValueError(f"min_lr={options['min_lr']!r} is an absolute LR; give min_lr_rate (a ratio) instead")
        if options.get("lr_end", 0) != 0:  # polynomial's end LR: absolute too, but read against the LR of 1.0
            raise ValueError(
                f"lr_end={options['lr_end']!r} is an absolute LR, but a phase is a multiplier of the base LR (it "
                f"would end at {options['lr_end']!r} times it); give lr_end=0.0 or leave it out"
            )
        warmup = 0 if warmup is None else warmup
        scheduler = registry.get_scheduler(name, throwaway_optimizer(), warmup, length, options, per_epoch)
        warmup = length_in_steps("num_warmup_steps", warmup, length, steps_per_epoch=per_epoch)  # checked there
    except ValueError as err:
        raise _in_phase(where, err) from None
    lambdas = getattr(scheduler, "lr_lambdas", None)
    if not lambdas or len({id(fn) for fn in lambdas}) != 1:
        raise ValueError(
            f"{where}: schedule {name!r} builds a {type(scheduler).__name__}, not a LambdaLR with one multiplier "
            "function (a closed form of the step), so it cannot be composed"
        )
    return {"num_training_steps": length, "num_warmup_steps": warmup, **{k: _plain(v) for k, v in options.items()}}


def throwaway_optimizer():
    """The optimizer a foreign phase is built on to read its multiplier: one parameter, LR 1, momentum 0.9.

    A multiplier that transformers computes from the optimizer's LR (``polynomial``: ``lr_end / lr``) is
    read against LR 1, so polynomial's default ``lr_end=1e-7`` ends a phase at 1e-7 times the base LR;
    an absolute ``lr_end`` or ``min_lr`` given in a phase is refused (:func:`resolve_phase`).
    """
    import torch  # noqa: PLC0415  (only composed schedules need it)

    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0, momentum=0.9)


def sequential_options(num_warmup_steps, num_training_steps, *, steps_per_epoch=None, **options) -> dict[str, Any]:
    """sequential's options pass: the warmup, then each phase's length (steps, fraction or epochs) and options.

    Returns the resolved options; ``phases`` becomes a list of ``{"schedule", "start", "length", "options"}``
    (``start``: the phase's first step after the warmup; ``options``: the phase schedule's resolved options).
    """
    check_warmup_options(options["warmup_type"], options["warmup_start_ratio"], options["min_lr_ratio"])
    per_epoch = steps_per_epoch_of(steps_per_epoch)
    warmup, total = check_lengths(
        num_warmup_steps, num_training_steps, schedule="sequential", steps_per_epoch=per_epoch
    )
    parsed = _phase_list(options["phases"])
    for k, (_, phase) in enumerate(parsed):
        if "length" in phase:
            check_length(f"phases[{k}].length", phase["length"], minimum=1)
    lengths = _phase_lengths(parsed, warmup, total, per_epoch)
    resolved, start = [], 0
    for k, ((name, phase), length) in enumerate(zip(parsed, lengths, strict=True)):
        _, registry = _names()
        own = _own_options(phase)
        try:
            registry._check_option_names(name, own)
        except ValueError as err:
            raise _in_phase(f"phases[{k}] ({name})", err) from None
        phase_options = resolve_phase(
            f"phases[{k}] ({name})", name, own, phase.get("num_warmup_steps", 0), length, per_epoch
        )
        resolved.append({"schedule": name, "start": start, "length": length, "options": phase_options})
        start += length
    return {
        "num_training_steps": total,
        "num_warmup_steps": warmup,
        "phases": resolved,
        "min_lr_ratio": options["min_lr_ratio"],
        "warmup_type": options["warmup_type"],
        "warmup_start_ratio": options["warmup_start_ratio"],
    }


def _check_wsd_decay_type(decay_type, decay_options, min_lr_ratio) -> bool:
    """Check wsd's decay choice; return whether it names a schedule (rather than one of wsd's own shapes)."""
    catalog, _ = _names()
    decays = [*WSD_DECAY_TYPES, *(name for name in catalog.names() if name not in COMPOSED)]
    check_choice("decay_type", decay_type, decays)
    if decay_type in WSD_DECAY_TYPES:
        if decay_options:
            raise ValueError(
                f"decay_options are the options of a schedule given as decay_type; decay_type={decay_type!r} "
                f"takes none, got decay_options={decay_options!r}"
            )
        if decay_type == "exponential" and min_lr_ratio == 0.0:
            raise ValueError("decay_type='exponential' decays geometrically to min_lr_ratio: it must be > 0, got 0.0")
        return False
    if min_lr_ratio != 0.0:
        raise ValueError(
            f"min_lr_ratio={min_lr_ratio!r} is for wsd's own decay shapes; with decay_type={decay_type!r} give "
            "the schedule's own floor in decay_options"
        )
    if decay_options is not None and not isinstance(decay_options, Mapping):
        raise ValueError(f"decay_options must be an object (the options of {decay_type!r}), got {decay_options!r}")
    return True


def check_wsd_options(
    *, decay_length, decay_type, decay_options, min_lr_ratio, warmup_type, warmup_start_ratio
) -> None:
    check_warmup_options(warmup_type, warmup_start_ratio, min_lr_ratio)
    check_length("decay_length", decay_length, minimum=1)
    if _check_wsd_decay_type(decay_type, decay_options, min_lr_ratio):
        _, registry = _names()
        try:
            registry.check_schedule_options(decay_type, decay_options)
        except ValueError as err:
            raise _in_phase(f"decay_options ({decay_type})", err) from None


def wsd_options(num_warmup_steps, num_training_steps, *, steps_per_epoch=None, **options) -> dict[str, Any]:
    """wsd's options pass: the decay length in steps (the stable length is what is left), its shape's options."""
    check_warmup_options(options["warmup_type"], options["warmup_start_ratio"], options["min_lr_ratio"])
    given = check_length("decay_length", options["decay_length"], minimum=1)
    named = _check_wsd_decay_type(options["decay_type"], options["decay_options"], options["min_lr_ratio"])
    per_epoch = steps_per_epoch_of(steps_per_epoch)
    warmup, total = check_lengths(num_warmup_steps, num_training_steps, schedule="wsd", steps_per_epoch=per_epoch)
    decay = length_in_steps("decay_length", given, total, minimum=1, steps_per_epoch=per_epoch)
    if warmup + decay > total:
        raise ValueError(
            f"decay_length={given!r} ({decay} steps) does not fit after num_warmup_steps={warmup} in "
            f"num_training_steps={total} (the stable phase would be {total - warmup - decay} steps)"
        )
    decay_options = None
    if named:
        name, own = options["decay_type"], dict(options["decay_options"] or {})
        _, registry = _names()
        try:
            registry._check_option_names(name, own)
        except ValueError as err:
            raise _in_phase(f"decay_options ({name})", err) from None
        decay_options = resolve_phase(f"decay_options ({name})", name, own, 0, decay, per_epoch)
    return {**_resolved(warmup, total, **options), "decay_length": decay, "decay_options": decay_options}
