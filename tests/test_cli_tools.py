"""``hf-lrsched list`` and ``hf-lrsched plot``: content, files written, --help, and one-line errors."""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import os
import shutil
import subprocess
import sys

import pytest
import torch

import hf_lrsched
from hf_lrsched import catalog, schedules
from hf_lrsched._hf import compat
from hf_lrsched.catalog import BUILTIN_FACTORIES
from hf_lrsched.cli import build_parser, main

PNG = b"\x89PNG\r\n\x1a\n"


def _resolve(qualified: str):
    module, _, name = qualified.rpartition(".")
    while module:
        try:
            obj = importlib.import_module(module)
            break
        except ImportError:
            module, _, outer = module.rpartition(".")
            name = f"{outer}.{name}"
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _list_json(capsys, *extra) -> list[dict]:
    assert main(["list", "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_list_covers_every_registered_name_with_its_factory_and_options(capsys):
    rows = _list_json(capsys)
    names = [row["name"] for row in rows]
    assert names == compat.known_scheduler_names()
    assert set(BUILTIN_FACTORIES) <= set(names) and {"linear", "cosine", "warmup_stable_decay"} <= set(names)
    for row in rows:
        factory = _resolve(row["factory"])
        registered = compat.get_scheduler_function(row["name"])
        assert factory is getattr(registered, "factory", registered)
        assert row["options"] == hf_lrsched.schedule_options(row["name"])
        assert row["shape"] and "\n" not in row["shape"]
    by_name = {row["name"]: row for row in rows}
    assert by_name["one_cycle"]["source"] == "hf-lrsched"
    assert by_name["one_cycle"]["factory"] == "hf_lrsched.factories.get_one_cycle_schedule"
    assert by_name["one_cycle"]["options"]["div_factor"] == 25.0
    assert by_name["cosine"]["source"] == "transformers"
    assert by_name["warmup_step"]["shape"].startswith("Warmup, then multiply the LR by gamma every step_size steps")
    assert by_name["warmup_step"]["required"] == []
    assert by_name["warmup_stable_decay"]["required"] == ["num_decay_steps"]
    assert "2. stable: constant learning rate." in by_name["warmup_stable_decay"]["shape"]  # enumeration kept whole


def get_halving_for_cli_test(optimizer, num_warmup_steps, num_training_steps, every: int = 10):
    """Halve the LR every ``every`` steps."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5 ** (step // every))


def test_list_shows_a_user_registered_schedule(capsys):
    hf_lrsched.register_schedule("halving_cli_test", get_halving_for_cli_test)
    try:
        rows = {row["name"]: row for row in _list_json(capsys)}
        row = rows["halving_cli_test"]
        assert row["source"] == "registered"
        assert row["factory"].endswith("test_cli_tools.get_halving_for_cli_test")
        assert row["options"] == {"every": 10}
        assert row["shape"] == "Halve the LR every every steps."
        assert main(["list"]) == 0
        text = capsys.readouterr().out
        (head,) = [line for line in text.splitlines() if line.startswith("halving_cli_test ")]
        assert "[registered]" in head and head.endswith("test_cli_tools.get_halving_for_cli_test")
    finally:
        unregister = getattr(hf_lrsched, "unregister_schedule", None)
        if unregister is not None:
            unregister("halving_cli_test")


def test_list_text_has_a_block_per_name(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    heads = [line.split()[0] for line in lines if line and not line.startswith(" ")]
    assert heads == compat.known_scheduler_names()
    assert any(line.strip().startswith("options: gamma=None, final_lr_ratio=None") for line in lines)
    assert any(line.strip().startswith("options: num_decay_steps=<required>, num_stable_steps=None") for line in lines)


def test_plot_writes_png_and_csv_of_the_exact_curves(tmp_path, capsys):
    png, table = tmp_path / "curves.png", tmp_path / "curves.csv"
    argv = [
        "plot", "warmup_exponential", "one_cycle", "linear",
        "--num_training_steps", "300", "--num_warmup_steps", "30", "--lr", "0.002",
        "--kwargs", 'warmup_exponential={"gamma": 0.995, "staircase_steps": 20}',
        "--kwargs", 'one_cycle={"pct_start": 0.3}',
        "--log_y", "--output", str(png), "--csv", str(table),
    ]  # fmt: skip
    assert main(argv) == 0
    assert str(png) in capsys.readouterr().out
    assert png.read_bytes()[:8] == PNG
    with open(table, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 300
    exponential = schedules.exponential_schedule(30, 300, gamma=0.995, staircase_steps=20)
    one_cycle = schedules.one_cycle_schedule(300, pct_start=0.3)
    beta1 = schedules.one_cycle_momentum_schedule(300, pct_start=0.3)
    for step, row in enumerate(rows):
        assert float(row["warmup_exponential:lr"]) == 0.002 * exponential(step)
        assert float(row["one_cycle:lr"]) == 0.002 * one_cycle(step)
        assert float(row["one_cycle:beta1"]) == beta1(step)


def test_every_option_is_documented_in_help(capsys):
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert {"run", "list", "plot"} <= set(commands.choices)
    for name in ("list", "plot"):
        sub = commands.choices[name]
        with pytest.raises(SystemExit) as exit_info:
            main([name, "--help"])
        assert exit_info.value.code == 0
        text = capsys.readouterr().out
        for action in sub._actions:
            assert action.help and action.help != argparse.SUPPRESS, action
            for option in action.option_strings:
                assert option in text
            if not action.option_strings:
                assert action.metavar in text


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["plot", "warmup_stepp"], "unknown lr_scheduler_type 'warmup_stepp' (did you mean 'warmup_step'?); known"),
        (["plot", "sgdr", "--kwargs", "sgdr={gamma: 1}"], "--kwargs sgdr is not valid JSON"),
        (["plot", "sgdr", "--kwargs", '{"gamma": 1}'], "--kwargs must look like NAME="),
        (["plot", "sgdr", "--kwargs", 'cosine={"num_cycles": 1}'], "--kwargs cosine=...: 'cosine' is not among"),
        (["plot", "sgdr", "--kwargs", 'sgdr={"gama": 1}'], "unknown option 'gama' for schedule 'sgdr'"),
        (["plot", "sgdr", "--kwargs", 'sgdr={"cycle_decay": 0}'], "cycle_decay must be in (0.0, 1.0], got 0.0"),
        (["plot", "sgdr", "sgdr"], "NAME given twice"),
        (["plot", "reduce_lr_on_plateau"], "adapts to a metric"),
        (["plot", "warmup_stable_decay"], "'warmup_stable_decay' needs num_decay_steps in lr_scheduler_kwargs"),
        (["plot", "sgdr", "--num_warmup_steps", "1.5"], "num_warmup_steps must be an int number of steps or a float"),
        (["plot", "sgdr", "--lr", "-1"], "lr must be > 0, got -1.0"),
        # transformers' own names get the shared checks, and their factories' failures are one line
        (["plot", "cosine", "--num_warmup_steps", "-1"], "num_warmup_steps must be >= 0, got -1"),
        (["plot", "linear", "--num_warmup_steps", "100"], "num_warmup_steps=100 must be smaller than"),
        (["plot", "polynomial", "--kwargs", 'polynomial={"power": -2}'], "'polynomial' with lr_scheduler_kwargs"),
        (["plot", "one_cycle", "--kwargs", 'one_cycle={"div_factor": 0.5}'], "div_factor must be >= 1.0"),
        (["plot", "sgdr", "--kwargs", 'sgdr={"cycle_mult": 1' + "0" * 400 + "}"], "cycle_mult must be <= 9007"),
    ],
)
def test_plot_bad_input_is_one_line_naming_the_option(tmp_path, capsys, argv, fragment):
    output = ["--output", str(tmp_path / "x.png"), "--num_training_steps", "100"]
    assert main(argv + output) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith("hf-lrsched plot: error: ") and fragment in line
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("name", [*catalog.names(), "cosine"])
def test_plot_huge_num_training_steps_is_one_line(tmp_path, capsys, name):
    argv = ["plot", name, "--num_training_steps", "1" + "0" * 400, "--output", str(tmp_path / "x.png")]
    assert main(argv) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("hf-lrsched plot: error: num_training_steps must be <= 9007199254740992, got 100000...")


def test_plot_output_errors(tmp_path, capsys):
    cases = [
        (tmp_path / "missing" / "x.png", "--output"),
        (tmp_path, "--output"),
        (tmp_path / "x.docx", "unknown format 'docx'"),
    ]
    if os.path.isdir("/proc"):  # not writable, even for root
        cases.append(("/proc/hf_lrsched_test.png", "could not be written"))
    for output, fragment in cases:
        assert main(["plot", "linear", "--num_training_steps", "10", "--output", str(output)]) == 2
        (line,) = capsys.readouterr().err.splitlines()
        assert "--output" in line and fragment in line
    assert main(["plot", "linear", "--num_training_steps", "1", "--output", str(tmp_path / "a.png")]) == 2
    assert "num_training_steps must be >= 2, got 1" in capsys.readouterr().err
    assert main(["list", "--import", "no_such_module_hf_lrsched"]) == 2
    assert "--import 'no_such_module_hf_lrsched' failed" in capsys.readouterr().err


def _console(*args, cwd):
    exe = shutil.which("hf-lrsched")
    command = [exe] if exe else [sys.executable, "-m", "hf_lrsched"]
    return subprocess.run([*command, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_console_script_imports_user_schedules_and_fails_cleanly(tmp_path):
    (tmp_path / "my_schedules.py").write_text(
        "import torch, hf_lrsched\n"
        "def get_flat_then_zero(optimizer, num_warmup_steps, num_training_steps, cut=0.5):\n"
        '    """Flat, then zero after a fraction cut of training."""\n'
        "    edge = int(cut * num_training_steps)\n"
        "    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0 if s < edge else 0.0)\n"
        'hf_lrsched.register_schedule("flat_then_zero", get_flat_then_zero)\n'
    )
    listed = _console("list", "--json", "--import", "my_schedules", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    row = {r["name"]: r for r in json.loads(listed.stdout)}["flat_then_zero"]
    assert row["factory"] == "my_schedules.get_flat_then_zero" and row["options"] == {"cut": 0.5}

    plotted = _console(
        "plot", "flat_then_zero", "sgdr", "--import", "my_schedules", "--num_training_steps", "40",
        "--kwargs", 'flat_then_zero={"cut": 0.25}', "--output", "c.png", "--csv", "c.csv", cwd=tmp_path,
    )  # fmt: skip
    assert plotted.returncode == 0, plotted.stderr
    rows = list(csv.DictReader(open(tmp_path / "c.csv", newline="")))
    assert [float(r["flat_then_zero:lr"]) for r in rows] == [5e-5] * 10 + [0.0] * 30

    failed = _console("plot", "sgdr", "--num_training_steps", "40", "--output", "no/such/dir/c.png", cwd=tmp_path)
    assert failed.returncode == 2
    assert failed.stderr.strip().splitlines() == [failed.stderr.strip()]
    assert "Traceback" not in failed.stderr and "--output" in failed.stderr


def test_list_keeps_the_power_in_a_formula_and_drops_bold(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "Warmup, then lr = base_lr * gamma ** (step - num_warmup_steps) (ExponentialLR)." in out
    assert "gamma  (step" not in out
    assert "The 1cycle policy for LR and momentum, as torch.optim.lr_scheduler.OneCycleLR." in out  # was **and**


def test_version_is_the_installed_distribution_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"hf-lrsched {version('hf-lrsched')}\n"
