"""The benchmark scripts' command lines: a mistake is one ``error:`` line and exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LR_CHOICE = REPO / "benchmarks" / "lr_choice.py"


def lr_choice(*flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(LR_CHOICE), "--settings", "tweets", "--summary_only", *flags],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "no such file"),
        ("not json", "not a study this script wrote (JSONDecodeError"),
        ('{"runs": [{"phase": "grid"}]}', "not a study this script wrote (KeyError: 'setting')"),
        ('{"other": 1}', "not a study this script wrote (KeyError: 'runs')"),
    ],
)
def test_restore_from_a_missing_or_foreign_file_is_one_line_and_exit_2(tmp_path, content, reason):
    saved = tmp_path / "study.json"
    if content is not None:
        saved.write_text(content)
    done = lr_choice("--restore_from", str(saved), "--work_dir", str(tmp_path / "work"))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(f"lr_choice.py: error: --restore_from {saved}: {reason}")
    assert done.stderr.count("\n") == 1


def test_restore_from_a_saved_study_counts_its_grid_runs_as_finished(tmp_path):
    saved = {
        "runs": [
            {"phase": "grid", "setting": "tweets", "schedule": "linear", "lr": lr, "seed": 0, "wall_seconds": 9.0,
             "metrics": {"eval_accuracy": acc}}
            for lr, acc in ((3e-5, 0.5), (6e-5, 0.625))
        ] + [{"phase": "auto", "setting": "tweets", "schedule": "linear", "lr": None, "seed": 0, "wall_seconds": 9.0,
              "metrics": {"eval_accuracy": 0.75}}],
    }  # fmt: skip
    path = tmp_path / "study.json"
    path.write_text(json.dumps(saved))
    done = lr_choice(
        "--restore_from", str(path), "--work_dir", str(tmp_path / "work"), "--schedules", "linear",
        "--seeds", "0", "--lr_grid", "3e-5", "6e-5", "--phases", "grid",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"2 grid / out-of-the-box runs restored from {path}"  # not the auto run
    assert "2/2 runs finished" in done.stdout
    assert "62.50" in done.stdout  # the 6e-5 run's accuracy, read back from the restored folder


@pytest.mark.parametrize(
    ("lr", "expected"),
    [
        (4e-4, "; grid proxy +0.00"),  # the best grid point
        (2e-4, "; grid proxy -2.00"),  # halfway in log LR between 80 % and 84 %: 82 %
        (1e-4, "; grid proxy -4.00"),
        (1e-5, "; grid proxy -4.00"),  # below the grid: held at its end
        (1.6e-3, "; grid proxy -4.50"),  # 8e-4 (79.5 %) is the top end
    ],
)
def test_grid_proxy_reads_the_grid_mean_log_linearly(tmp_path, monkeypatch, lr, expected):
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    from lr_choice_probes import grid_gap

    study = tmp_path / "study.json"
    grid = {"0.0001": [0.79, 0.81], "0.0004": [0.84], "0.0008": [0.795], "0.002": []}  # an empty cell is skipped
    study.write_text(json.dumps({"results": {"sst2": {"linear": {"grid_accuracy": grid}}}}))
    assert grid_gap(str(study), "sst2", "linear", lr) == expected
    assert grid_gap(None, "sst2", "linear", lr) == ""


def test_gap_with_its_standard_error_and_the_gap_to_the_lr_picked_on_the_other_seeds(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    from lr_choice import leave_one_seed_out_gap, paired_gap_text

    # Differences 0.01, -0.02, 0.04: mean +1.00 point, std 3.00 points, s.e. 3 / sqrt(3) = 1.73.
    assert paired_gap_text([0.01, -0.02, 0.04]) == "+1.00 ± 1.73 (n=3)"
    assert paired_gap_text([-0.005]) == "-0.50 (n=1)" and paired_gap_text([]) == "n/a"
    grid = {
        1e-4: {0: 0.80, 1: 0.70, 2: 0.81},  # means without seed 0: 0.755, without 1: 0.805, without 2: 0.75
        2e-4: {0: 0.78, 1: 0.79, 2: 0.76},  # 0.775, 0.77, 0.785
    }
    auto = {0: 0.79, 1: 0.75, 2: 0.80, 3: 0.9}  # seed 3 has no grid runs: left out
    # Seed 0 is scored against 2e-4 (0.78), seed 1 against 1e-4 (0.70), seed 2 against 2e-4 (0.76).
    assert leave_one_seed_out_gap(grid, auto) == pytest.approx([0.01, 0.05, 0.04])
    assert leave_one_seed_out_gap({1e-4: {0: 0.8}}, {0: 0.8}) == []  # no other seed to pick on
