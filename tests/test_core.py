"""The core's shape: each option checked once per build, real factories a type checker reads, one source of
defaults, and the pickled paths of earlier versions still loading.

The spy follows every call into ``hf_lrsched`` with ``sys.setprofile`` and records which option each value
check of :mod:`hf_lrsched._checks.validation` was asked about, so a second check of the same option, from
any module, fails the count.
"""

from __future__ import annotations

import collections
import inspect
import pickle
import re
import subprocess
import sys
import textwrap

import pytest
import torch
from transformers import SchedulerType, Trainer, TrainingArguments

import hf_lrsched
from hf_lrsched import catalog, schedules

#: The value checks of the vocabulary: their first argument is the option's name.
VALIDATION = "hf_lrsched._checks.validation"
VALUE_CHECKS = (
    "check_int",
    "check_real",
    "check_bool",
    "check_choice",
    "check_length",
    "check_per_group",
    "resolve_length",
)


class CheckSpy:
    """Counts the value checks run inside a ``with`` block, per option name."""

    def __enter__(self):
        self.options: collections.Counter[str] = collections.Counter()
        sys.setprofile(self._on_event)
        return self

    def __exit__(self, *exc):
        sys.setprofile(None)

    def _on_event(self, frame, event, arg):
        code = frame.f_code
        if event == "call" and code.co_name == "check_lengths":  # the two lengths every schedule gets
            if frame.f_globals.get("__name__") == VALIDATION:
                self.options.update(["num_warmup_steps", "num_training_steps"])
        elif event == "call" and code.co_name in VALUE_CHECKS:
            here = frame.f_globals.get("__name__")
            caller = frame.f_back.f_globals.get("__name__") if frame.f_back is not None else None
            # one check of the vocabulary may use another (a length's int part): count the outer one
            if here == VALIDATION and caller != VALIDATION:
                self.options[frame.f_locals[code.co_varnames[0]]] += 1


def _trainer(tmp_path, name, options, warmup):
    args = TrainingArguments(
        str(tmp_path), lr_scheduler_type=name, lr_scheduler_kwargs=options, warmup_steps=warmup, report_to=[]
    )
    return Trainer(model=torch.nn.Linear(2, 2), args=args)


BUILD_CASES = [
    # name, options, warmup, the options checked (each exactly once)
    (
        "warmup_step",
        {"step_size": 0.3, "gamma": 0.5},
        2,
        {"num_training_steps", "num_warmup_steps", "step_size", "gamma", "warmup_type", "warmup_start_ratio"}
        | {"min_lr_ratio"},
    ),
    (
        "warmup_multistep",
        {"milestones": [0.5, 80], "gamma": 0.2},
        0,
        {"num_training_steps", "num_warmup_steps", "milestones[0]", "milestones[1]", "gamma", "warmup_type"}
        | {"warmup_start_ratio", "min_lr_ratio"},
    ),
    (
        "one_cycle",
        {"pct_start": 0.25, "max_lr": [0.1]},
        0,
        {"num_training_steps", "num_warmup_steps", "three_phase", "anneal_strategy", "div_factor"}
        | {"final_div_factor", "min_lr_ratio", "max_lr", "cycle_momentum", "base_momentum", "max_momentum"},
    ),
]


@pytest.mark.parametrize("name, options, warmup, checked", BUILD_CASES, ids=[c[0] for c in BUILD_CASES])
def test_create_scheduler_checks_each_option_once(tmp_path, name, options, warmup, checked):
    trainer = _trainer(tmp_path, name, options, warmup)
    optimizer = torch.optim.SGD(trainer.model.parameters(), lr=0.1, momentum=0.9)
    with CheckSpy() as spy:
        trainer.create_scheduler(100, optimizer)
    assert set(spy.options) == checked
    assert sum(spy.options.values()) == len(checked)  # not one option twice


@pytest.mark.parametrize("name, options, warmup, checked", BUILD_CASES, ids=[c[0] for c in BUILD_CASES])
def test_get_scheduler_by_name_checks_each_option_once(name, options, warmup, checked):
    optimizer = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1, momentum=0.9)
    with CheckSpy() as spy:
        hf_lrsched.get_scheduler(name, optimizer, warmup, 100, options)
    assert sum(spy.options.values()) == len(checked) and set(spy.options) == checked


def test_training_arguments_run_the_length_free_checks_once(tmp_path):
    with CheckSpy() as spy:
        TrainingArguments(
            str(tmp_path), lr_scheduler_type="warmup_step", lr_scheduler_kwargs={"step_size": 0.3}, report_to=[]
        )
    # the options of warmup_step, the defaults filled in: no length is known yet, so none is checked
    assert spy.options == {"step_size": 1, "gamma": 1, "warmup_type": 1, "warmup_start_ratio": 1, "min_lr_ratio": 1}


# --------------------------------------------------------------------------------------------------
# Real factories: a signature a type checker reads, and defaults that agree with the builders'.
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("row", catalog.SCHEDULES, ids=catalog.names())
def test_factory_defaults_are_the_builders(row):
    builder = inspect.signature(row.builder).parameters
    factory = inspect.signature(row.factory).parameters
    options = [name for name, p in builder.items() if p.kind is p.KEYWORD_ONLY]
    shared = [name for name in options if name in factory]
    assert shared == options  # every option of the builder is one of the factory
    for name in shared:
        if row.name == "one_cycle" and name == "pct_start":
            # the builder has no warmup to derive it from: its default is OneCycleLR's 0.3, the factory's None
            assert (builder[name].default, factory[name].default) == (0.3, None)
            continue
        assert factory[name].default == builder[name].default, name


def test_one_cycle_momentum_defaults_are_the_momentum_builders():
    momentum = inspect.signature(schedules.one_cycle_momentum_schedule).parameters
    factory = inspect.signature(hf_lrsched.get_one_cycle_schedule).parameters
    assert [factory[n].default for n in ("base_momentum", "max_momentum")] == [0.85, 0.95]
    assert [momentum[n].default for n in ("base_momentum", "max_momentum")] == [0.85, 0.95]


@pytest.mark.parametrize("row", catalog.SCHEDULES, ids=catalog.names())
def test_factories_are_written_in_the_package(row):
    # a def in hf_lrsched/factories.py, not a function generated at import
    assert row.factory.__module__ == "hf_lrsched.factories"
    assert inspect.getsourcefile(row.factory).endswith("factories.py")
    assert f"def {row.factory.__name__}(" in inspect.getsource(row.factory)


def test_mypy_reads_the_factories_options(tmp_path):
    pytest.importorskip("mypy", reason="mypy is not installed (pip install -e '.[dev]')")
    snippet = tmp_path / "user.py"
    snippet.write_text(
        textwrap.dedent(
            """
            import hf_lrsched
            reveal_type(hf_lrsched.get_exponential_schedule_with_warmup)
            reveal_type(hf_lrsched.get_step_schedule_with_warmup)
            reveal_type(hf_lrsched.get_one_cycle_schedule)
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--follow-imports=silent", "--ignore-missing-imports", str(snippet)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    revealed = [line for line in result.stdout.splitlines() if "Revealed type" in line]
    assert len(revealed) == 3, result.stdout + result.stderr
    exponential, step, one_cycle = revealed
    # e.g. "def (optimizer: Optimizer, ..., *, gamma: float | None =, ...) -> ScheduleLR"
    for option in ("gamma", "final_lr_ratio", "staircase_steps", "min_lr_ratio", "warmup_type", "warmup_start_ratio"):
        assert re.search(rf"\b{option}: [\w.| \[\],]+ =", exponential), (option, exponential)
    assert re.search(r"\bstep_size: .* =", step) and re.search(r"\bgamma: (builtins\.)?float =", step), step
    for option in ("max_lr", "pct_start", "anneal_strategy", "cycle_momentum", "base_momentum", "max_momentum"):
        assert re.search(rf"\b{option}: ", one_cycle), (option, one_cycle)
    assert all(line.endswith('-> hf_lrsched.schedule_lr.ScheduleLR"') for line in revealed), revealed


# --------------------------------------------------------------------------------------------------
# Pickled paths of earlier versions.
# --------------------------------------------------------------------------------------------------

# What a TrainingArguments pickled by hf-lrsched before the core moved holds for lr_scheduler_type=one_cycle
# (protocol 0, written out): a call of hf_lrsched._transformers_compat._scheduler_type("one_cycle").
OLD_MEMBER_PICKLE = b"chf_lrsched._transformers_compat\n_scheduler_type\n(Vone_cycle\ntR."


def test_a_member_pickled_under_the_old_path_still_loads():
    assert pickle.loads(OLD_MEMBER_PICKLE) is SchedulerType("one_cycle")


def test_a_member_pickles_under_a_path_that_loads_in_a_fresh_process():
    data = pickle.dumps(SchedulerType("sgdr"))
    code = "import pickle, sys; m = pickle.loads(sys.stdin.buffer.read()); print(m.value)"
    result = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True, timeout=300)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert result.stdout.decode().split() == ["sgdr"]


def test_the_top_level_holds_the_public_modules_and_private_layers():
    import pathlib

    package = pathlib.Path(hf_lrsched.__file__).parent
    top = sorted(p.stem for p in package.glob("*.py"))
    assert len(top) <= 16, top
    layers = sorted(
        p.name for p in package.iterdir() if p.is_dir() and p.name.startswith("_") and p.name != "__pycache__"
    )
    assert layers == ["_checks", "_cli", "_hf", "_tools"]
