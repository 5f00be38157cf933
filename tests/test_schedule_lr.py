"""ScheduleLR's fast step path gives exactly what torch's LambdaLR machinery gives."""

import io
import re
import warnings

import pytest
import torch
from torch.optim.lr_scheduler import LambdaLR

import hf_lrsched
from hf_lrsched import catalog

NAMES = catalog.names()


def _optimizer(lr_type=float):
    params = [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(2))]
    lrs = (0.1, 0.03)
    groups = [{"params": [p], "lr": lr_type(lr)} for p, lr in zip(params, lrs)]
    return torch.optim.AdamW(groups, lr=0.1)


@pytest.mark.parametrize("name", NAMES)
def test_fast_step_equals_lambdalr(name):
    total = 400
    ours_opt, ref_opt = _optimizer(), _optimizer()
    ours = hf_lrsched.get_scheduler(name, ours_opt, 40, total)
    # Reference: plain LambdaLR over the very same pure function.
    ref = LambdaLR(ref_opt, ours.lr_lambdas[0])
    for _ in range(total + 5):
        assert [g["lr"] for g in ours_opt.param_groups] == [g["lr"] for g in ref_opt.param_groups]
        assert ours.get_last_lr() == ref.get_last_lr()
        for opt in (ours_opt, ref_opt):
            opt.step()
        ours.step()
        ref.step()
    assert ours.last_epoch == ref.last_epoch == total + 5
    assert ours._step_count == ref._step_count


def test_tensor_lrs_take_torch_path():
    opt = _optimizer(lr_type=torch.tensor)
    sched = hf_lrsched.get_exponential_schedule_with_warmup(opt, 0, 100, gamma=0.5)
    for _ in range(3):
        opt.step()
        sched.step()
    lrs = [g["lr"] for g in opt.param_groups]
    assert all(isinstance(lr, torch.Tensor) for lr in lrs)
    assert [float(lr) for lr in lrs] == pytest.approx([0.1 * 0.125, 0.03 * 0.125], rel=1e-6)


def test_order_warning_still_raised():
    opt = _optimizer()
    sched = hf_lrsched.get_step_schedule_with_warmup(opt, 0, 100)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sched.step()  # before optimizer.step(): torch's warning must survive the fast path
    assert any("optimizer.step()" in str(w.message) for w in caught)


# --------------------------------------------------------------------------------------------------
# Resume identity: a state saved with other options is refused, naming each difference
# --------------------------------------------------------------------------------------------------


def _sgd(momentum=0.9, lr_type=float):
    params = [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(2))]
    groups = [{"params": [p], "lr": lr_type(lr)} for p, lr in zip(params, (0.1, 0.03))]
    return torch.optim.SGD(groups, lr=0.1, momentum=momentum)


def _saved_after(scheduler, optimizer, steps: int) -> dict:
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
    buffer = io.BytesIO()
    torch.save(scheduler.state_dict(), buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)  # the identity is plain data


def test_state_records_name_and_resolved_options():
    state = hf_lrsched.get_scheduler("warmup_step", _sgd(), 0.1, 200, {"step_size": 0.25}).state_dict()
    assert state["schedule_name"] == "warmup_step"
    assert state["schedule_options"] == {
        "num_training_steps": 200,
        "num_warmup_steps": 20,  # fractions resolved to steps
        "step_size": 50,
        "gamma": 0.1,
        "min_lr_ratio": 0.0,
        "warmup_type": "linear",
        "warmup_start_ratio": 0.0,
    }


def test_other_options_are_refused_naming_each_difference(monkeypatch):
    monkeypatch.delenv("HF_LRSCHED_ALLOW_SCHEDULE_CHANGE", raising=False)
    opt = _optimizer()
    saved = _saved_after(hf_lrsched.get_scheduler("one_cycle", opt, 0, 100, {"div_factor": 10.0}), opt, 30)
    other = hf_lrsched.get_scheduler("one_cycle", _optimizer(), 0, 100, {"max_lr": 0.5, "three_phase": True})
    with pytest.raises(ValueError) as info:
        other.load_state_dict(saved)
    message = str(info.value)
    for difference in ("div_factor: saved 10.0, now 25.0", "max_lr: saved None, now 0.5", "three_phase: saved False"):
        assert difference in message, message
    assert "HF_LRSCHED_ALLOW_SCHEDULE_CHANGE=1" in message
    assert other.last_epoch == 0  # nothing loaded
    with pytest.raises(ValueError, match=r"schedule: saved 'one_cycle', now 'sgdr'"):
        hf_lrsched.get_scheduler("sgdr", _optimizer(), 0, 100).load_state_dict(saved)


def test_adamw_state_over_sgd_is_refused_not_a_key_error(monkeypatch):
    monkeypatch.delenv("HF_LRSCHED_ALLOW_SCHEDULE_CHANGE", raising=False)
    opt = _optimizer()
    saved = _saved_after(hf_lrsched.get_scheduler("one_cycle", opt, 0, 100), opt, 10)
    sgd = _sgd()
    with pytest.raises(ValueError, match=r"momentum_key: saved 'betas', now 'momentum'"):
        hf_lrsched.get_scheduler("one_cycle", sgd, 0, 100).load_state_dict(saved)
    # An 0.1.0 state (no name or options) has the momentum key too: refused just the same.
    old = {k: v for k, v in saved.items() if k not in ("schedule_name", "schedule_options")}
    with pytest.raises(ValueError, match=r"momentum_key: saved 'betas', now 'momentum'"):
        hf_lrsched.get_scheduler("one_cycle", _sgd(), 0, 100).load_state_dict(old)


def test_allowed_change_continues_from_the_saved_step_with_the_new_schedule(monkeypatch):
    monkeypatch.setenv("HF_LRSCHED_ALLOW_SCHEDULE_CHANGE", "1")
    opt = _optimizer()
    saved = _saved_after(hf_lrsched.get_scheduler("one_cycle", opt, 0, 100, {"pct_start": 0.5}), opt, 49)
    new_opt = _sgd()
    new = hf_lrsched.get_scheduler("one_cycle", new_opt, 0, 100, {"pct_start": 0.5, "max_lr": 0.5})
    new.load_state_dict(saved)
    assert new.last_epoch == 49 and new.momentum_key == "momentum"
    new_opt.step()
    new.step()  # step 50 = the peak (pct_start * 100 - 1 = 49 ends the rise; 50 is just past it)
    assert new.base_lrs == [0.5, 0.5]  # the new max_lr, not the saved base LRs
    assert new_opt.param_groups[0]["lr"] <= 0.5 and new_opt.param_groups[0]["lr"] > 0.49
    assert 0.85 <= new_opt.param_groups[0]["momentum"] < 0.86  # SGD's momentum key, no KeyError


def test_state_without_identity_from_0_1_0_loads_under_the_switch(monkeypatch):
    monkeypatch.delenv("HF_LRSCHED_ALLOW_SCHEDULE_CHANGE", raising=False)
    opt = _sgd()
    sched = hf_lrsched.get_scheduler("warmup_step", opt, 0, 100, {"step_size": 10, "gamma": 0.5})
    saved = _saved_after(sched, opt, 25)
    old = {k: v for k, v in saved.items() if k not in ("schedule_name", "schedule_options")}
    new_opt = _sgd()
    new = hf_lrsched.get_scheduler("warmup_step", new_opt, 0, 100, {"step_size": 10, "gamma": 0.5})
    # The state cannot tell which schedule saved it (a transformers LambdaLR looks the same).
    with pytest.raises(ValueError, match=r"the saved schedule is unknown"):
        new.load_state_dict(old)
    monkeypatch.setenv("HF_LRSCHED_ALLOW_SCHEDULE_CHANGE", "1")
    new.load_state_dict(old)
    new_opt.step()
    new.step()
    assert new.last_epoch == 26 and new.get_last_lr() == [0.1 * 0.25, 0.03 * 0.25]
    assert new.schedule_name == "warmup_step"  # the structure stays the current one


def test_float_lr_state_keeps_tensor_lrs_tensors(monkeypatch):
    monkeypatch.delenv("HF_LRSCHED_ALLOW_SCHEDULE_CHANGE", raising=False)
    opt = _optimizer()
    saved = _saved_after(hf_lrsched.get_exponential_schedule_with_warmup(opt, 0, 100, gamma=0.5), opt, 3)
    tensor_opt = _optimizer(lr_type=torch.tensor)
    lr_tensors = [g["lr"] for g in tensor_opt.param_groups]
    sched = hf_lrsched.get_exponential_schedule_with_warmup(tensor_opt, 0, 100, gamma=0.5)
    sched.load_state_dict(saved)
    for _ in range(3):
        tensor_opt.step()
        sched.step()
    lrs = [g["lr"] for g in tensor_opt.param_groups]
    assert all(lr is tensor for lr, tensor in zip(lrs, lr_tensors))  # updated in place, still tensors
    assert [float(lr) for lr in lrs] == pytest.approx([0.1 * 0.5**6, 0.03 * 0.5**6], rel=1e-6)


@pytest.mark.parametrize("value", ["1", "true", "True", "yes", "YES"])
def test_allow_schedule_change_switch_values(monkeypatch, value):
    opt = _sgd()
    saved = _saved_after(hf_lrsched.get_scheduler("warmup_step", opt, 0, 100, {"gamma": 0.5}), opt, 10)
    monkeypatch.setenv("HF_LRSCHED_ALLOW_SCHEDULE_CHANGE", value)
    new = hf_lrsched.get_scheduler("warmup_step", _sgd(), 0, 100, {"gamma": 0.2})
    new.load_state_dict(saved)
    assert new.last_epoch == 10


@pytest.mark.parametrize("value", ["", "0", "no", "false"])
def test_other_switch_values_keep_the_check(monkeypatch, value):
    opt = _sgd()
    saved = _saved_after(hf_lrsched.get_scheduler("warmup_step", opt, 0, 100, {"gamma": 0.5}), opt, 10)
    monkeypatch.setenv("HF_LRSCHED_ALLOW_SCHEDULE_CHANGE", value)
    with pytest.raises(ValueError, match="gamma: saved 0.5, now 0.2"):
        hf_lrsched.get_scheduler("warmup_step", _sgd(), 0, 100, {"gamma": 0.2}).load_state_dict(saved)


def test_refusal_message_in_full_and_options_known_on_one_side_only(monkeypatch):
    monkeypatch.delenv("HF_LRSCHED_ALLOW_SCHEDULE_CHANGE", raising=False)
    opt = _sgd()
    saved = _saved_after(hf_lrsched.get_scheduler("warmup_step", opt, 0, 100, {"gamma": 0.5}), opt, 10)
    saved["schedule_options"] = {**saved["schedule_options"], "from_a_newer_version": 1}
    with pytest.raises(ValueError) as info:
        hf_lrsched.get_scheduler("warmup_step", _sgd(), 0, 100, {"gamma": 0.2}).load_state_dict(saved)
    assert str(info.value) == (
        "the scheduler state was saved with another schedule: from_a_newer_version: saved 1, now None; "
        "gamma: saved 0.5, now 0.2; resume with the schedule it was saved with, or set "
        "HF_LRSCHED_ALLOW_SCHEDULE_CHANGE=1 to continue from the saved step with the new schedule"
    )


@pytest.mark.parametrize(
    "name, options",
    [
        ("warmup_exponential", {"gamma": 0.5}),
        ("warmup_step", {"step_size": 3, "gamma": 0.5}),
        ("warmup_multistep", {"milestones": [3, 6], "gamma": 0.5}),
        ("sgdr", {"cycle_steps": 4}),
        ("one_cycle", {}),
    ],
)
def test_factories_pass_last_epoch_on(name, options):
    # a scheduler rebuilt with last_epoch=k (groups hold initial_lr) continues at step k + 1
    fresh_opt = _sgd()
    fresh = hf_lrsched.get_scheduler(name, fresh_opt, 0, 20, options)
    for _ in range(6):
        fresh_opt.step()
        fresh.step()
    opt = _sgd()
    for group in opt.param_groups:
        group["initial_lr"] = group["lr"]
    rebuilt = hf_lrsched.available_schedules()[name](opt, 0, 20, last_epoch=5, **options)
    assert rebuilt.last_epoch == 6
    assert rebuilt.get_last_lr() == fresh.get_last_lr()


COMMON_CHANGES = [("min_lr_ratio", 0.0, 0.1), ("warmup_type", "linear", "cosine"), ("warmup_start_ratio", 0.0, 0.1)]
IDENTITY_CHANGES = [
    *[("warmup_exponential", *change) for change in COMMON_CHANGES],
    ("warmup_exponential", "gamma", 0.9, 0.8),
    ("warmup_exponential", "final_lr_ratio", 0.1, 0.2),
    ("warmup_exponential", "staircase_steps", 2, 3),
    *[("warmup_step", *change) for change in COMMON_CHANGES],
    ("warmup_step", "step_size", 5, 6),
    ("warmup_step", "gamma", 0.5, 0.2),
    *[("warmup_multistep", *change) for change in COMMON_CHANGES],
    ("warmup_multistep", "milestones", [10], [12]),
    ("warmup_multistep", "gamma", 0.5, 0.2),
    *[("sgdr", *change) for change in COMMON_CHANGES],
    ("sgdr", "cycle_steps", 5, 6),
    ("sgdr", "cycle_mult", 1, 2),
    ("sgdr", "cycle_decay", 1.0, 0.5),
    ("one_cycle", "max_lr", 0.1, 0.5),
    ("one_cycle", "pct_start", 0.3, 0.4),
    ("one_cycle", "anneal_strategy", "cos", "linear"),
    ("one_cycle", "div_factor", 25.0, 10.0),
    ("one_cycle", "final_div_factor", 1e4, 1e3),
    ("one_cycle", "three_phase", False, True),
    ("one_cycle", "cycle_momentum", True, False),
    ("one_cycle", "base_momentum", 0.85, 0.8),
    ("one_cycle", "max_momentum", 0.95, 0.9),
    ("one_cycle", "min_lr_ratio", 0.0, 0.1),
]


@pytest.mark.parametrize("name, option, before, after", IDENTITY_CHANGES)
def test_each_option_is_part_of_the_identity(monkeypatch, name, option, before, after):
    monkeypatch.delenv("HF_LRSCHED_ALLOW_SCHEDULE_CHANGE", raising=False)
    opt = _sgd()
    saved = _saved_after(hf_lrsched.get_scheduler(name, opt, 0, 40, {option: before}), opt, 3)
    with pytest.raises(ValueError, match=re.escape(f"{option}: saved {before!r}, now {after!r}")):
        hf_lrsched.get_scheduler(name, _sgd(), 0, 40, {option: after}).load_state_dict(saved)


@pytest.mark.parametrize("name", NAMES)
def test_lengths_are_part_of_the_identity(monkeypatch, name):
    monkeypatch.delenv("HF_LRSCHED_ALLOW_SCHEDULE_CHANGE", raising=False)
    opt = _sgd()
    saved = _saved_after(hf_lrsched.get_scheduler(name, opt, 4, 40), opt, 3)
    with pytest.raises(ValueError, match=r"num_warmup_steps: saved 4, now 5"):
        hf_lrsched.get_scheduler(name, _sgd(), 5, 40).load_state_dict(saved)
    with pytest.raises(ValueError, match=r"num_training_steps: saved 40, now 48"):
        hf_lrsched.get_scheduler(name, _sgd(), 4, 48).load_state_dict(saved)
    # the same options load: the name and identity are those of the factory
    same = hf_lrsched.get_scheduler(name, _sgd(), 4, 40)
    same.load_state_dict(saved)
    assert same.schedule_name == saved["schedule_name"] == name


def test_one_cycle_identity_in_full():
    derived = hf_lrsched.get_scheduler("one_cycle", _sgd(), 0.1, 40).state_dict()["schedule_options"]
    assert derived == {
        "num_training_steps": 40,
        "num_warmup_steps": 4,  # pct_start comes from it: recorded as None
        "max_lr": None,
        "pct_start": None,
        "anneal_strategy": "cos",
        "div_factor": 25.0,
        "final_div_factor": 1e4,
        "three_phase": False,
        "cycle_momentum": True,
        "base_momentum": 0.85,
        "max_momentum": 0.95,
        "min_lr_ratio": 0.0,
    }
    given = hf_lrsched.get_scheduler("one_cycle", _sgd(), 0, 40, {"pct_start": 0.4, "max_lr": (0.5, 0.2)})
    assert given.state_dict()["schedule_options"]["pct_start"] == 0.4
    assert given.state_dict()["schedule_options"]["max_lr"] == [0.5, 0.2]  # plain list


def test_sgdr_and_multistep_fractions_are_resolved_in_the_identity():
    sgdr = hf_lrsched.get_scheduler("sgdr", _sgd(), 0, 40, {"cycle_steps": 0.25}).state_dict()["schedule_options"]
    assert sgdr["cycle_steps"] == 10 and sgdr["cycle_mult"] == 1 and sgdr["cycle_decay"] == 1.0
    multi = hf_lrsched.get_scheduler("warmup_multistep", _sgd(), 0, 40, {"milestones": [0.5, 30]})
    assert multi.state_dict()["schedule_options"]["milestones"] == [20, 30]


def test_one_cycle_max_lr_keeps_tensor_lrs_tensors():
    opt = _optimizer(lr_type=torch.tensor)
    tensors = [g["lr"] for g in opt.param_groups]
    sched = hf_lrsched.get_one_cycle_schedule(opt, 0, 100, max_lr=0.5, pct_start=0.25)
    assert all(g["lr"] is t for g, t in zip(opt.param_groups, tensors))
    assert [float(g["lr"]) for g in opt.param_groups] == pytest.approx([0.02, 0.02], rel=1e-6)
    for _ in range(24):
        opt.step()
        sched.step()
    assert [float(g["lr"]) for g in opt.param_groups] == pytest.approx([0.5, 0.5], rel=1e-6)
