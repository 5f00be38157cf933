"""Registration: ``import hf_lrsched`` makes the five names work wherever transformers takes a scheduler name.

Covers ``SchedulerType``, ``TrainingArguments`` (with early ``lr_scheduler_kwargs`` checks),
``HfArgumentParser`` command lines and ``--help``, ``transformers.get_scheduler``, serialising the
arguments (JSON, pickle, ``torch.save`` as ``training_args.bin``, also loaded in a fresh process),
``register_schedule`` / ``unregister_schedule``, and the compat module against the installed
transformers. ``Trainer`` itself is exercised in ``test_trainer.py``.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import os
import pickle
import shutil
import subprocess
import sys
import textwrap
import uuid

import pytest
import torch
import transformers
from packaging.version import Version
from transformers import HfArgumentParser, SchedulerType, TrainingArguments
from transformers.optimization import TYPE_TO_SCHEDULER_FUNCTION

import hf_lrsched
from hf_lrsched import ScheduleLR, catalog, schedules
from hf_lrsched._hf import compat
from hf_lrsched.catalog import BUILTIN_FACTORIES

OURS = tuple(catalog.names())
TOTAL, WARMUP = 40, 4

# One non-default option set per schedule, valid for TOTAL steps with WARMUP steps of warmup.
OPTIONS = {
    "warmup_exponential": {"gamma": 0.95, "staircase_steps": 3, "min_lr_ratio": 0.3},
    "warmup_step": {"step_size": 7, "gamma": 0.5, "warmup_type": "cosine"},
    "warmup_multistep": {"milestones": [12, 24, 32], "gamma": 0.2},
    "one_cycle": {"pct_start": 0.25, "three_phase": True, "base_momentum": 0.8},
    "sgdr": {"cycle_steps": 6, "cycle_mult": 2, "cycle_decay": 0.5, "min_lr_ratio": 0.05},
    "sequential": {
        "phases": [
            {"schedule": "constant", "length": 10},
            {"schedule": "warmup_step", "length": 0.25, "step_size": 4, "gamma": 0.5},
            {"schedule": "cosine"},
        ]
    },
    "wsd": {"decay_length": 0.25, "decay_type": "cosine", "min_lr_ratio": 0.1},
}
PURE = {
    "warmup_exponential": schedules.exponential_schedule,
    "warmup_step": schedules.step_schedule,
    "warmup_multistep": schedules.multistep_schedule,
    "sgdr": schedules.sgdr_schedule,
    "sequential": schedules.sequential_schedule,
    "wsd": schedules.wsd_schedule,
}


def pure_multiplier(name, options, warmup=WARMUP, total=TOTAL):
    """The pure ``step -> multiplier`` the factory registered under ``name`` must follow."""
    if name == "one_cycle":
        lr_options = {k: v for k, v in options.items() if k not in ("base_momentum", "max_momentum", "max_lr")}
        lr_options.setdefault("pct_start", warmup / total if warmup else 0.3)
        return schedules.one_cycle_schedule(total, **lr_options)
    return PURE[name](warmup, total, **options)


def make_args(tmp_path, **kwargs):
    return TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to=[], **kwargs)


def parse(argv):
    (args,) = HfArgumentParser(TrainingArguments).parse_args_into_dataclasses(args=argv)
    return args


def adamw(*lrs):
    groups = [{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": lr} for lr in lrs]
    return torch.optim.AdamW(groups)


def lr_trajectory(scheduler, steps):
    lrs = []
    for _ in range(steps):
        lrs.append([group["lr"] for group in scheduler.optimizer.param_groups])
        scheduler.optimizer.step()
        scheduler.step()
    return lrs


@pytest.fixture
def user_name():
    """A fresh schedule name, unregistered afterwards (the registry is process-global)."""
    name = f"user_{uuid.uuid4().hex[:10]}"
    yield name
    if name in compat.known_scheduler_names():
        hf_lrsched.unregister_schedule(name)


def get_halving_schedule(optimizer, num_warmup_steps, num_training_steps, *, every=5):
    """A user schedule: halve the LR every ``every`` steps."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, functools.partial(_halving, every=every))


def _halving(step, every):
    return 0.5 ** (step // every)


# ---------------------------------------------------------------------------------------------
# The five names, everywhere transformers accepts a scheduler name.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", OURS)
def test_scheduler_type_has_the_name(name):
    member = SchedulerType(name)
    assert member.value == name
    assert member in list(SchedulerType)
    assert getattr(SchedulerType, name.upper()) is member
    # transformers' own names are untouched
    assert SchedulerType("linear") is SchedulerType.LINEAR


@pytest.mark.parametrize("name", OURS)
def test_training_arguments_accept_name_and_kwargs(tmp_path, name):
    args = make_args(tmp_path, lr_scheduler_type=name, lr_scheduler_kwargs=OPTIONS[name])
    assert args.lr_scheduler_type is SchedulerType(name)
    assert args.lr_scheduler_kwargs == OPTIONS[name]


def test_hf_argument_parser_command_line(tmp_path):
    args = parse(
        [
            "--output_dir",
            str(tmp_path),
            "--lr_scheduler_type",
            "warmup_exponential",
            "--lr_scheduler_kwargs",
            '{"gamma": 0.999}',
        ]
    )
    assert args.lr_scheduler_type is SchedulerType("warmup_exponential")
    assert args.lr_scheduler_kwargs == {"gamma": 0.999}


@pytest.mark.parametrize("name", OURS)
def test_hf_argument_parser_takes_every_name_with_json_options(tmp_path, name):
    args = parse(
        ["--output_dir", str(tmp_path), "--lr_scheduler_type", name, "--lr_scheduler_kwargs", json.dumps(OPTIONS[name])]
    )
    assert args.lr_scheduler_type is SchedulerType(name)
    assert args.lr_scheduler_kwargs == OPTIONS[name]


def test_help_lists_the_names_among_the_choices():
    parser = HfArgumentParser(TrainingArguments)
    (action,) = [a for a in parser._actions if a.dest == "lr_scheduler_type"]
    assert set(OURS) <= set(action.choices)
    assert "linear" in action.choices
    help_text = parser.format_help()
    for name in OURS:
        assert name in help_text


def test_parser_still_rejects_unknown_names(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse(["--output_dir", str(tmp_path), "--lr_scheduler_type", "one_cycl"])
    assert exit_info.value.code == 2
    assert "one_cycl" in capsys.readouterr().err


@pytest.mark.parametrize("name", OURS)
def test_transformers_get_scheduler_builds_our_schedule(name):
    optimizer = adamw(1e-3, 2.5e-4)
    scheduler = transformers.get_scheduler(
        name, optimizer, num_warmup_steps=WARMUP, num_training_steps=TOTAL, scheduler_specific_kwargs=OPTIONS[name]
    )
    assert isinstance(scheduler, ScheduleLR)
    f = pure_multiplier(name, OPTIONS[name])
    expected = [[1e-3 * f(k), 2.5e-4 * f(k)] for k in range(TOTAL)]
    assert lr_trajectory(scheduler, TOTAL) == expected


def test_transformers_get_scheduler_names_a_bad_option():
    with pytest.raises(ValueError, match=r"lr_scheduler_kwargs.*'gama'.*did you mean 'gamma'"):
        transformers.get_scheduler(
            "warmup_step", adamw(0.1), num_warmup_steps=0, num_training_steps=10, scheduler_specific_kwargs={"gama": 1}
        )


def test_every_name_trains_without_options(tmp_path):
    # `--lr_scheduler_type NAME` alone must give a working scheduler: every option has a default.
    for name in OURS:
        scheduler = transformers.get_scheduler(name, adamw(1e-3), num_warmup_steps=WARMUP, num_training_steps=TOTAL)
        lrs = [lr for (lr,) in lr_trajectory(scheduler, TOTAL)]
        assert all(0.0 <= lr <= 1e-3 + 1e-18 for lr in lrs), name
        assert max(lrs) > 0.9e-3 and lrs[-1] < lrs[lrs.index(max(lrs))], name


# ---------------------------------------------------------------------------------------------
# Serialising the arguments: JSON, pickle, torch.save (training_args.bin), deepcopy.
# ---------------------------------------------------------------------------------------------


def test_to_json_string_keeps_name_and_options(tmp_path):
    args = make_args(tmp_path, lr_scheduler_type="one_cycle", lr_scheduler_kwargs=OPTIONS["one_cycle"])
    data = json.loads(args.to_json_string())
    assert data["lr_scheduler_type"] == "one_cycle"
    assert data["lr_scheduler_kwargs"] == OPTIONS["one_cycle"]


@pytest.mark.parametrize("name", OURS)
def test_pickle_torch_save_and_deepcopy_keep_the_member(tmp_path, name):
    args = make_args(tmp_path, lr_scheduler_type=name, lr_scheduler_kwargs=OPTIONS[name])
    assert pickle.loads(pickle.dumps(args)).lr_scheduler_type is SchedulerType(name)
    path = tmp_path / "training_args.bin"
    torch.save(args, path)  # what Trainer does
    loaded = torch.load(path, weights_only=False)
    assert loaded.lr_scheduler_type is SchedulerType(name)
    assert loaded.lr_scheduler_kwargs == OPTIONS[name]
    clone = copy.deepcopy(args)
    assert clone.lr_scheduler_type is SchedulerType(name)
    assert clone.to_json_string() == args.to_json_string()


def test_transformers_members_still_pickle_by_value():
    data = pickle.dumps(SchedulerType.COSINE)
    assert b"hf_lrsched" not in data
    assert pickle.loads(data) is SchedulerType.COSINE


def test_pickled_arguments_load_in_a_fresh_process(tmp_path):
    args = make_args(tmp_path, lr_scheduler_type="one_cycle", lr_scheduler_kwargs=OPTIONS["one_cycle"])
    torch.save(args, tmp_path / "training_args.bin")
    (tmp_path / "args.pkl").write_bytes(pickle.dumps(args))
    assert b"hf_lrsched" in pickle.dumps(SchedulerType("one_cycle"))  # pickled by a reference that imports us
    code = textwrap.dedent(
        """
        import json, pickle, sys, torch
        from transformers import SchedulerType
        assert "hf_lrsched" not in sys.modules
        loaded = torch.load(sys.argv[1] + "/training_args.bin", weights_only=False)
        assert "hf_lrsched" in sys.modules, "unpickling did not import hf_lrsched"
        with open(sys.argv[1] + "/args.pkl", "rb") as file:
            again = pickle.load(file)
        assert loaded.lr_scheduler_type is SchedulerType("one_cycle") is again.lr_scheduler_type
        print(json.dumps([loaded.lr_scheduler_type.value, loaded.lr_scheduler_kwargs, SchedulerType("sgdr").value]))
        """
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.splitlines()[-1]) == ["one_cycle", OPTIONS["one_cycle"], "sgdr"]


USER_MODULE = """
import torch
import hf_lrsched


def get_my_flat(optimizer, num_warmup_steps, num_training_steps, level=1.0):
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: level)


hf_lrsched.register_schedule("my_flat", get_my_flat)
"""


def _fresh_python(code: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(tmp_path)}
    command = [sys.executable, "-c", textwrap.dedent(code), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)


def test_user_registered_name_loads_in_a_fresh_process_by_importing_its_module(tmp_path):
    (tmp_path / "my_schedules_mod.py").write_text(USER_MODULE)
    saved = _fresh_python(
        """
        import sys, torch
        import my_schedules_mod
        from transformers import TrainingArguments
        args = TrainingArguments(sys.argv[1], lr_scheduler_type="my_flat", lr_scheduler_kwargs={"level": 0.5},
                                 report_to=[], use_cpu=True)
        torch.save(args, sys.argv[1] + "/training_args.bin")
        """,
        tmp_path,
        str(tmp_path),
    )
    assert saved.returncode == 0, saved.stderr[-3000:]
    load = """
        import json, sys, torch
        assert "my_schedules_mod" not in sys.modules
        args = torch.load(sys.argv[1] + "/training_args.bin", weights_only=False)
        print(json.dumps([args.lr_scheduler_type.value, args.lr_scheduler_kwargs, "my_schedules_mod" in sys.modules]))
        """
    loaded = _fresh_python(load, tmp_path, str(tmp_path))
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert json.loads(loaded.stdout.splitlines()[-1]) == ["my_flat", {"level": 0.5}, True]

    # Without the module, the error names it instead of "'my_flat' is not a valid SchedulerType".
    (tmp_path / "my_schedules_mod.py").unlink()
    shutil.rmtree(tmp_path / "__pycache__", ignore_errors=True)
    failed = _fresh_python(load, tmp_path, str(tmp_path))
    assert failed.returncode != 0
    last = failed.stderr.strip().splitlines()[-1]
    assert "lr_scheduler_type 'my_flat' was registered by module 'my_schedules_mod', which cannot be imported" in last


def test_name_registered_by_a_script_says_so_in_a_fresh_process(tmp_path):
    script = tmp_path / "train_script.py"
    script.write_text(
        USER_MODULE
        + "from transformers import TrainingArguments\n"
        + "torch.save(TrainingArguments('out', lr_scheduler_type='my_flat', report_to=[]), 'training_args.bin')\n"
    )
    saved = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert saved.returncode == 0, saved.stderr[-3000:]
    failed = _fresh_python("import torch; torch.load('training_args.bin', weights_only=False)", tmp_path)
    assert failed.returncode != 0
    assert "registered by the script that was run (__main__)" in failed.stderr.strip().splitlines()[-1]


# ---------------------------------------------------------------------------------------------
# Early validation of lr_scheduler_kwargs (when TrainingArguments is built / the CLI is parsed).
# ---------------------------------------------------------------------------------------------

BAD_KWARGS = [
    ('{"gamma": 0.9', r"lr_scheduler_kwargs.*not valid JSON"),
    ('{"gamma": 0.9,}', r"lr_scheduler_kwargs.*not valid JSON"),
    ('{"gama": 0.9}', r"lr_scheduler_kwargs.*unknown option 'gama'.*did you mean 'gamma'"),
    ('{"step_sise": 3}', r"lr_scheduler_kwargs.*'step_sise'.*accepted options: .*step_size"),
    ("[0.9]", r"lr_scheduler_kwargs must be a JSON object"),
    ('"gamma"', r"lr_scheduler_kwargs must be a JSON object"),
    ("gamma=0.9", r"lr_scheduler_kwargs must be a JSON object"),
]


@pytest.mark.parametrize(("text", "message"), BAD_KWARGS)
def test_bad_kwargs_fail_when_arguments_are_built(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        make_args(tmp_path, lr_scheduler_type="warmup_step", lr_scheduler_kwargs=text)


@pytest.mark.parametrize(("text", "message"), BAD_KWARGS[:5])
def test_bad_kwargs_fail_when_command_line_is_parsed(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        parse(["--output_dir", str(tmp_path), "--lr_scheduler_type", "warmup_step", "--lr_scheduler_kwargs", text])


# Values that are wrong whatever the length of training: caught when the arguments are built, not at train().
BAD_VALUES = [
    ("warmup_multistep", {"milestones": [0.75, 0.5]}, r"milestones must be strictly increasing"),
    ("warmup_multistep", {"milestones": [0.5, 0.5]}, r"milestones must be strictly increasing"),
    ("warmup_exponential", {"gamma": 1.5}, r"gamma must be in \(0.0, 1.0\], got 1.5"),
    ("warmup_exponential", {"gamma": 0.9, "final_lr_ratio": 0.1}, r"give gamma or final_lr_ratio, not both"),
    ("warmup_step", {"step_size": 0}, r"step_size must be >= 1, got 0"),
    ("sgdr", {"cycle_mult": 0}, r"cycle_mult must be >= 1, got 0"),
    ("one_cycle", {"pct_start": 1.2}, r"pct_start must be a float in \(0, 1\), got 1.2"),
    ("one_cycle", {"max_lr": [1e-3, -1.0]}, r"max_lr\[1\] must be > 0\.0, got -1\.0"),
    ("warmup_step", {"warmup_type": "cubic"}, r"warmup_type must be one of"),
]


@pytest.mark.parametrize(("name", "options", "message"), BAD_VALUES)
def test_bad_values_fail_when_arguments_are_built(tmp_path, name, options, message):
    with pytest.raises(ValueError, match=message):
        make_args(tmp_path, lr_scheduler_type=name, lr_scheduler_kwargs=options)
    with pytest.raises(ValueError, match=message):
        parse(
            ["--output_dir", str(tmp_path), "--lr_scheduler_type", name, "--lr_scheduler_kwargs", json.dumps(options)]
        )


def test_values_that_depend_on_the_length_of_training_wait_for_it(tmp_path):
    # Absolute milestones may or may not fit the run: only num_training_steps tells, so parsing accepts them.
    options = {"milestones": [500, 900], "gamma": 0.5}
    args = make_args(tmp_path, lr_scheduler_type="warmup_multistep", lr_scheduler_kwargs=options)
    assert args.lr_scheduler_kwargs == options


def test_a_step_and_a_fraction_are_ordered_only_by_the_length_of_training(tmp_path):
    # [0.5, 300]: the fraction is step 200 of a 400-step run (before 300: valid), step 500 of a 1000-step
    # run (after it: invalid). Parsing cannot know which, so it accepts; the build with the length decides.
    options = {"milestones": [0.5, 300], "gamma": 0.1}
    make_args(tmp_path, lr_scheduler_type="warmup_multistep", lr_scheduler_kwargs=options)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = hf_lrsched.get_scheduler("warmup_multistep", opt, 0, 400, options)
    assert [round(scheduler.lr_lambdas[0](s), 12) for s in (199, 200, 299, 300)] == [1.0, 0.1, 0.1, 0.01]
    with pytest.raises(ValueError, match=r"milestones\[1\]=300 resolves to step 300, not after 500"):
        hf_lrsched.get_scheduler("warmup_multistep", opt, 0, 1000, options)


def test_three_phase_pct_start_that_fits_a_short_run_waits_for_the_length(tmp_path):
    # three_phase needs 2 * pct_start * T - 2 < T - 1, i.e. pct_start < 0.5 + 1 / (2T): 0.52 fits T = 10
    # (phases end at 4.2, 8.4, 9) but not T = 100. A parse-time build with an invented T of 10**12 rejected it.
    options = {"pct_start": 0.52, "three_phase": True}
    make_args(tmp_path, lr_scheduler_type="one_cycle", lr_scheduler_kwargs=options)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0, momentum=0.9)
    scheduler = hf_lrsched.get_scheduler("one_cycle", opt, 0, 10, options)
    ours = [scheduler.lr_lambdas[0](s) for s in range(10)]
    reference_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0, momentum=0.9)
    reference = torch.optim.lr_scheduler.OneCycleLR(reference_opt, max_lr=1.0, total_steps=10, **options)
    torch_lrs = [reference_opt.param_groups[0]["lr"]]
    for _ in range(9):
        reference_opt.step()
        reference.step()
        torch_lrs.append(reference_opt.param_groups[0]["lr"])
    assert ours == pytest.approx(torch_lrs, rel=1e-12)
    with pytest.raises(ValueError, match=r"pct_start=0\.52 is too large for three_phase=True"):
        hf_lrsched.get_scheduler("one_cycle", opt, 0, 100, options)


def test_check_schedule_options_checks_values_that_need_no_length():
    # What recipes can call before the length of training is known: names and values, nothing built.
    hf_lrsched.check_schedule_options("warmup_multistep", {"milestones": [0.5, 300]})
    with pytest.raises(ValueError, match=r"^gamma must be in \(0\.0, 1\.0\], got 2\.0$"):
        hf_lrsched.check_schedule_options("warmup_step", {"gamma": 2.0})
    with pytest.raises(ValueError, match=r"^max_momentum\[1\] must be in \[0\.0, 1\.0\), got 1\.0$"):
        hf_lrsched.check_schedule_options("one_cycle", {"max_momentum": [0.9, 1.0]})
    with pytest.raises(ValueError, match=r"^warmup_type must be one of \['linear', 'cosine', 'exponential'\]"):
        hf_lrsched.check_schedule_options("sgdr", {"warmup_type": "cubic"})


def test_a_users_options_are_checked_by_name_early_and_never_built(user_name):
    built = []

    def get_blocks(optimizer, num_warmup_steps=0, num_training_steps=None, size=4):
        built.append(size)
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)

    hf_lrsched.register_schedule(user_name, get_blocks)
    hf_lrsched.check_schedule_options(user_name, {"size": 0})  # its values are its own business
    with pytest.raises(ValueError, match=r"unknown option 'sise' for schedule .* \(did you mean 'size'\?\)"):
        hf_lrsched.check_schedule_options(user_name, {"sise": 2})
    assert built == []


@pytest.mark.parametrize("name", OURS)
def test_unknown_option_as_dict_fails_for_every_name(tmp_path, name):
    with pytest.raises(ValueError, match=rf"lr_scheduler_kwargs: unknown option 'bogus' for schedule '{name}'"):
        make_args(tmp_path, lr_scheduler_type=name, lr_scheduler_kwargs={**OPTIONS[name], "bogus": 1})


def test_unknown_name_fails_with_a_hint_and_the_known_names(tmp_path):
    with pytest.raises(ValueError, match=r"'warmup_stepp' \(did you mean 'warmup_step'\?\); known schedules: .*sgdr"):
        make_args(tmp_path, lr_scheduler_type="warmup_stepp")


def test_transformers_names_keep_their_behaviour(tmp_path):
    args = make_args(tmp_path, lr_scheduler_type="cosine_with_restarts", lr_scheduler_kwargs={"num_cycles": 2})
    assert args.lr_scheduler_kwargs == {"num_cycles": 2}
    parsed = parse(
        [
            "--output_dir",
            str(tmp_path),
            "--lr_scheduler_type",
            "cosine_with_restarts",
            "--lr_scheduler_kwargs",
            '{"num_cycles": 2}',
        ]
    )
    assert parsed.lr_scheduler_kwargs == {"num_cycles": 2}
    # The scheduler is transformers' own, with the option applied.
    built = transformers.get_scheduler(
        "cosine_with_restarts",
        adamw(1.0),
        num_warmup_steps=2,
        num_training_steps=20,
        scheduler_specific_kwargs=parsed.lr_scheduler_kwargs,
    )
    reference = transformers.get_cosine_with_hard_restarts_schedule_with_warmup(adamw(1.0), 2, 20, num_cycles=2)
    assert lr_trajectory(built, 20) == lr_trajectory(reference, 20)
    # We do not pre-check options of transformers' names: transformers decides, as without us.
    assert make_args(tmp_path, lr_scheduler_type="cosine", lr_scheduler_kwargs={"whatever": 1}).lr_scheduler_kwargs


# ---------------------------------------------------------------------------------------------
# register_schedule / unregister_schedule
# ---------------------------------------------------------------------------------------------


def test_user_schedule_works_by_name_everywhere(tmp_path, user_name):
    hf_lrsched.register_schedule(user_name, get_halving_schedule)
    args = make_args(tmp_path, lr_scheduler_type=user_name, lr_scheduler_kwargs={"every": 3})
    assert args.lr_scheduler_type.value == user_name
    parsed = parse(
        ["--output_dir", str(tmp_path), "--lr_scheduler_type", user_name, "--lr_scheduler_kwargs", '{"every": 3}']
    )
    assert parsed.lr_scheduler_type is args.lr_scheduler_type
    scheduler = transformers.get_scheduler(
        user_name,
        adamw(0.8),
        num_warmup_steps=0,
        num_training_steps=10,
        scheduler_specific_kwargs=parsed.lr_scheduler_kwargs,
    )
    assert [lr for (lr,) in lr_trajectory(scheduler, 10)] == [0.8 * 0.5 ** (k // 3) for k in range(10)]
    assert hf_lrsched.available_schedules()[user_name] is get_halving_schedule
    assert hf_lrsched.schedule_options(user_name) == {"every": 5}
    with pytest.raises(ValueError, match=rf"unknown option 'evry' for schedule '{user_name}' \(did you mean 'every'"):
        make_args(tmp_path, lr_scheduler_type=user_name, lr_scheduler_kwargs={"evry": 3})


def test_parser_built_before_registration_does_not_know_the_name(tmp_path, user_name, capsys):
    parser = HfArgumentParser(TrainingArguments)  # documented: register before building the parser
    hf_lrsched.register_schedule(user_name, get_halving_schedule)
    with pytest.raises(SystemExit):
        parser.parse_args_into_dataclasses(args=["--output_dir", str(tmp_path), "--lr_scheduler_type", user_name])
    assert "invalid choice" in capsys.readouterr().err


def test_registering_twice_is_harmless(tmp_path, user_name):
    hf_lrsched.register_schedule(user_name, get_halving_schedule)
    hf_lrsched.register_schedule(user_name, get_halving_schedule)
    assert [m.value for m in SchedulerType].count(user_name) == 1

    # Re-running a notebook cell defines a new function object: it replaces the old one.
    def get_halving_schedule_again(optimizer, num_warmup_steps, num_training_steps, *, every=2):
        return get_halving_schedule(optimizer, num_warmup_steps, num_training_steps, every=every)

    hf_lrsched.register_schedule(user_name, get_halving_schedule_again)
    scheduler = transformers.get_scheduler(user_name, adamw(1.0), num_warmup_steps=0, num_training_steps=6)
    assert [lr for (lr,) in lr_trajectory(scheduler, 6)] == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    assert make_args(tmp_path, lr_scheduler_type=user_name).lr_scheduler_type.value == user_name


@pytest.mark.parametrize("name", [*OURS, "linear", "cosine", "constant"])
def test_replacing_a_builtin_needs_override(name):
    with pytest.raises(ValueError, match=rf"'{name}' is a built-in schedule; pass override=True"):
        hf_lrsched.register_schedule(name, get_halving_schedule)
    # and nothing changed
    assert hf_lrsched.available_schedules()[name] is not get_halving_schedule


@pytest.mark.parametrize("name", OURS)
def test_registering_a_builtin_with_its_own_factory_is_harmless(name):
    hf_lrsched.register_schedule(name, BUILTIN_FACTORIES[name])
    assert hf_lrsched.available_schedules()[name] is BUILTIN_FACTORIES[name]


@pytest.mark.parametrize("name", ["linear", "sgdr"])
def test_override_replaces_a_builtin_and_unregister_restores_it(tmp_path, name):
    original = TYPE_TO_SCHEDULER_FUNCTION[SchedulerType(name)]
    reference = transformers.get_scheduler(name, adamw(1.0), num_warmup_steps=2, num_training_steps=12)
    expected_original = lr_trajectory(reference, 12)
    try:
        hf_lrsched.register_schedule(name, get_halving_schedule, override=True)
        scheduler = transformers.get_scheduler(
            name, adamw(1.0), num_warmup_steps=2, num_training_steps=12, scheduler_specific_kwargs={"every": 4}
        )
        assert [lr for (lr,) in lr_trajectory(scheduler, 12)] == [0.5 ** (k // 4) for k in range(12)]
        assert make_args(tmp_path, lr_scheduler_type=name, lr_scheduler_kwargs={"every": 4}).lr_scheduler_kwargs
    finally:
        hf_lrsched.unregister_schedule(name)
    if name == "linear":
        assert TYPE_TO_SCHEDULER_FUNCTION[SchedulerType.LINEAR] is original
    assert hf_lrsched.available_schedules()[name] is not get_halving_schedule
    restored = transformers.get_scheduler(name, adamw(1.0), num_warmup_steps=2, num_training_steps=12)
    assert lr_trajectory(restored, 12) == expected_original


def test_unregister_removes_a_user_name(tmp_path, user_name):
    hf_lrsched.register_schedule(user_name, get_halving_schedule)
    hf_lrsched.unregister_schedule(user_name)
    assert user_name not in hf_lrsched.available_schedules()
    with pytest.raises(ValueError):
        SchedulerType(user_name)
    with pytest.raises(ValueError, match="unknown lr_scheduler_type"):
        make_args(tmp_path, lr_scheduler_type=user_name)
    with pytest.raises(ValueError, match="unknown lr_scheduler_type"):
        hf_lrsched.unregister_schedule(user_name)
    hf_lrsched.register_schedule(user_name, get_halving_schedule)  # and it can come back
    assert make_args(tmp_path, lr_scheduler_type=user_name).lr_scheduler_type.value == user_name


@pytest.mark.parametrize("name", ["", "Bad", "1abc", "with-dash", "sp ace", "trailing\n", "dot.ted", None, 3])
def test_invalid_names_are_rejected(name):
    with pytest.raises(ValueError, match="schedule name must be a lower-case identifier"):
        hf_lrsched.register_schedule(name, get_halving_schedule)
    assert name not in compat.known_scheduler_names()


def _no_arguments():
    return None


def _optimizer_only(optimizer):
    return None


def _keyword_only(*, num_warmup_steps, num_training_steps):
    return None


@pytest.mark.parametrize("factory", [None, 3, "linear", _no_arguments, _optimizer_only, _keyword_only])
def test_invalid_factories_are_rejected(user_name, factory):
    with pytest.raises(ValueError, match=f"factory for '{user_name}' must"):
        hf_lrsched.register_schedule(user_name, factory)
    assert user_name not in compat.known_scheduler_names()


def test_factory_taking_kwargs_is_accepted_and_gets_the_options(user_name):
    seen = {}

    def get_recorded(optimizer, **kwargs):
        seen.update(kwargs)
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)

    hf_lrsched.register_schedule(user_name, get_recorded)
    transformers.get_scheduler(user_name, adamw(0.1), 3, 30, scheduler_specific_kwargs={"anything": 1})
    assert seen == {"num_warmup_steps": 3, "num_training_steps": 30, "anything": 1}
    assert hf_lrsched.schedule_options(user_name) is None  # options cannot be checked up front


# ---------------------------------------------------------------------------------------------
# The compat module against the installed transformers.
# ---------------------------------------------------------------------------------------------


def test_compat_with_installed_transformers():
    assert Version(transformers.__version__) >= Version("4.46")
    own = compat.transformers_scheduler_names()
    assert {"linear", "cosine", "cosine_with_restarts", "polynomial", "constant"} <= set(own)
    assert not set(OURS) & set(own)
    for name in OURS:
        function = TYPE_TO_SCHEDULER_FUNCTION[SchedulerType(name)]
        assert function.factory is BUILTIN_FACTORIES[name]
        assert compat.get_scheduler_function(name) is function
    # transformers' own factories are untouched
    assert TYPE_TO_SCHEDULER_FUNCTION[SchedulerType.LINEAR] is transformers.get_linear_schedule_with_warmup
    # __post_init__ is wrapped once, around transformers' own
    post_init = TrainingArguments.__post_init__
    assert getattr(post_init._hf_lrsched_original, "_hf_lrsched_check", None) is None
    compat.install_training_args_check(post_init._hf_lrsched_check)  # re-installing does not nest
    assert TrainingArguments.__post_init__._hf_lrsched_original is post_init._hf_lrsched_original
    # the TrainingArguments fields these tests (and test_trainer) rely on exist in this version
    names = {f.name for f in dataclasses.fields(TrainingArguments)}
    assert {"use_cpu", "eval_strategy", "save_strategy", "report_to", "warmup_steps", "lr_scheduler_kwargs"} <= names
