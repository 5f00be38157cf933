"""``hf-lrsched run SCRIPT`` and ``python -m hf_lrsched run SCRIPT`` on an unmodified HF-style script.

The script (written here) builds ``HfArgumentParser((TrainingArguments,))`` and never imports
hf_lrsched. Run with plain ``python`` it rejects ``--lr_scheduler_type one_cycle``; run through
the ``run`` command it accepts it, which is what the command is for. Each case is one subprocess.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# The parser is built when the module is imported, as many example scripts do.
SCRIPT_PARSER_AT_IMPORT = """
import json
import sys

from transformers import HfArgumentParser, TrainingArguments

PARSER = HfArgumentParser((TrainingArguments,))


def main():
    (args,) = PARSER.parse_args_into_dataclasses()
    print(json.dumps({"type": args.lr_scheduler_type.value, "kwargs": args.lr_scheduler_kwargs,
                      "argv0": sys.argv[0], "name": __name__}))


if __name__ == "__main__":
    main()
"""

# The parser is built inside main().
SCRIPT_PARSER_IN_MAIN = """
import json
import sys

from transformers import HfArgumentParser, TrainingArguments


def main():
    parser = HfArgumentParser((TrainingArguments,))
    (args,) = parser.parse_args_into_dataclasses()
    print(json.dumps({"type": args.lr_scheduler_type.value, "kwargs": args.lr_scheduler_kwargs,
                      "argv0": sys.argv[0], "name": __name__}))


if __name__ == "__main__":
    main()
"""


def console_script() -> str | None:
    """The installed ``hf-lrsched`` entry point (next to this Python, else on PATH)."""
    beside = Path(sys.executable).with_name("hf-lrsched")
    return str(beside) if beside.exists() else shutil.which("hf-lrsched")


def run(command, tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)


def write_script(tmp_path, source) -> Path:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(source))
    assert "hf_lrsched" not in script.read_text()
    return script


def script_arguments(tmp_path) -> list[str]:
    return [
        "--output_dir",
        str(tmp_path / "out"),
        "--lr_scheduler_type",
        "one_cycle",
        "--lr_scheduler_kwargs",
        '{"pct_start": 0.2, "three_phase": true}',
    ]


def test_plain_python_rejects_the_name(tmp_path):
    script = write_script(tmp_path, SCRIPT_PARSER_AT_IMPORT)
    result = run([sys.executable, str(script), *script_arguments(tmp_path)], tmp_path)
    assert result.returncode == 2
    assert "invalid choice: 'one_cycle'" in result.stderr


def test_console_script_runs_unmodified_script(tmp_path):
    command = console_script()
    if command is None:
        pytest.skip("the hf-lrsched console script is not installed (pip install -e .)")
    script = write_script(tmp_path, SCRIPT_PARSER_AT_IMPORT)
    result = run([command, "run", str(script), *script_arguments(tmp_path)], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    output = json.loads(result.stdout.splitlines()[-1])
    assert output == {
        "type": "one_cycle",
        "kwargs": {"pct_start": 0.2, "three_phase": True},
        "argv0": str(script),
        "name": "__main__",
    }


def test_python_m_runs_unmodified_script(tmp_path):
    script = write_script(tmp_path, SCRIPT_PARSER_IN_MAIN)
    result = run([sys.executable, "-m", "hf_lrsched", "run", str(script), *script_arguments(tmp_path)], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    output = json.loads(result.stdout.splitlines()[-1])
    assert output["type"] == "one_cycle"
    assert output["kwargs"] == {"pct_start": 0.2, "three_phase": True}
    assert output["argv0"] == str(script) and output["name"] == "__main__"


def test_run_reports_bad_kwargs_by_option_name(tmp_path):
    script = write_script(tmp_path, SCRIPT_PARSER_IN_MAIN)
    arguments = [
        "--output_dir",
        str(tmp_path / "out"),
        "--lr_scheduler_type",
        "one_cycle",
        "--lr_scheduler_kwargs",
        '{"pct_strat": 0.2}',
    ]
    result = run([sys.executable, "-m", "hf_lrsched", "run", str(script), *arguments], tmp_path)
    assert result.returncode != 0
    assert "lr_scheduler_kwargs: unknown option 'pct_strat'" in result.stderr
    assert "did you mean 'pct_start'" in result.stderr


def test_console_script_runs_module_from_current_folder(tmp_path):
    command = console_script()
    if command is None:
        pytest.skip("the hf-lrsched console script is not installed (pip install -e .)")
    write_script(tmp_path, SCRIPT_PARSER_IN_MAIN)
    result = run([command, "run", "-m", "train", *script_arguments(tmp_path)], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    output = json.loads(result.stdout.splitlines()[-1])
    assert output["type"] == "one_cycle" and output["name"] == "__main__"


def test_run_missing_module_or_script_is_one_clear_line(tmp_path):
    for arguments in (["-m", "no_such_module_here"], [str(tmp_path / "missing.py")]):
        result = run([sys.executable, "-m", "hf_lrsched", "run", *arguments], tmp_path)
        assert result.returncode == 2
        assert result.stderr.strip().count("\n") == 0 and "hf-lrsched run:" in result.stderr
        assert "Traceback" not in result.stderr


def _one_line_error(result) -> str:
    assert result.returncode == 2, result.stderr[-3000:]
    assert result.stderr.strip().count("\n") == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr and "usage:" not in result.stderr
    return result.stderr.strip()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        # transformers' own answer is the whole usage text (about 100 lines) with no hint.
        (["--lr_scheduler_type", "one_cylce"], "unknown lr_scheduler_type 'one_cylce' (did you mean 'one_cycle'?)"),
        # a traceback through TrainingArguments.__post_init__ without run's one-line errors.
        (["--lr_scheduler_type", "one_cycle", "--lr_scheduler_kwargs", '{"pct_start": 0.2'], "is not valid JSON"),
        # would fail only at trainer.train(), after the model has loaded.
        (
            ["--lr_scheduler_type", "warmup_multistep", "--lr_scheduler_kwargs", '{"milestones": [0.75, 0.5]}'],
            "milestones must be strictly increasing",
        ),
    ],
)
def test_run_reports_bad_schedule_arguments_of_a_trainer_script_in_one_line(tmp_path, arguments, message):
    script = write_script(tmp_path, SCRIPT_PARSER_IN_MAIN)
    command = [sys.executable, "-m", "hf_lrsched", "run", str(script), "--output_dir", str(tmp_path / "out")]
    line = _one_line_error(run([*command, *arguments], tmp_path))
    assert line.startswith("train.py: error: ") and message in line
    if "one_cylce" in arguments:
        assert line.startswith("train.py: error: argument --lr_scheduler_type")
