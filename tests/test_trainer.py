"""A real ``Trainer`` with each schedule: the exact LR (and Adam beta1) of every update, and resuming.

Each run trains a one-layer BERT built from a config for 24 updates on CPU (helpers_tiny). The LR
and beta1 are read from the optimizer just before each ``optimizer.step()``, so they are the values
the update used, compared with ``==`` to ``base_lr * f(step)`` where ``f`` is the pure function
from :mod:`hf_lrsched.schedules`.
"""

from __future__ import annotations

import functools

import pytest
import torch
from helpers_tiny import make_args, train_tiny

import hf_lrsched
from hf_lrsched import schedules
from hf_lrsched.factories import ScheduleLR

TOTAL = 24
ADAM_BETA1 = 0.9  # TrainingArguments' default adam_beta1

PURE = {
    "warmup_exponential": schedules.exponential_schedule,
    "warmup_step": schedules.step_schedule,
    "warmup_multistep": schedules.multistep_schedule,
    "sgdr": schedules.sgdr_schedule,
    "sequential": schedules.sequential_schedule,
    "wsd": schedules.wsd_schedule,
}

# (name, warmup_steps, lr_scheduler_kwargs): each name alone, and with warmup and non-default options.
CASES = [
    ("warmup_exponential", 4, None),
    ("warmup_exponential", 3, {"gamma": 0.9, "staircase_steps": 3, "min_lr_ratio": 0.2, "warmup_type": "cosine"}),
    ("warmup_step", 4, None),
    ("warmup_step", 3, {"step_size": 5, "gamma": 0.5, "warmup_type": "exponential", "warmup_start_ratio": 0.1}),
    ("warmup_multistep", 4, None),
    ("warmup_multistep", 3, {"milestones": [10, 16, 20], "gamma": 0.2}),
    ("one_cycle", 0, None),
    (
        "one_cycle",
        3,
        {
            "max_lr": 2e-3,
            "pct_start": 0.25,
            "three_phase": True,
            "anneal_strategy": "linear",
            "div_factor": 10.0,
            "base_momentum": 0.8,
            "max_momentum": 0.9,
        },
    ),
    ("sgdr", 4, None),
    ("sgdr", 3, {"cycle_steps": 4, "cycle_mult": 2, "cycle_decay": 0.5, "min_lr_ratio": 0.1}),
    ("sequential", 4, None),
    (
        "sequential",
        3,
        {"phases": [{"schedule": "linear", "length": 10}, {"schedule": "warmup_multistep", "milestones": [3, 6]}]},
    ),
    ("wsd", 4, None),
    ("wsd", 3, {"decay_length": 8, "decay_type": "exponential", "min_lr_ratio": 0.05, "warmup_type": "cosine"}),
]
WITH_OPTIONS = {name: (warmup, options) for name, warmup, options in CASES if options}


def case_id(case):
    name, warmup, options = case
    return f"{name}-warmup{warmup}-{'options' if options else 'defaults'}"


_ONE_CYCLE_LR_OPTIONS = (
    "pct_start",
    "anneal_strategy",
    "div_factor",
    "final_div_factor",
    "three_phase",
    "min_lr_ratio",
)
_ONE_CYCLE_MOMENTUM_OPTIONS = ("pct_start", "anneal_strategy", "three_phase", "base_momentum", "max_momentum")


def expected_curves(name, warmup, options, group_lrs):
    """Per update ``k``: the LR of each group and its beta1, from the pure functions."""
    options = dict(options or {})
    if name != "one_cycle":
        f = PURE[name](warmup, TOTAL, **options)
        lrs = [[base * f(k) for base in group_lrs] for k in range(TOTAL)]
        return lrs, [[ADAM_BETA1] * len(group_lrs) for _ in range(TOTAL)]
    # one_cycle: pct_start defaults to warmup / total (0.3 without warmup); max_lr replaces the LR.
    options.setdefault("pct_start", warmup / TOTAL if warmup else 0.3)
    peaks = group_lrs if options.get("max_lr") is None else [options["max_lr"]] * len(group_lrs)
    f = schedules.one_cycle_schedule(TOTAL, **{k: v for k, v in options.items() if k in _ONE_CYCLE_LR_OPTIONS})
    lows = options.get("base_momentum", 0.85)
    lows = lows if isinstance(lows, list) else [lows] * len(group_lrs)
    momentum_options = {k: v for k, v in options.items() if k in _ONE_CYCLE_MOMENTUM_OPTIONS and k != "base_momentum"}
    momenta = [schedules.one_cycle_momentum_schedule(TOTAL, base_momentum=low, **momentum_options) for low in lows]
    lrs = [[peak * f(k) for peak in peaks] for k in range(TOTAL)]
    return lrs, [[m(k) for m in momenta] for k in range(TOTAL)]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_trainer_lr_and_beta1_follow_the_pure_function(tmp_path, case):
    name, warmup, options = case
    # With options the arguments come from a command line, as `--lr_scheduler_kwargs '{...}'`.
    args = make_args(
        tmp_path,
        via_command_line=options is not None,
        max_steps=TOTAL,
        learning_rate=1e-3,
        warmup_steps=warmup,
        lr_scheduler_type=name,
        lr_scheduler_kwargs=options or {},
    )
    recorder, trainer = train_tiny(args)
    assert isinstance(trainer.lr_scheduler, ScheduleLR)
    assert recorder.steps == list(range(TOTAL))
    groups = len(recorder.lrs[0])
    expected_lrs, expected_betas = expected_curves(name, warmup, options, [1e-3] * groups)
    assert recorder.lrs == expected_lrs
    assert recorder.momenta == expected_betas
    # Not a constant curve by accident.
    assert len({lrs[0] for lrs in recorder.lrs}) > 3


def _encoder_first_groups(model, lrs=(1e-3, 2.5e-4)):
    encoder = [p for n, p in model.named_parameters() if ".encoder." in f".{n}"]
    rest = [p for n, p in model.named_parameters() if ".encoder." not in f".{n}"]
    assert encoder and rest
    return [{"params": encoder, "lr": lrs[0]}, {"params": rest, "lr": lrs[1]}]


@pytest.mark.parametrize(
    ("name", "options"),
    [("one_cycle", {"base_momentum": [0.8, 0.85], "pct_start": 0.25}), ("warmup_multistep", {"milestones": [8, 16]})],
)
def test_trainer_keeps_per_group_lrs_of_a_custom_optimizer(tmp_path, name, options):
    # The optimizer is the user's (two groups, two LRs); Trainer still builds the scheduler by name.
    args = make_args(tmp_path, max_steps=TOTAL, warmup_steps=2, lr_scheduler_type=name, lr_scheduler_kwargs=options)
    make_optimizer = lambda model: torch.optim.AdamW(_encoder_first_groups(model))  # noqa: E731
    recorder, trainer = train_tiny(args, make_optimizer=make_optimizer)
    assert isinstance(trainer.lr_scheduler, ScheduleLR)
    expected_lrs, expected_betas = expected_curves(name, 2, options, [1e-3, 2.5e-4])
    assert recorder.lrs == expected_lrs
    assert recorder.momenta == expected_betas
    if name == "one_cycle":  # each group has its own momentum curve
        assert min(b[0] for b in recorder.momenta) == 0.8 and min(b[1] for b in recorder.momenta) == 0.85


def _get_halving_schedule(optimizer, num_warmup_steps, num_training_steps, *, every=5):
    return torch.optim.lr_scheduler.LambdaLR(optimizer, functools.partial(_halving, every=every))


def _halving(step, every):
    return 0.5 ** (step // every)


def test_trainer_uses_a_registered_user_schedule(tmp_path):
    name = "test_trainer_halving"
    hf_lrsched.register_schedule(name, _get_halving_schedule)
    try:
        args = make_args(
            tmp_path, via_command_line=True, max_steps=TOTAL, lr_scheduler_type=name, lr_scheduler_kwargs={"every": 7}
        )
        recorder, _ = train_tiny(args)
    finally:
        hf_lrsched.unregister_schedule(name)
    assert [lrs[0] for lrs in recorder.lrs] == [1e-3 * 0.5 ** (k // 7) for k in range(TOTAL)]


@pytest.mark.parametrize("name", list(WITH_OPTIONS))
def test_resume_from_checkpoint_is_bit_identical(tmp_path, name):
    warmup, options = WITH_OPTIONS[name]
    common = dict(
        max_steps=TOTAL, learning_rate=1e-3, warmup_steps=warmup, lr_scheduler_type=name, lr_scheduler_kwargs=options
    )
    # Uninterrupted run (it saves checkpoints along the way, which does not change its course).
    full, _ = train_tiny(make_args(tmp_path / "full", save_strategy="steps", save_steps=10, **common))
    checkpoint = tmp_path / "full" / "checkpoint-10"
    state = torch.load(checkpoint / "scheduler.pt", weights_only=True)
    assert state["last_epoch"] == 10
    saved_args = torch.load(checkpoint / "training_args.bin", weights_only=False)
    assert saved_args.lr_scheduler_type.value == name and saved_args.lr_scheduler_kwargs == options

    resumed, _ = train_tiny(make_args(tmp_path / "resumed", **common), resume_from_checkpoint=str(checkpoint))
    assert resumed.steps == list(range(10, TOTAL))
    assert resumed.lrs == full.lrs[10:]
    assert resumed.momenta == full.momenta[10:]
    expected_lrs, expected_betas = expected_curves(name, warmup, options, [1e-3] * len(full.lrs[0]))
    assert full.lrs == expected_lrs and full.momenta == expected_betas


def test_resume_with_other_scheduler_kwargs_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_LRSCHED_ALLOW_SCHEDULE_CHANGE", raising=False)
    common = dict(max_steps=12, learning_rate=1e-3, warmup_steps=2, lr_scheduler_type="warmup_step")
    train_tiny(
        make_args(tmp_path / "first", save_strategy="steps", save_steps=6, lr_scheduler_kwargs={"gamma": 0.5}, **common)
    )
    checkpoint = tmp_path / "first" / "checkpoint-6"
    with pytest.raises(ValueError, match=r"gamma: saved 0\.5, now 0\.2"):
        train_tiny(
            make_args(tmp_path / "resumed", lr_scheduler_kwargs={"gamma": 0.2}, **common),
            resume_from_checkpoint=str(checkpoint),
        )
