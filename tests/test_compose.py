"""Composed schedules (``sequential``, ``wsd``) and lengths in epochs (#15).

Expected values are written by hand or from closed forms here, or come from torch's own schedulers;
never from the package.
"""

from __future__ import annotations

import math
import pickle
import subprocess
import sys

import pytest
import torch
from helpers_tiny import make_args, train_tiny
from test_core import CheckSpy
from torch.optim import lr_scheduler as torch_sched
from transformers import HfArgumentParser, TrainingArguments

import hf_lrsched
from hf_lrsched.accelerate import get_accelerate_scheduler


def sgd(lr=1.0, groups=1):
    params = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr * (i + 1)} for i in range(groups)]
    return torch.optim.SGD(params, lr=lr, momentum=0.9)


def lr_trajectory(scheduler, steps):
    """The LR of the first group that each of ``steps`` updates uses."""
    lrs = []
    for _ in range(steps):
        lrs.append(scheduler.optimizer.param_groups[0]["lr"])
        scheduler.optimizer.step()
        scheduler.step()
    return lrs


# --------------------------------------------------------------------------------------------------
# The issue's examples, in closed form
# --------------------------------------------------------------------------------------------------

CONSTANT_THEN_EXPONENTIAL = [
    {"schedule": "constant", "length": 0.8},
    {"schedule": "warmup_exponential", "final_lr_ratio": 0.01},
]


def test_constant_then_warmup_exponential_is_the_issues_closed_form():
    scheduler = hf_lrsched.get_scheduler("sequential", sgd(), 0, 100, {"phases": CONSTANT_THEN_EXPONENTIAL})
    lrs = lr_trajectory(scheduler, 100)
    assert lrs[:80] == [1.0] * 80
    for t in range(80, 100):
        assert math.isclose(lrs[t], 0.01 ** ((t - 80) / 20), rel_tol=1e-12), t


def test_wsd_1_sqrt_is_the_issues_closed_form():
    options = {"decay_length": 0.2, "decay_type": "1-sqrt"}
    lrs = lr_trajectory(hf_lrsched.get_scheduler("wsd", sgd(), 10, 100, options), 100)
    assert lrs[:10] == [t / 10 for t in range(10)]
    assert lrs[10:80] == [1.0] * 70
    assert lrs[80:] == [1 - math.sqrt((t - 80) / 20) for t in range(80, 100)]


@pytest.mark.parametrize(
    "decay_type, closed_form",
    [
        ("linear", lambda p, r: r + (1 - r) * (1 - p)),
        ("cosine", lambda p, r: r + (1 - r) * (1 + math.cos(math.pi * p)) / 2),
        ("1-sqrt", lambda p, r: r + (1 - r) * (1 - math.sqrt(p))),
        ("exponential", lambda p, r: r**p),
    ],
)
def test_wsd_decay_shapes_end_at_min_lr_ratio(decay_type, closed_form):
    # 40 updates, warmup 4, decay 10 (so stable 26), floor 0.1; held at the floor past the end
    options = {"decay_length": 10, "decay_type": decay_type, "min_lr_ratio": 0.1}
    f = hf_lrsched.schedules.wsd_schedule(4, 40, **options)
    assert [f(t) for t in range(4)] == [0.0, 0.25, 0.5, 0.75]
    assert [f(t) for t in range(4, 30)] == [1.0] * 26
    for t in range(30, 45):
        assert math.isclose(f(t), closed_form(min(t - 30, 10) / 10, 0.1), rel_tol=1e-12, abs_tol=1e-15), t
    assert math.isclose(f(40), 0.1, rel_tol=1e-12)


def test_wsd_decay_may_be_any_catalog_schedule():
    options = {"decay_length": 9, "decay_type": "warmup_step", "decay_options": {"step_size": 3, "gamma": 0.5}}
    f = hf_lrsched.schedules.wsd_schedule(0, 20, **options)
    assert [f(t) for t in range(20)] == [1.0] * 14 + [0.5] * 3 + [0.25] * 3


def test_phase_warmup_is_relative_to_its_phase():
    phases = [{"schedule": "constant", "length": 4}, {"schedule": "linear", "num_warmup_steps": 2}]
    f = hf_lrsched.schedules.sequential_schedule(2, 12, phases=phases)
    # global warmup 2, constant 4 steps, then linear over 6 steps with 2 of warmup: 0, 0.5, then 1 -> 0 over 4
    assert [f(t) for t in range(12)] == [0.0, 0.5, 1.0, 1.0, 1.0, 1.0, 0.0, 0.5, 1.0, 0.75, 0.5, 0.25]


def test_min_lr_ratio_floors_every_phase():
    phases = [{"schedule": "linear", "length": 4}, {"schedule": "linear"}]
    f = hf_lrsched.schedules.sequential_schedule(0, 8, phases=phases, min_lr_ratio=0.3)
    assert [f(t) for t in range(8)] == [1.0, 0.75, 0.5, 0.3, 1.0, 0.75, 0.5, 0.3]


# --------------------------------------------------------------------------------------------------
# Edges of phases and decays (the mutation run after #15 found them unpinned; docs/mutation.md)
# --------------------------------------------------------------------------------------------------


def test_the_factories_and_builders_default_to_no_warmup():
    # wsd's defaults: decay_length 0.2 (2 of 10 steps), 1-sqrt to 0; sequential's: one linear phase
    wsd = [1.0] * 9 + [1 - math.sqrt(0.5), 0.0]
    assert lr_trajectory(hf_lrsched.get_wsd_schedule(sgd(), num_training_steps=10), 11) == wsd
    f = hf_lrsched.schedules.wsd_schedule(0, 10)
    assert [f(t) for t in range(11)] == wsd
    assert lr_trajectory(hf_lrsched.get_sequential_schedule(sgd(), num_training_steps=4), 4) == [1.0, 0.75, 0.5, 0.25]


def test_a_tiny_length_is_one_step():
    # 1e-12 of 10 steps rounds to 0: a phase or a decay lasts 1 step at least
    phases = [{"schedule": "constant", "length": 1e-12}, {"schedule": "linear"}]
    f = hf_lrsched.schedules.sequential_schedule(0, 10, phases=phases)
    assert [f(t) for t in range(10)] == [1.0] + [(10 - t) / 9 for t in range(1, 10)]  # linear over the other 9
    wsd = hf_lrsched.get_wsd_schedule(sgd(), 0, 10, decay_length=1e-12, decay_type="linear")
    assert wsd.schedule_options["decay_length"] == 1
    assert lr_trajectory(wsd, 11) == [1.0] * 10 + [0.0]


def test_the_last_phase_may_be_one_step():
    phases = [{"schedule": "constant", "length": 9}, {"schedule": "linear"}]
    scheduler = hf_lrsched.get_scheduler("sequential", sgd(), 0, 10, {"phases": phases})
    assert [p["length"] for p in scheduler.schedule_options["phases"]] == [9, 1]


def test_the_decay_may_fill_everything_after_warmup():
    f = hf_lrsched.schedules.wsd_schedule(2, 10, decay_length=8, decay_type="linear")  # no stable phase
    assert [f(t) for t in range(11)] == [0.0, 0.5] + [1 - t / 8 for t in range(9)]


def test_a_decay_named_by_schedule_starts_at_that_schedules_first_value():
    # one_cycle as wsd's decay starts at 1/div_factor right after the stable phase, as torch's OneCycleLR does
    opt = sgd()
    torch_scheduler = torch_sched.OneCycleLR(
        opt, max_lr=1.0, total_steps=4, pct_start=0.5, anneal_strategy="linear", cycle_momentum=False
    )
    expected = []
    for _ in range(4):
        expected.append(opt.param_groups[0]["lr"])
        opt.step()
        if len(expected) < 4:
            torch_scheduler.step()
    options = {"cycle_momentum": False, "pct_start": 0.5, "anneal_strategy": "linear"}
    f = hf_lrsched.schedules.wsd_schedule(0, 10, decay_length=4, decay_type="one_cycle", decay_options=options)
    assert [f(t) for t in range(6)] == [1.0] * 6
    assert math.isclose(expected[0], 0.04, rel_tol=1e-12)  # the oracle starts at 1/25 too
    for t, value in enumerate(expected):
        assert math.isclose(f(6 + t), value, rel_tol=1e-12), t


def test_a_wsd_phase_may_have_a_named_decay():
    decay = {"decay_length": 4, "decay_type": "warmup_step", "decay_options": {"step_size": 2, "gamma": 0.5}}
    phases = [{"schedule": "constant", "length": 5}, {"schedule": "wsd", **decay}]
    f = hf_lrsched.schedules.sequential_schedule(0, 20, phases=phases)
    assert [f(t) for t in range(20)] == [1.0] * 18 + [0.5, 0.5]  # wsd over 15 steps: its last 4 halve every 2


def test_phase_warmups_and_options_take_none_fractions_and_epochs():
    phases = [
        {"schedule": "cosine", "length": 4, "num_warmup_steps": None},  # no warmup
        {"schedule": "linear", "length": "2ep", "num_warmup_steps": "1ep"},  # 8 steps, the first 4 warmup
        {"schedule": "linear", "length": 0.2, "num_warmup_steps": 0.25},  # 8 steps (0.2 of 40), 2 warmup
        {"schedule": "warmup_step", "step_size": "1ep", "gamma": 0.5},  # the other 20 steps, halved every 4
    ]
    scheduler = hf_lrsched.get_scheduler("sequential", sgd(), 0, 40, {"phases": phases}, steps_per_epoch=4)
    resolved = scheduler.schedule_options["phases"]
    assert [p["options"]["num_warmup_steps"] for p in resolved] == [0, 4, 2, 0]
    assert resolved[3]["options"]["step_size"] == 4
    expected = (
        [0.5 * (1 + math.cos(math.pi * s / 4)) for s in range(4)]
        + [0.0, 0.25, 0.5, 0.75, 1.0, 0.75, 0.5, 0.25]
        + [0.0, 0.5] + [(8 - s) / 6 for s in range(2, 8)]
        + [0.5 ** (s // 4) for s in range(20)]
    )  # fmt: skip
    for t, (lr, value) in enumerate(zip(lr_trajectory(scheduler, 40), expected, strict=True)):
        assert math.isclose(lr, value, rel_tol=1e-12, abs_tol=1e-15), t


def test_a_foreign_phase_keeps_its_options_and_is_read_against_an_lr_of_one():
    # transformers' polynomial: (lr_end + (lr - lr_end) * (1 - s / L) ** power) / lr, built on an optimizer with
    # LR 1: its default lr_end=1e-7 is 1e-7 times the base LR; lr_end=0.0 means the same whatever the LR
    phases = [{"schedule": "polynomial", "length": 4, "power": 2.0}, {"schedule": "polynomial", "lr_end": 0.0}]
    scheduler = hf_lrsched.get_scheduler("sequential", sgd(), 0, 8, {"phases": phases})
    assert scheduler.schedule_options["phases"][0]["options"]["power"] == 2.0
    expected = [1e-7 + (1 - 1e-7) * (1 - s / 4) ** 2 for s in range(4)] + [1 - s / 4 for s in range(4)]
    for t, (lr, value) in enumerate(zip(lr_trajectory(scheduler, 8), expected, strict=True)):
        assert math.isclose(lr, value, rel_tol=1e-12), t


def test_the_builders_count_epochs_in_steps_per_epoch():
    phases = [{"schedule": "constant", "length": "2ep"}, {"schedule": "linear"}]
    f = hf_lrsched.schedules.sequential_schedule(0, 20, phases=phases, steps_per_epoch=7)
    assert [f(t) for t in range(20)] == [1.0] * 14 + [(6 - s) / 6 for s in range(6)]
    decay = {"decay_length": "3ep", "decay_type": "warmup_step", "decay_options": {"step_size": "1ep", "gamma": 0.5}}
    g = hf_lrsched.schedules.wsd_schedule(0, 20, steps_per_epoch=3, **decay)
    assert [g(t) for t in range(20)] == [1.0] * 14 + [0.5] * 3 + [0.25] * 3


# --------------------------------------------------------------------------------------------------
# torch's SequentialLR: equal where it is right, right where it is wrong
# --------------------------------------------------------------------------------------------------


def test_matches_torch_sequential_lr_of_exponential_phases():
    opt = sgd(0.5)
    torch_scheduler = torch_sched.SequentialLR(
        opt, [torch_sched.ExponentialLR(opt, gamma=0.9), torch_sched.ExponentialLR(opt, gamma=0.8)], milestones=[7]
    )
    phases = [
        {"schedule": "warmup_exponential", "gamma": 0.9, "length": 7},
        {"schedule": "warmup_exponential", "gamma": 0.8},
    ]
    ours = hf_lrsched.get_scheduler("sequential", sgd(0.5), 0, 30, {"phases": phases})
    for t, (theirs, mine) in enumerate(zip(lr_trajectory(torch_scheduler, 30), lr_trajectory(ours, 30), strict=True)):
        assert math.isclose(mine, theirs, rel_tol=1e-12), t  # torch multiplies step by step: ulps apart


def test_matches_torch_constant_lr_then_exponential():
    # ConstantLR(factor=1.0) is torch's `constant`; the drop to the next phase happens at the milestone
    opt = sgd(0.1)
    torch_scheduler = torch_sched.SequentialLR(
        opt,
        [torch_sched.ConstantLR(opt, factor=1.0, total_iters=5), torch_sched.ExponentialLR(opt, gamma=0.5)],
        milestones=[5],
    )
    phases = [{"schedule": "constant", "length": 5}, {"schedule": "warmup_exponential", "gamma": 0.5}]
    ours = hf_lrsched.get_scheduler("sequential", sgd(0.1), 0, 12, {"phases": phases})
    expected = [0.1] * 5 + [0.1 * 0.5**k for k in range(7)]
    for t, (theirs, mine) in enumerate(zip(lr_trajectory(torch_scheduler, 12), lr_trajectory(ours, 12), strict=True)):
        assert math.isclose(mine, expected[t], rel_tol=1e-12) and math.isclose(theirs, expected[t], rel_tol=1e-12)


def test_resumes_where_torch_sequential_lr_does_not():
    # pytorch#162591: SequentialLR(..., last_epoch=N) restores the first scheduler's LR, not the phase at N.
    # Ours: built with last_epoch=N (as torch's resume protocol asks: initial_lr in each group), and through
    # state_dict, both give the closed form at every step after N.
    phases = [{"schedule": "constant", "length": 3}, {"schedule": "warmup_exponential", "gamma": 0.9}]
    expected = [1.0] * 3 + [0.9**k for k in range(7)]
    for n in range(9):  # last_epoch=n: step n was done, the LR is now the one of step n + 1
        opt = sgd(1.0)
        opt.param_groups[0]["initial_lr"] = 1.0
        hf_lrsched.get_sequential_schedule(opt, 0, 10, phases=phases, last_epoch=n)
        assert math.isclose(opt.param_groups[0]["lr"], expected[n + 1], rel_tol=1e-12), n


def test_a_phase_keeps_the_curve_it_has_alone():
    # pytorch#196243: wrapping a composed scheduler in SequentialLR shifts its curve by one step. Here a
    # composed schedule (wsd) as the one phase of a sequential gives exactly the curve it has alone.
    options = {"decay_length": 7, "decay_type": "cosine", "min_lr_ratio": 0.05}
    alone = lr_trajectory(hf_lrsched.get_scheduler("wsd", sgd(), 3, 20, options), 22)
    wrapped = hf_lrsched.get_scheduler("sequential", sgd(), 3, 20, {"phases": [{"schedule": "wsd", **options}]})
    # sequential's own warmup 3 then wsd (built for 17 steps, its own warmup 0): compare with wsd's decay
    inner = hf_lrsched.get_scheduler("wsd", sgd(), 0, 17, options)
    assert lr_trajectory(wrapped, 22)[3:] == lr_trajectory(inner, 19)
    assert alone[-1] == pytest.approx(0.05)


# --------------------------------------------------------------------------------------------------
# Resume bit for bit from every phase boundary and from the middle of phases; the identity
# --------------------------------------------------------------------------------------------------

RESUME_PHASES = [
    {"schedule": "cosine", "length": 6},
    {"schedule": "warmup_step", "length": 0.3, "step_size": 3, "gamma": 0.5},
    {"schedule": "wsd", "decay_length": 4, "decay_type": "1-sqrt"},
]
# warmup 3, phases start at 3, 9, 18; 30 updates
RESUME_AT = sorted({0, 1, 2, 3, 4, 8, 9, 10, 13, 17, 18, 19, 25, 29, 30})


def _sequential():
    opt = sgd(0.2, groups=2)
    return hf_lrsched.get_scheduler("sequential", opt, 3, 30, {"phases": RESUME_PHASES})


@pytest.mark.parametrize("n", RESUME_AT)
def test_resume_through_state_dict_is_bit_identical(n):
    whole = lr_trajectory(_sequential(), 32)
    first = _sequential()
    lr_trajectory(first, n)
    state = pickle.loads(pickle.dumps(first.state_dict()))
    optimizer_state = first.optimizer.state_dict()
    second = _sequential()
    second.optimizer.load_state_dict(optimizer_state)
    second.load_state_dict(state)
    assert lr_trajectory(second, 32 - n) == whole[n:]


def test_identity_records_resolved_phases_and_refuses_another():
    scheduler = _sequential()
    phases = scheduler.schedule_options["phases"]
    assert [(p["schedule"], p["start"], p["length"]) for p in phases] == [
        ("cosine", 0, 6),
        ("warmup_step", 6, 9),
        ("wsd", 15, 12),
    ]
    assert phases[1]["options"]["step_size"] == 3 and phases[2]["options"]["decay_length"] == 4
    saved = scheduler.state_dict()
    torch.save(saved, buffer := __import__("io").BytesIO())
    buffer.seek(0)
    assert torch.load(buffer, weights_only=True)["schedule_options"] == scheduler.schedule_options
    other = [dict(RESUME_PHASES[0], length=5), *RESUME_PHASES[1:]]
    changed = hf_lrsched.get_scheduler("sequential", sgd(0.2, groups=2), 3, 30, {"phases": other})
    with pytest.raises(ValueError, match=r"phases: saved .*'length': 6"):
        changed.load_state_dict(saved)


# --------------------------------------------------------------------------------------------------
# Bad input: one ValueError naming the phase and the option
# --------------------------------------------------------------------------------------------------

ONE_CYCLE_IN_A_PHASE = (
    r"^phases\[0\] \(one_cycle\): one_cycle inside a composed schedule sets the LR only: give cycle_momentum=false "
    r"and no max_lr$"
)
BAD_PHASES = [
    ([{"schedule": "constant", "length": 60}, {"schedule": "linear", "length": 50}], r"^phases\[1\]\.length=50 .*past"),
    ([{"schedule": "constant", "length": 60}, {"schedule": "linear", "length": 30}], r"^phases\[1\]\.length=30 .*befo"),
    ([{"schedule": "constant", "length": 100}, {"schedule": "linear"}], r"^phases\[1\] has no length"),
    ([{"schedule": "constant", "length": 0}, {"schedule": "linear"}], r"^phases\[0\]\.length must be >= 1, got 0"),
    ([{"schedule": "constant"}, {"schedule": "linear"}], r"^phases\[0\]\.length is required"),
    (
        [{"schedule": "constnat", "length": 5}, {"schedule": "linear"}],
        r"^phases\[0\]\.schedule: unknown lr_scheduler_type 'constnat' \(did you mean 'constant'\?\); known",
    ),
    ([5], r"^phases\[0\] must be an object such as \{'schedule': 'linear'\}, got 5$"),
    ([{"length": 5}], r"^phases\[0\]\.schedule is required \(a name such as 'linear'\), got \{'length': 5\}$"),
    ([{"schedule": "sequential"}], r"^phases\[0\]\.schedule='sequential': a phase cannot itself be sequential"),
    ([{"schedule": "linear", "length": 5}, {"schedule": "greedy"}], r"^phases\[1\]\.schedule='greedy' is driven"),
    (
        [{"schedule": "warmup_step", "length": 5, "gama": 0.5}, {"schedule": "linear"}],
        r"^phases\[0\] \(warmup_step\): lr_scheduler_kwargs: unknown option 'gama' for schedule 'warmup_step' "
        r"\(did you mean 'gamma'\?\); accepted options: step_size, gamma, min_lr_ratio, warmup_type, "
        r"warmup_start_ratio$",
    ),
    (
        [{"schedule": "linear", "length": 5}, {"schedule": "warmup_exponential", "gamma": 2.0}],
        r"^phases\[1\] \(warmup_exponential\): gamma must be in \(0.0, 1.0\], got 2.0",
    ),
    (
        [{"schedule": "linear", "length": "2ep"}, {"schedule": "linear"}],
        r"^phases\[0\]\.length='2ep' is in epochs, which needs steps_per_epoch",
    ),
    (
        [{"schedule": "cosine_with_min_lr", "min_lr": 1e-5}],
        r"^phases\[0\] \(cosine_with_min_lr\): min_lr=1e-05 is an absolute LR",
    ),
    ([{"schedule": "one_cycle"}], ONE_CYCLE_IN_A_PHASE),
    ([{"schedule": "one_cycle", "cycle_momentum": False, "max_lr": 0.1}], ONE_CYCLE_IN_A_PHASE),
    (
        [{"schedule": "polynomial", "lr_end": 1e-5}],
        r"^phases\[0\] \(polynomial\): lr_end=1e-05 is an absolute LR, but a phase is a multiplier of the base LR "
        r"\(it would end at 1e-05 times it\); give lr_end=0\.0 or leave it out$",
    ),
    ([{"schedule": "polynomial", "power": -2.0}], r"^phases\[0\] \(polynomial\): .*gives an LR multiplier"),
    ("constant", r"^phases must be a non-empty list"),
    ([], r"^phases must be a non-empty list"),
]  # fmt: skip


@pytest.mark.parametrize("phases, message", BAD_PHASES)
def test_bad_phases_are_one_value_error_naming_the_phase(phases, message):
    with pytest.raises(ValueError, match=message):
        hf_lrsched.get_scheduler("sequential", sgd(), 0, 100, {"phases": phases})


def test_bad_phase_options_fail_when_training_arguments_are_parsed(tmp_path):
    phases = [{"schedule": "linear", "length": 0.5}, {"schedule": "warmup_step", "gamma": 2.0}]
    with pytest.raises(ValueError, match=r"phases\[1\] \(warmup_step\): gamma must be in \(0.0, 1.0\], got 2.0"):
        TrainingArguments(str(tmp_path), lr_scheduler_type="sequential", lr_scheduler_kwargs={"phases": phases})


BAD_WSD = [
    (
        {"decay_length": 95},
        10,
        r"^decay_length=95 \(95 steps\) does not fit after num_warmup_steps=10 in num_training_steps=100 "
        r"\(the stable phase would be -5 steps\)$",
    ),
    ({"decay_type": "step"}, 0, r"^decay_type must be one of \['linear', 'cosine', '1-sqrt', 'exponential', 'warmup_"),
    ({"decay_type": "sequential"}, 0, r"^decay_type must be one of"),
    (
        {"decay_type": "exponential"},
        0,
        r"^decay_type='exponential' decays geometrically to min_lr_ratio: it must be > 0, got 0\.0$",
    ),
    (
        {"decay_options": {"gamma": 0.5}},
        0,
        r"^decay_options are the options of a schedule given as decay_type; decay_type='1-sqrt' takes none, "
        r"got decay_options=\{'gamma': 0\.5\}$",
    ),
    (
        {"decay_type": "warmup_step", "min_lr_ratio": 0.1},
        0,
        r"^min_lr_ratio=0\.1 is for wsd's own decay shapes; with decay_type='warmup_step' give the schedule's own "
        r"floor in decay_options$",
    ),
    (
        {"decay_type": "warmup_step", "decay_options": {"gamma": 3}},
        0,
        r"^decay_options \(warmup_step\): gamma must be in \(0\.0, 1\.0\], got 3\.0$",
    ),
    (
        {"decay_type": "warmup_step", "decay_options": [0.5]},
        0,
        r"^decay_options must be an object \(the options of 'warmup_step'\), got \[0\.5\]$",
    ),
    (
        {"decay_type": "warmup_step", "decay_options": {"gama": 0.5}},
        0,
        r"^decay_options \(warmup_step\): lr_scheduler_kwargs: unknown option 'gama' for schedule 'warmup_step' "
        r"\(did you mean 'gamma'\?\); accepted options: step_size, gamma, min_lr_ratio, warmup_type, "
        r"warmup_start_ratio$",
    ),
    ({"decay_length": "1ep"}, 0, r"^decay_length='1ep' is in epochs, which needs steps_per_epoch"),
    ({"decay_length": 0}, 0, r"^decay_length must be >= 1, got 0$"),
]
#: The rows whose error needs no run length: TrainingArguments raises them when it is parsed.
BAD_WSD_WITHOUT_LENGTH = [row for row in BAD_WSD if row[0].get("decay_length", 0) == 0]


@pytest.mark.parametrize("options, warmup, message", BAD_WSD)
def test_bad_wsd_options_are_one_value_error_naming_the_option(options, warmup, message):
    with pytest.raises(ValueError, match=message):
        hf_lrsched.get_scheduler("wsd", sgd(), warmup, 100, options)


@pytest.mark.parametrize("options, warmup, message", BAD_WSD_WITHOUT_LENGTH)
def test_bad_wsd_options_fail_when_training_arguments_are_parsed(options, warmup, message):
    # check_schedule_options is what TrainingArguments runs when it is parsed (no run length yet)
    with pytest.raises(ValueError, match=message):
        hf_lrsched.check_schedule_options("wsd", options)


@pytest.mark.parametrize(
    "options",
    [
        {"decay_length": 1},  # one step of decay is a decay
        {"decay_length": 0.5, "min_lr_ratio": 0.1, "warmup_type": "cosine", "warmup_start_ratio": 0.2},
        {"decay_type": "warmup_step", "decay_options": {"gamma": 0.5}},
    ],
)
def test_good_wsd_options_pass_when_training_arguments_are_parsed(options):
    assert hf_lrsched.check_schedule_options("wsd", options) is None


BAD_PHASES_WITHOUT_LENGTH = [
    ([{"schedule": "constant", "length": 0}, {"schedule": "linear"}], r"^phases\[0\]\.length must be >= 1, got 0$"),
    (
        [{"schedule": "constant", "length": 5, "num_warmup_steps": -1}, {"schedule": "linear"}],
        r"^phases\[0\]\.num_warmup_steps must be >= 0, got -1$",
    ),
]


@pytest.mark.parametrize("phases, message", BAD_PHASES_WITHOUT_LENGTH)
def test_bad_phase_lengths_fail_when_training_arguments_are_parsed(phases, message):
    with pytest.raises(ValueError, match=message):
        hf_lrsched.check_schedule_options("sequential", {"phases": phases})


def test_good_phase_lengths_pass_when_training_arguments_are_parsed():
    phases = [
        {"schedule": "constant", "length": 1, "num_warmup_steps": 0},  # a phase of one step
        {"schedule": "warmup_step", "length": "2ep", "num_warmup_steps": "1ep"},
        {"schedule": "linear", "num_warmup_steps": 0.25},
    ]
    assert hf_lrsched.check_schedule_options("sequential", {"phases": phases}) is None


@pytest.mark.parametrize(
    "warmup, phases, message",
    [
        (
            10,
            [{"schedule": "constant", "length": 60}, {"schedule": "linear", "length": 50}],
            r"^phases\[1\]\.length=50 \(50 steps\) ends at step 120, past num_training_steps=100 "
            r"\(num_warmup_steps=10 \+ the phases' lengths must add up to it\)$",
        ),
        (
            10,
            [{"schedule": "constant", "length": 60}, {"schedule": "linear", "length": 20}],
            r"^phases\[1\]\.length=20 \(20 steps\) ends at step 90, before num_training_steps=100: the lengths must "
            r"add up to the training after warmup; omit the last phase's length to give it the rest$",
        ),
        (
            10,
            [{"schedule": "constant", "length": 90}, {"schedule": "linear"}],
            r"^phases\[1\] has no length and gets the rest of training, but the phases before it end at step 100 = "
            r"num_training_steps=100: nothing is left for it$",
        ),
    ],
)
def test_phase_lengths_that_do_not_add_up_say_where_the_phase_ends(warmup, phases, message):
    # the end step counts the warmup and the phases before: 10 + 60 + 50 = 120, 10 + 60 + 20 = 90, 10 + 90 = 100
    with pytest.raises(ValueError, match=message):
        hf_lrsched.get_scheduler("sequential", sgd(), warmup, 100, {"phases": phases})


@pytest.mark.parametrize("name", ["sequential", "wsd"])
def test_the_missing_total_names_the_schedule(name):
    builder = getattr(hf_lrsched.schedules, f"{name}_schedule")
    with pytest.raises(ValueError, match=rf"^num_training_steps is required for {name}, got None$"):
        builder(0, None)


def test_a_user_schedule_that_is_no_lambda_lr_cannot_be_a_phase():
    def get_steps(optimizer, num_warmup_steps=None, num_training_steps=None):
        return torch_sched.StepLR(optimizer, step_size=2)

    hf_lrsched.register_schedule("steps_for_a_phase", get_steps)
    try:
        with pytest.raises(
            ValueError,
            match=r"^phases\[0\] \(steps_for_a_phase\): schedule 'steps_for_a_phase' builds a StepLR, not a LambdaLR "
            r"with one multiplier function \(a closed form of the step\), so it cannot be composed$",
        ):
            hf_lrsched.get_scheduler("sequential", sgd(), 0, 10, {"phases": [{"schedule": "steps_for_a_phase"}]})
    finally:
        hf_lrsched.unregister_schedule("steps_for_a_phase")


def test_each_option_of_each_phase_is_checked_once():
    phases = [
        {"schedule": "warmup_step", "length": 10, "step_size": 4, "gamma": 0.5},
        {"schedule": "cosine", "length": "1ep"},
        {"schedule": "warmup_exponential", "final_lr_ratio": 0.1},
    ]
    with CheckSpy() as spy:
        hf_lrsched.get_scheduler("sequential", sgd(), 2, 100, {"phases": phases}, steps_per_epoch=20)
    once = {"step_size", "gamma", "final_lr_ratio", "phases[0].length", "phases[1].length"}
    assert {name: spy.options[name] for name in once} == dict.fromkeys(once, 1)
    # sequential's own, each of the two built-in phases', and cosine's (transformers' own, checked once)
    assert spy.options["num_training_steps"] == 4 and spy.options["num_warmup_steps"] == 4
    assert spy.options["warmup_type"] == 3 and spy.options["min_lr_ratio"] == 3  # sequential + 2 phases


# --------------------------------------------------------------------------------------------------
# Lengths in epochs
# --------------------------------------------------------------------------------------------------


def test_the_seeds_multistep_in_epochs_works_as_written():
    options = {"milestones": ["60ep", "120ep", "160ep"], "gamma": 0.2}
    scheduler = hf_lrsched.get_scheduler("warmup_multistep", sgd(), 0, 200 * 3, options, steps_per_epoch=3)
    assert scheduler.schedule_options["milestones"] == [180, 360, 480]
    lrs = lr_trajectory(scheduler, 600)
    assert (lrs[179], lrs[180], lrs[359], lrs[360], lrs[480]) == (1.0, 0.2, 0.2, 0.2**2, 0.2**3)


@pytest.mark.parametrize(
    "name, warmup, options, resolved",
    [
        ("warmup_step", "0.5ep", {"step_size": "2ep"}, {"num_warmup_steps": 5, "step_size": 20}),
        ("warmup_exponential", "1ep", {"staircase_steps": "1.5ep"}, {"num_warmup_steps": 10, "staircase_steps": 15}),
        ("warmup_multistep", "1ep", {"milestones": ["2ep"]}, {"num_warmup_steps": 10, "milestones": [20]}),
        ("sgdr", "1ep", {"cycle_steps": "2.5ep"}, {"num_warmup_steps": 10, "cycle_steps": 25}),
        ("one_cycle", "3ep", {"cycle_momentum": False}, {"num_warmup_steps": 30}),
        ("wsd", "1ep", {"decay_length": "3ep"}, {"num_warmup_steps": 10, "decay_length": 30}),
        (
            "sequential",
            "1ep",
            {"phases": [{"schedule": "constant", "length": "2ep"}, {"schedule": "linear"}]},
            {"num_warmup_steps": 10},
        ),
        ("cosine", "0.5ep", {}, None),
    ],
)
def test_every_length_takes_epochs(name, warmup, options, resolved):
    scheduler = hf_lrsched.get_scheduler(name, sgd(), warmup, 100, options, steps_per_epoch=10)
    if resolved is None:  # transformers' own: the warmup of 5 steps is reached at step 5
        assert lr_trajectory(scheduler, 6)[-2:] == [0.8, 1.0]
        return
    assert {key: scheduler.schedule_options[key] for key in resolved} == resolved


def test_phase_lengths_take_epochs_and_steps_per_epoch_may_be_an_option():
    phases = [{"schedule": "constant", "length": "2ep"}, {"schedule": "linear"}]
    options = {"phases": phases, "steps_per_epoch": 7}
    scheduler = hf_lrsched.get_scheduler("sequential", sgd(), 0, 20, options)
    assert [p["length"] for p in scheduler.schedule_options["phases"]] == [14, 6]
    assert "steps_per_epoch" not in scheduler.schedule_options  # the steps are the identity, not the epoch


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10"])
def test_bad_steps_per_epoch_is_named(bad):
    with pytest.raises(ValueError, match=r"^steps_per_epoch must be"):
        hf_lrsched.get_scheduler("warmup_step", sgd(), 0, 100, {"step_size": "1ep"}, steps_per_epoch=bad)


@pytest.mark.parametrize("bad", ["ep", "0ep", "-1ep", "nanep", "1.5 epochs"])
def test_bad_epochs_are_named(bad):
    with pytest.raises(ValueError, match=r"^milestones\[0\] must be"):
        hf_lrsched.get_scheduler("warmup_multistep", sgd(), 0, 100, {"milestones": [bad]}, steps_per_epoch=10)


def test_epochs_unknown_is_a_value_error_naming_steps_per_epoch():
    with pytest.raises(ValueError, match=r"^milestones\[0\]='1ep' is in epochs, which needs steps_per_epoch"):
        hf_lrsched.get_scheduler("warmup_multistep", sgd(), 0, 100, {"milestones": ["1ep"]})


@pytest.mark.parametrize("size, accumulation", [(8, 1), (16, 2)])
def test_trainer_counts_epochs_in_its_updates(tmp_path, size, accumulation):
    # 4 epochs of 2 updates (batches of 4; with accumulation 2, 4 batches make the 2 updates)
    args = make_args(
        tmp_path,
        via_command_line=True,
        max_steps=-1,
        num_train_epochs=4,
        gradient_accumulation_steps=accumulation,
        lr_scheduler_type="warmup_multistep",
        lr_scheduler_kwargs={"milestones": ["1ep", "3ep"], "gamma": 0.1},
    )
    import helpers_tiny

    original = helpers_tiny.tiny_dataset
    helpers_tiny.tiny_dataset = lambda: original(size)
    try:
        recorder, trainer = train_tiny(args)
    finally:
        helpers_tiny.tiny_dataset = original
    assert trainer.lr_scheduler.schedule_options["milestones"] == [2, 6]
    assert recorder.steps == list(range(8))
    drops = [0, 0, 1, 1, 1, 1, 2, 2]
    assert [lrs[0] for lrs in recorder.lrs] == [1e-3 * 0.1**k for k in drops]


def test_trainer_without_a_dataloader_length_names_steps_per_epoch(tmp_path):
    class Stream(torch.utils.data.IterableDataset):
        def __iter__(self):
            from helpers_tiny import tiny_dataset

            return iter(tiny_dataset(8))

    args = make_args(
        tmp_path, max_steps=4, lr_scheduler_type="warmup_multistep", lr_scheduler_kwargs={"milestones": ["1ep"]}
    )
    from helpers_tiny import tiny_model
    from transformers import Trainer

    trainer = Trainer(model=tiny_model(), args=args, train_dataset=Stream())
    with pytest.raises(ValueError, match="steps_per_epoch"):
        trainer.train()


def test_accelerate_scheduler_counts_epochs_in_the_prepared_dataloader():
    from accelerate import Accelerator

    accelerator = Accelerator(cpu=True, gradient_accumulation_steps=2)
    model = torch.nn.Linear(2, 1)
    loader = torch.utils.data.DataLoader(torch.zeros(10, 2), batch_size=2)  # 5 batches: 3 updates per epoch
    model, optimizer, loader = accelerator.prepare(model, torch.optim.SGD(model.parameters(), lr=1.0), loader)
    scheduler = get_accelerate_scheduler(
        accelerator, "warmup_multistep", optimizer, 0, 12, {"milestones": ["1ep", "3ep"]}, dataloader=loader
    )
    assert scheduler.scheduler.schedule_options["milestones"] == [3, 9]


# --------------------------------------------------------------------------------------------------
# TrainingArguments: nested JSON on a command line, pickled into a fresh process
# --------------------------------------------------------------------------------------------------


def test_nested_kwargs_parse_and_pickle_into_a_fresh_process(tmp_path):
    kwargs = '{"phases": [{"schedule": "constant", "length": "1ep"}, {"schedule": "wsd", "decay_type": "cosine"}]}'
    argv = ["--output_dir", str(tmp_path), "--lr_scheduler_type", "sequential", "--lr_scheduler_kwargs", kwargs]
    (args,) = HfArgumentParser(TrainingArguments).parse_args_into_dataclasses(args=argv)
    assert args.lr_scheduler_kwargs["phases"][1] == {"schedule": "wsd", "decay_type": "cosine"}
    data = pickle.dumps(args)
    code = (
        "import pickle, sys; a = pickle.loads(sys.stdin.buffer.read()); "
        "print(a.lr_scheduler_type.value, a.lr_scheduler_kwargs['phases'][0]['length'])"
    )
    result = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True, timeout=300)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert result.stdout.decode().split() == ["sequential", "1ep"]
