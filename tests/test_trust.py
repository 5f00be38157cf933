"""Inputs a user would try that used to give a silent curve or a misleading message (issue #19)."""

from __future__ import annotations

import pytest
import torch
from helpers_tiny import make_args

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
