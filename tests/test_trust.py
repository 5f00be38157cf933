"""Inputs a user would try that used to give a silent curve or a misleading message (issue #19)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import torch
from helpers_tiny import make_args, train_tiny

import hf_lrsched

NAN, INF = float("nan"), float("inf")


def _sgd():
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)


# --------------------------------------------------------------------------------------------------
# 1. Non-finite options and all-zero curves, for transformers' own names too
# --------------------------------------------------------------------------------------------------

# transformers' own names with a NaN/inf option that its formulas turn into a flat or silent curve
# (cosine: max(0.0, nan) is 0.0 at every step).
TRANSFORMERS_NON_FINITE = [
    ("cosine", {"num_cycles": NAN}, "num_cycles", "nan"),
    ("cosine_with_restarts", {"num_cycles": -INF}, "num_cycles", "-inf"),
    ("cosine_with_min_lr", {"min_lr_rate": INF}, "min_lr_rate", "inf"),
    ("polynomial", {"power": INF}, "power", "inf"),
    ("warmup_stable_decay", {"num_decay_steps": NAN}, "num_decay_steps", "nan"),
    ("warmup_stable_decay", {"num_decay_steps": 10, "num_stable_steps": INF}, "num_stable_steps", "inf"),
]


@pytest.mark.parametrize(("name", "options", "option", "shown"), TRANSFORMERS_NON_FINITE)
def test_get_scheduler_rejects_non_finite_option_of_transformers_schedule(name, options, option, shown):
    with pytest.raises(ValueError, match=rf"{name!r}.*{option} must be a finite number, got {shown}"):
        hf_lrsched.get_scheduler(name, _sgd(), 0, 100, options)
    with pytest.raises(ValueError, match=rf"{option} must be a finite number, got {shown}"):
        hf_lrsched.check_schedule(name, options, 0, 100)


def test_get_scheduler_rejects_non_finite_option_given_as_json():
    # json.loads accepts NaN and Infinity, as typed on a command line.
    with pytest.raises(ValueError, match=r"'cosine'.*num_cycles must be a finite number, got nan"):
        hf_lrsched.get_scheduler("cosine", _sgd(), 10, 100, '{"num_cycles": NaN}')


def test_get_scheduler_rejects_a_curve_that_is_zero_after_warmup():
    # A negative num_stable_steps puts every step past the decay: the LR is min_lr_ratio (0) from step 0.
    options = {"num_decay_steps": 10, "num_stable_steps": -1000}
    with pytest.raises(ValueError, match=r"'warmup_stable_decay'.*num_stable_steps.*-1000.*0 at every"):
        hf_lrsched.get_scheduler("warmup_stable_decay", _sgd(), 0, 100, options)
    # The boundary: a curve at its peak for one step, then 0 only at num_training_steps, is fine.
    assert hf_lrsched.get_scheduler("linear", _sgd(), 0, 1).get_last_lr() == [0.1]
    assert hf_lrsched.get_scheduler("cosine", _sgd(), 4, 5).lr_lambdas[0](4) == 1.0


@pytest.mark.parametrize("via_command_line", [False, True], ids=["direct", "command-line"])
@pytest.mark.parametrize(("name", "options", "option", "shown"), TRANSFORMERS_NON_FINITE[:3])
def test_training_arguments_reject_non_finite_option_of_transformers_schedule(
    tmp_path, via_command_line, name, options, option, shown
):
    with pytest.raises(ValueError, match=rf"{name!r}.*{option} must be a finite number, got {shown}"):
        make_args(tmp_path, lr_scheduler_type=name, lr_scheduler_kwargs=options, via_command_line=via_command_line)


def test_training_arguments_reject_non_finite_option_in_a_json_string(tmp_path):
    with pytest.raises(ValueError, match=r"'cosine'.*num_cycles must be a finite number, got inf"):
        make_args(tmp_path, lr_scheduler_type="cosine", lr_scheduler_kwargs='{"num_cycles": Infinity}')


# --------------------------------------------------------------------------------------------------
# 2. A scheduler state that records no schedule is an unknown schedule on resume
# --------------------------------------------------------------------------------------------------


def _state_after(scheduler, optimizer, steps: int) -> dict:
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
    return scheduler.state_dict()


def test_state_of_a_transformers_scheduler_is_refused_as_unknown(monkeypatch):
    from transformers import get_linear_schedule_with_warmup

    monkeypatch.delenv("HF_LRSCHED_ALLOW_SCHEDULE_CHANGE", raising=False)
    opt = _sgd()
    saved = _state_after(get_linear_schedule_with_warmup(opt, 0, 100), opt, 30)
    ours_opt = _sgd()
    ours = hf_lrsched.get_scheduler("warmup_exponential", ours_opt, 0, 100, {"gamma": 0.5})
    with pytest.raises(ValueError, match=r"saved schedule is unknown.*now 'warmup_exponential'.*ALLOW_SCHEDULE_CHANGE"):
        ours.load_state_dict(saved)
    assert ours.last_epoch == 0  # nothing loaded
    monkeypatch.setenv("HF_LRSCHED_ALLOW_SCHEDULE_CHANGE", "1")
    ours_opt.load_state_dict(opt.state_dict())  # as a resume does: the optimizer (linear's LR) first
    ours.load_state_dict(saved)
    assert ours.last_epoch == 30
    # The next update already uses the new schedule's LR at step 30, not linear's 0.1 * 70 / 100.
    assert ours_opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**30, rel=1e-12)


def test_hand_built_schedule_lr_still_loads_states(monkeypatch):
    monkeypatch.delenv("HF_LRSCHED_ALLOW_SCHEDULE_CHANGE", raising=False)
    opt = _sgd()
    hand_built = hf_lrsched.ScheduleLR(opt, lambda step: 0.5**step)
    saved = _state_after(hand_built, opt, 3)
    again = hf_lrsched.ScheduleLR(_sgd(), lambda step: 0.5**step)
    again.load_state_dict(saved)  # no identity on either side: nothing to compare
    assert again.last_epoch == 3
    # ... but into a named schedule, a hand-built state is an unknown schedule like any other.
    with pytest.raises(ValueError, match=r"saved schedule is unknown"):
        hf_lrsched.get_scheduler("warmup_step", _sgd(), 0, 100).load_state_dict(saved)


def test_trainer_resume_of_a_linear_checkpoint_with_our_schedule_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_LRSCHED_ALLOW_SCHEDULE_CHANGE", raising=False)
    common = dict(max_steps=12, learning_rate=1e-3, warmup_steps=2)
    train_tiny(
        make_args(tmp_path / "linear", save_strategy="steps", save_steps=6, lr_scheduler_type="linear", **common)
    )
    checkpoint = str(tmp_path / "linear" / "checkpoint-6")
    ours = make_args(tmp_path / "ours", lr_scheduler_type="warmup_exponential", **common)
    with pytest.raises(ValueError, match=r"saved schedule is unknown.*now 'warmup_exponential'"):
        train_tiny(ours, resume_from_checkpoint=checkpoint)

    # On purpose (the switch), the new schedule continues from the saved step: the same LRs as a run
    # with it from the start.
    monkeypatch.setenv("HF_LRSCHED_ALLOW_SCHEDULE_CHANGE", "1")
    resumed, _ = train_tiny(ours, resume_from_checkpoint=checkpoint)
    full, _ = train_tiny(make_args(tmp_path / "full", lr_scheduler_type="warmup_exponential", **common))
    assert resumed.steps == list(range(6, 12))
    assert resumed.lrs == full.lrs[6:]


# --------------------------------------------------------------------------------------------------
# 4. The README's command for docs/schedules.png makes exactly the committed picture
# --------------------------------------------------------------------------------------------------

REPO = Path(__file__).resolve().parent.parent


def _made_with(doc: Path, picture: str) -> list[str]:
    """The ``hf-lrsched plot`` command in a code block of ``doc`` that writes ``picture``, as argv."""
    text = doc.read_text(encoding="utf-8")
    for block in re.findall(r"```(?:bash|console)\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.removeprefix("$ ")
            if line.startswith("hf-lrsched plot ") and f"--output {picture}" in line:
                return shlex.split(line)
    raise AssertionError(f"no 'hf-lrsched plot ... --output {picture}' command in {doc.name}")


def test_readme_command_makes_the_committed_schedules_picture(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from hf_lrsched import cli

    argv = _made_with(REPO / "README.md", "docs/schedules.png")
    assert _made_with(REPO / "docs" / "tools.md", "docs/schedules.png") == argv  # one command, shown twice
    (tmp_path / "docs").mkdir()
    monkeypatch.chdir(tmp_path)  # the command's relative --output lands here, not on the committed file
    assert cli.main(argv[1:]) == 0
    assert (tmp_path / "docs" / "schedules.png").read_bytes() == (REPO / "docs" / "schedules.png").read_bytes()
