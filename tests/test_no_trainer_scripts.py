"""``hf-lrsched run`` on an unmodified ``run_*_no_trainer.py``-style script, with 1 and 2 processes.

The script (``tests/scripts/no_trainer_like.py``) declares ``--lr_scheduler_type`` with
``type=SchedulerType`` and transformers' hard-coded ``choices``, multiplies its lengths by
``num_processes``, lets ``accelerator.prepare`` step the scheduler, never imports hf_lrsched, and
writes the LR of every optimizer update. Expected LRs are closed forms written here.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from helpers_processes import descendants

SCRIPT = Path(__file__).parent / "scripts" / "no_trainer_like.py"
UPDATES = 20
WARMUP = 4
TRANSFORMERS_CHOICES = "linear,cosine,cosine_with_restarts,polynomial,constant,constant_with_warmup"


def run(command, tmp_path, timeout=180) -> subprocess.CompletedProcess:
    """Run ``command``; past ``timeout`` kill it and every process it started (launcher and ranks) and fail.

    Any exit status counts as it is: a rank that aborts or hangs at exit after writing its output is
    a failure (``hf-lrsched run`` ends the process group in order, see ``hf_lrsched._hf.teardown``).
    """
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "ACCELERATE_USE_CPU": "true"}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for pid in [*descendants(process.pid), process.pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            pytest.fail(f"{command} did not exit within {timeout} s; stderr: {stderr[-2000:]}")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def hf_lrsched_run(*run_options: str) -> list[str]:
    return [sys.executable, "-m", "hf_lrsched", "run", *run_options]


def free_port() -> int:
    # Not accelerate's default 29500: other jobs on the machine may be using it.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def two_processes_run(*run_options: str) -> list[str]:
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2"]
    launch += ["--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]
    return [*launch, "--main_process_port", str(free_port()), "-m", "hf_lrsched", "run", *run_options]


def script_arguments(tmp_path, name: str) -> list[str]:
    return [
        str(SCRIPT),
        "--lr_scheduler_type",
        name,
        "--num_warmup_steps",
        str(WARMUP),
        "--max_train_steps",
        str(UPDATES),
        "--learning_rate",
        "1.0",
        "--output",
        str(tmp_path / "lrs.json"),
    ]


def recorded(tmp_path, result) -> dict:
    assert result.returncode == 0, result.stderr[-3000:]
    output = json.loads((tmp_path / "lrs.json").read_text())
    assert len(output["lrs"]) == UPDATES
    return output


def exponential_final_ratio(u: int, ratio: float = 0.05) -> float:
    # Linear warmup to the peak at update W, then ratio ** ((u - W) / (T - W)): 1 at W, `ratio` at T.
    return u / WARMUP if u < WARMUP else ratio ** ((u - WARMUP) / (UPDATES - WARMUP))


def multistep(u: int, drops: tuple[int, ...]) -> float:
    if u < WARMUP:
        return u / WARMUP
    return 0.1 ** sum(u >= d for d in drops)


EXPONENTIAL_OPTIONS = ["--lr_scheduler_kwargs", '{"final_lr_ratio": 0.05}']
# One milestone as a fraction (scales with the x num_processes convention), one in steps (does not).
MIXED_MILESTONES = ["--lr_scheduler_kwargs", '{"milestones": [12, 0.75]}']


def test_script_alone_rejects_the_name(tmp_path):
    source = SCRIPT.read_text()
    assert "import hf_lrsched" not in source and "from hf_lrsched" not in source
    result = run([sys.executable, *script_arguments(tmp_path, "one_cycle")], tmp_path)
    assert result.returncode == 2
    assert "invalid SchedulerType value: 'one_cycle'" in result.stderr
    assert not (tmp_path / "lrs.json").exists()


def test_help_lists_registered_names_and_nothing_else_changes(tmp_path):
    plain = run([sys.executable, str(SCRIPT), "--help"], tmp_path)
    patched = run(hf_lrsched_run(str(SCRIPT), "--help"), tmp_path)
    assert plain.returncode == patched.returncode == 0
    added = "warmup_exponential,warmup_step,warmup_multistep,one_cycle,sgdr,sequential,wsd"
    assert "{" + TRANSFORMERS_CHOICES + "}" in plain.stdout
    # The only difference: the choices braces list the registered names too (argparse may rewrap lines).
    expected = " ".join(plain.stdout.replace(TRANSFORMERS_CHOICES + "}", f"{TRANSFORMERS_CHOICES},{added}}}").split())
    assert " ".join(patched.stdout.split()) == expected


def test_one_process_follows_the_closed_form_with_run_options(tmp_path):
    console = Path(sys.executable).with_name("hf-lrsched")
    if not console.exists():
        pytest.skip("the hf-lrsched console script is not installed next to this Python (pip install -e .)")
    arguments = [*EXPONENTIAL_OPTIONS, *script_arguments(tmp_path, "warmup_exponential")]
    result = run([str(console), "run", *arguments], tmp_path)
    output = recorded(tmp_path, result)
    assert output["num_processes"] == 1 and output["lr_scheduler_type"] == "warmup_exponential"
    # final_lr_ratio 0.05 (not the default 0.01) shows run's --lr_scheduler_kwargs reached the schedule.
    assert output["lrs"] == pytest.approx([exponential_final_ratio(u) for u in range(UPDATES)], rel=1e-12, abs=1e-15)
    assert "UserWarning" not in result.stderr


def test_two_processes_give_the_one_process_curve_for_final_lr_ratio(tmp_path):
    result = run(two_processes_run(*EXPONENTIAL_OPTIONS, *script_arguments(tmp_path, "warmup_exponential")), tmp_path)
    output = recorded(tmp_path, result)
    assert output["num_processes"] == 2
    assert output["lrs"] == pytest.approx([exponential_final_ratio(u) for u in range(UPDATES)], rel=1e-12, abs=1e-15)
    assert "counted in scheduler steps" not in result.stderr


def test_one_process_milestones_in_steps_and_fractions(tmp_path):
    result = run(hf_lrsched_run(*MIXED_MILESTONES, *script_arguments(tmp_path, "warmup_multistep")), tmp_path)
    output = recorded(tmp_path, result)
    assert output["num_processes"] == 1
    assert output["lrs"] == pytest.approx([multistep(u, (12, 15)) for u in range(UPDATES)], rel=1e-12)
    assert "counted in scheduler steps" not in result.stderr


def test_two_processes_exit_with_status_0_when_the_script_never_destroys_its_group(tmp_path):
    # run's orderly end destroys the group the script left (recorded() checks the exit status).
    result = run(two_processes_run(*script_arguments(tmp_path, "linear"), "--no_end_training"), tmp_path)
    assert recorded(tmp_path, result)["num_processes"] == 2
    assert "terminate called" not in result.stderr


def test_two_processes_warn_once_about_milestones_in_steps(tmp_path):
    result = run(two_processes_run(*MIXED_MILESTONES, *script_arguments(tmp_path, "warmup_multistep")), tmp_path)
    output = recorded(tmp_path, result)
    assert output["num_processes"] == 2
    # The fraction 0.75 still drops at update 15; the step-valued 12 drops at update 6: twice too early,
    # which is what the warning says.
    assert output["lrs"] == pytest.approx([multistep(u, (6, 15)) for u in range(UPDATES)], rel=1e-12)
    assert result.stderr.count("milestones is counted in scheduler steps") == 1
    assert "give milestones as fractions of training" in result.stderr


def test_typo_in_the_name_is_one_line_with_a_hint(tmp_path):
    result = run(hf_lrsched_run(*script_arguments(tmp_path, "one_cylce")), tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "no_trainer_like.py: error: argument --lr_scheduler_type: unknown lr_scheduler_type 'one_cylce'" in (
        result.stderr
    )
    assert "(did you mean 'one_cycle'?)" in result.stderr


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ('{"gamma": 0.5', "hf-lrsched run: error: --lr_scheduler_kwargs is not valid JSON"),
        (
            '{"gama": 0.5}',
            "hf-lrsched run: error: --lr_scheduler_kwargs: unknown option 'gama' (did you mean 'gamma'?)",
        ),
    ],
)
def test_bad_run_options_stop_before_the_script(tmp_path, options, message):
    # SCRIPT does not exist: the error about the options comes first, so they are checked before it runs.
    result = run(hf_lrsched_run("--lr_scheduler_kwargs", options, str(tmp_path / "missing.py")), tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert result.stderr.startswith(message)


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("one_cycle", '{"gamma": 0.5}', "unknown option 'gamma' for schedule 'one_cycle'"),
        ("warmup_exponential", '{"gamma": 2.0}', "gamma must be in (0.0, 1.0], got 2.0"),
        ("warmup_multistep", '{"milestones": [0.75, 0.5]}', "milestones must be strictly increasing"),
    ],
)
def test_run_options_that_do_not_fit_the_schedule_are_one_line(tmp_path, name, options, message):
    result = run(hf_lrsched_run("--lr_scheduler_kwargs", options, *script_arguments(tmp_path, name)), tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert f"hf-lrsched run: error: --lr_scheduler_kwargs for schedule {name!r}: " in result.stderr
    assert message in result.stderr
    assert not (tmp_path / "lrs.json").exists()


def test_two_processes_warn_once_that_one_cycle_phases_do_not_scale(tmp_path):
    result = run(two_processes_run(*script_arguments(tmp_path, "one_cycle")), tmp_path)
    output = recorded(tmp_path, result)
    assert output["num_processes"] == 2
    assert result.stderr.count("one_cycle: its phases end at pct_start * num_training_steps - 1") == 1
    assert "each phase ends 1/2 of an update late" in result.stderr


def test_one_process_one_cycle_does_not_warn(tmp_path):
    result = run(hf_lrsched_run(*script_arguments(tmp_path, "one_cycle")), tmp_path)
    assert recorded(tmp_path, result)["num_processes"] == 1
    assert "phases end" not in result.stderr
