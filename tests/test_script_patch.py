"""What ``hf-lrsched run`` changes while a script runs (``hf_lrsched._hf.script_patch``), checked in-process.

The end-to-end runs of a no_trainer-style script are in ``test_no_trainer_scripts.py``.
"""

from __future__ import annotations

import argparse
import weakref

import pytest
import torch
import transformers
from helpers_tiny import make_args, tiny_model
from transformers import SchedulerType, Trainer

import hf_lrsched
from hf_lrsched._hf.script_patch import default_scheduler_options, scheduler_arguments

OURS = ["warmup_exponential", "warmup_step", "warmup_multistep", "one_cycle", "sgdr", "sequential", "wsd"]


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.Action]]:
    parser = argparse.ArgumentParser(prog="train.py")
    actions = {
        "typed": parser.add_argument("--lr_scheduler_type", type=SchedulerType, default="linear"),
        "listed": parser.add_argument("--scheduler", choices=["linear", "cosine"], default="linear"),
        "unrelated": parser.add_argument("--warmup_shape", choices=["linear", "cosine"], default="linear"),
        "plain": parser.add_argument("--name", default="x"),
    }
    return parser, actions


def test_only_scheduler_arguments_change(capsys):
    with scheduler_arguments():
        parser, actions = _parser()
        args = parser.parse_args(["--lr_scheduler_type", "one_cycle", "--scheduler", "sgdr"])
        assert args.lr_scheduler_type is SchedulerType("one_cycle") and args.scheduler == "sgdr"
        assert actions["listed"].choices == ["linear", "cosine", *OURS]
        assert actions["unrelated"].choices == ["linear", "cosine"]
        assert actions["plain"].choices is None and actions["typed"].choices is None
        with pytest.raises(SystemExit) as exit_info:
            parser.parse_args(["--warmup_shape", "sgdr"])  # not a scheduler argument: argparse's own error
        assert exit_info.value.code == 2
        assert "argument --warmup_shape: invalid choice: 'sgdr'" in capsys.readouterr().err


def test_a_mistyped_name_is_one_line_with_a_hint(capsys):
    with scheduler_arguments():
        parser, _ = _parser()
        with pytest.raises(SystemExit) as exit_info:
            parser.parse_args(["--scheduler", "sgrd"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "usage:" not in err
    assert err.startswith(
        "train.py: error: argument --scheduler: unknown lr_scheduler_type 'sgrd' (did you mean 'sgdr'?)"
    )


def test_argparse_is_restored_after_the_run(capsys):
    with scheduler_arguments():
        pass
    parser, actions = _parser()
    assert actions["listed"].choices == ["linear", "cosine"]
    with pytest.raises(SystemExit):
        parser.parse_args(["--scheduler", "sgdr"])
    assert "invalid choice: 'sgdr'" in capsys.readouterr().err


def _lr_after_one_step(scheduler) -> float:
    return scheduler.lr_lambdas[0](1)


def _optimizer():
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)


def test_run_options_apply_when_the_script_passes_none():
    with default_scheduler_options({"gamma": 0.5}, weakref.WeakKeyDictionary()):
        by_transformers = transformers.get_scheduler("warmup_exponential", _optimizer(), 0, 10)
        by_hf_lrsched = hf_lrsched.get_scheduler("warmup_exponential", _optimizer(), 0, 10)
        own = transformers.get_scheduler(
            "warmup_exponential", _optimizer(), 0, 10, scheduler_specific_kwargs={"gamma": 0.9}
        )
    assert _lr_after_one_step(by_transformers) == 0.5 and _lr_after_one_step(by_hf_lrsched) == 0.5
    assert _lr_after_one_step(own) == 0.9  # the script's own options win
    after = transformers.get_scheduler("warmup_exponential", _optimizer(), 0, 10)
    assert _lr_after_one_step(after) == pytest.approx(0.01 ** (1 / 10), rel=1e-12)  # default final_lr_ratio again


@pytest.mark.parametrize(("own_options", "expected"), [({}, 0.5), ({"gamma": 0.9}, 0.9)])
def test_trainer_script_options_win_over_run_options(tmp_path, own_options, expected):
    args = make_args(tmp_path, lr_scheduler_type="warmup_exponential", lr_scheduler_kwargs=own_options)
    with default_scheduler_options({"gamma": 0.5}, weakref.WeakKeyDictionary()):
        trainer = Trainer(model=tiny_model(), args=args)
        trainer.create_optimizer_and_scheduler(num_training_steps=10)
    assert _lr_after_one_step(trainer.lr_scheduler) == expected
