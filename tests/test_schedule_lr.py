"""ScheduleLR's fast step path gives exactly what torch's LambdaLR machinery gives."""

import warnings

import pytest
import torch
from torch.optim.lr_scheduler import LambdaLR

import hf_lrsched

NAMES = ["warmup_exponential", "warmup_step", "warmup_multistep", "one_cycle", "sgdr"]


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
