"""Shared by the recipe benchmarks: run ``recipes/finetune_accelerate.py`` as a subprocess and read its outputs.

Nothing about training lives here: every number comes from the ``metrics.json`` (and
``log_history.json``) that the real recipe writes to its ``--output_dir``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
RECIPE = REPO_ROOT / "recipes" / "finetune_accelerate.py"
DATA_ENV = "HF_LRSCHED_SST2"


class BenchmarkError(RuntimeError):
    """A problem the user can fix (missing data, failed run): printed as one line by :func:`run_cli`."""


def default_data_dir() -> str:
    """``$HF_LRSCHED_SST2``, else ``../shared/data/sst2`` relative to the repo root."""
    return os.environ.get(DATA_ENV) or str(REPO_ROOT.parent / "shared" / "data" / "sst2")


def sst2_files(data_dir: str) -> tuple[Path, Path]:
    """``(train.tsv, dev.tsv)`` of the SST-2 folder, or a :class:`BenchmarkError` saying what is missing."""
    folder = Path(data_dir)
    missing = [name for name in ("train.tsv", "dev.tsv") if not (folder / name).is_file()]
    if missing:
        raise BenchmarkError(
            f"--data_dir {data_dir!r} has no {' / '.join(missing)}; give the SST-2 folder (tab-separated, "
            f"columns sentence and label) with --data_dir or ${DATA_ENV}"
        )
    return folder / "train.tsv", folder / "dev.tsv"


@dataclass
class RunResult:
    """One recipe run: its flags, its ``metrics.json``, its final training loss and the wall time."""

    name: str
    flags: list[str]
    metrics: dict
    final_train_loss: float | None
    wall_seconds: float | None  # None when the run was skipped because its outputs existed
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "flags": self.flags,
            "metrics": self.metrics,
            "final_train_loss": self.final_train_loss,
            "wall_seconds": self.wall_seconds,
            **self.extra,
        }


def recipe_flags() -> set[str]:
    """The ``--flags`` the recipe's ``--help`` lists (to see whether e.g. ``--find_lr`` exists yet)."""
    done = subprocess.run(
        [sys.executable, str(RECIPE), "--help"],
        capture_output=True,
        text=True,
        env=_recipe_env(),
        cwd=REPO_ROOT,
        check=False,
    )
    words = done.stdout.replace(",", " ").split()
    return {word.split("=")[0] for word in words if word.startswith("--")}


def _recipe_env() -> dict:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def final_train_loss(output_dir: Path, last_updates: int = 10) -> float | None:
    """Mean training loss over about the last ``last_updates`` updates, from the recipe's ``log_history.json``.

    Each logged loss is the mean over its logging window, so windows are weighted by their length;
    with ``--logging_steps 1`` this is exactly the mean of the last ``last_updates`` update losses.
    """
    path = output_dir / "log_history.json"
    if not path.is_file():
        return None
    logged = [(row["step"], row["loss"]) for row in json.loads(path.read_text()) if "loss" in row]
    total, covered = 0.0, 0
    for i in range(len(logged) - 1, -1, -1):
        if covered >= last_updates:
            break
        width = logged[i][0] - (logged[i - 1][0] if i else 0)
        total, covered = total + width * logged[i][1], covered + width
    return total / covered if covered else None


def run_recipe(name: str, flags: Sequence[str], output_dir: Path, *, reuse: bool = False) -> RunResult:
    """Run the Accelerate recipe once with ``flags`` (plus ``--output_dir``) and read what it wrote.

    Args:
      name: label of the run (for messages).
      flags: recipe flags, without ``--output_dir``.
      output_dir: the run's folder; the recipe's console output goes to ``recipe.log`` in it.
      reuse: if ``metrics.json`` is already there, read it instead of training again (resumable studies).

    Returns:
      A :class:`RunResult`; ``wall_seconds`` is the whole subprocess (start-up, data, training, evaluation).
    """
    output_dir = Path(output_dir)
    metrics_path = output_dir / "metrics.json"
    timing_path = output_dir / "benchmark_wall_seconds.json"
    if reuse and metrics_path.is_file():
        wall = json.loads(timing_path.read_text())["wall_seconds"] if timing_path.is_file() else None
        return RunResult(
            name,
            list(flags),
            json.loads(metrics_path.read_text()),
            final_train_loss(output_dir),
            wall,
            {"reused": True},
        )
    output_dir.mkdir(parents=True, exist_ok=True)
    for stale in (metrics_path, timing_path, output_dir / "log_history.json"):
        stale.unlink(missing_ok=True)
    command = [sys.executable, str(RECIPE), *flags, "--output_dir", str(output_dir)]
    log_path = output_dir / "recipe.log"
    start = time.perf_counter()
    with open(log_path, "w") as log:
        done = subprocess.run(
            command, stdout=log, stderr=subprocess.STDOUT, env=_recipe_env(), cwd=REPO_ROOT, check=False
        )
    wall = time.perf_counter() - start
    if done.returncode != 0 or not metrics_path.is_file():
        tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
        raise BenchmarkError(
            f"run {name!r} failed (exit {done.returncode}); last lines of {log_path}: "
            + " | ".join(line.strip()[-300:] for line in tail)
        )
    timing_path.write_text(json.dumps({"wall_seconds": wall}) + "\n")
    return RunResult(name, list(flags), json.loads(metrics_path.read_text()), final_train_loss(output_dir), wall)


def machine() -> dict:
    """What ran the benchmark: CPU, core count, library versions, load average (others' processes show here)."""
    import torch
    import transformers

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.is_available(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "load_average_at_start": load_average(),
    }


def load_average() -> list[float] | None:
    """1/5/15-minute load average (``None`` where the OS has none); other processes' work shows here."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def median_and_range(values: Sequence[float]) -> tuple[float, float, float]:
    """``(median, min, max)``."""
    return statistics.median(values), min(values), max(values)


def mean_and_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]], align: str | None = None) -> str:
    """A GitHub markdown table; ``align`` has one of ``l``/``r`` per column (default: first left, rest right)."""
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---:" if a == "r" else ":---" for a in align]
    lines = [header, rule, *rows]
    return "\n".join("| " + " | ".join(str(cell) for cell in line) + " |" for line in lines)


def write_json(path: str | os.PathLike, value) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(value, indent=2) + "\n")


def run_cli(main) -> int:
    """Run a benchmark's ``main``; a :class:`BenchmarkError` becomes one ``error:`` line and exit status 2."""
    try:
        return main() or 0
    except BenchmarkError as err:
        print(f"{Path(sys.argv[0]).name}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{Path(sys.argv[0]).name}: interrupted", file=sys.stderr)
        return 130
