"""Do two-process runs always end cleanly? N launches of each kind; failures/N (any non-zero status, or no exit).

Three kinds of run, each launched with ``ACCELERATE_USE_CPU=true accelerate launch --multi_gpu
--num_processes 2`` exactly as the tests launch them (their flag and data builders are reused):

* ``no_trainer``: ``tests/scripts/no_trainer_like.py`` (20 updates, warmup_exponential) through
  ``hf-lrsched run``, as ``test_two_processes_give_the_one_process_curve_for_final_lr_ratio``;
* ``accelerate``: the Accelerate recipe's tiny run (48 rows, 4 updates of 2 x 4 examples);
* ``trainer``: the Trainer recipe's tiny run (the same data and schedule, 4 updates).

The kinds are interleaved run by run, so they see the same load. A run fails when its launcher's exit
status is not 0, or when it has not exited after ``--timeout`` seconds (then it is killed: a hang).
The children import the package from this checkout (``PYTHONPATH``), not from wherever it is installed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))

from helpers_processes import descendants  # noqa: E402
from test_no_trainer_scripts import EXPONENTIAL_OPTIONS, script_arguments, two_processes_run  # noqa: E402
from test_recipes import _write_sentiment_csv, recipe_command, tiny_args, tiny_trainer_args  # noqa: E402

ABORT = "terminate called without an active exception"


def _env() -> dict:
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    return {
        **os.environ,
        "PYTHONPATH": path,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "ACCELERATE_USE_CPU": "true",
    }


def commands(kind: str, folder: Path, data: tuple[Path, Path]) -> list[str]:
    """The launch command of one run of ``kind``, writing into ``folder``."""
    if kind == "no_trainer":
        return two_processes_run(*EXPONENTIAL_OPTIONS, *script_arguments(folder, "warmup_exponential"))
    if kind == "accelerate":
        args = tiny_args(data)
        args[args.index("--per_device_train_batch_size") + 1] = "4"  # 8 examples per update, as the test
        return recipe_command("finetune_accelerate", [*args, "--output_dir", str(folder / "out")], processes=2)
    args = [*tiny_trainer_args(data), "--save_strategy", "no", "--output_dir", str(folder / "out")]
    return recipe_command("finetune_trainer", args, processes=2)


def launch(command: list[str], folder: Path, timeout: float) -> dict:
    """Run one launch; its status, wall time and, on failure, why (stderr kept in ``folder``)."""
    started = time.perf_counter()
    with subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_env(), cwd=folder
    ) as process:
        try:
            stderr = process.communicate(timeout=timeout)[1]
            status = process.returncode
        except subprocess.TimeoutExpired:
            for pid in [*descendants(process.pid), process.pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            stderr = process.communicate()[1]
            status = None
    result = {"status": status, "seconds": round(time.perf_counter() - started, 1)}
    if status != 0:
        result["why"] = "no exit (killed)" if status is None else f"status {status}"
        if ABORT in stderr:
            result["why"] += f", {ABORT!r}"
        (folder / "stderr.txt").write_text(stderr)
    return result


def _load() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no_trainer", type=int, default=50, metavar="N", help="runs of the no_trainer script")
    parser.add_argument("--accelerate", type=int, default=20, metavar="N", help="runs of the Accelerate recipe")
    parser.add_argument("--trainer", type=int, default=20, metavar="N", help="runs of the Trainer recipe")
    parser.add_argument("--timeout", type=float, default=300, help="seconds before a run counts as hung")
    parser.add_argument("--work_dir", default="/tmp/hf_lrsched_bench/multi_process_exit")
    args = parser.parse_args(argv)

    work = Path(args.work_dir)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    data = _write_sentiment_csv(work / "train.csv", 48), _write_sentiment_csv(work / "dev.csv", 16)
    planned = {"no_trainer": args.no_trainer, "accelerate": args.accelerate, "trainer": args.trainer}
    results: dict[str, list[dict]] = {kind: [] for kind in planned}
    print(f"{platform.node()}: {os.cpu_count()} CPUs, load {_load()} at the start", flush=True)
    for index in range(max(planned.values())):
        for kind, count in planned.items():
            if index >= count:
                continue
            folder = work / f"{kind}_{index}"
            folder.mkdir()
            result = launch(commands(kind, folder, data), folder, args.timeout)
            results[kind].append({**result, "load": _load()})
            print(f"{kind} {index + 1}/{count}: {result}", flush=True)
            if result["status"] == 0:
                shutil.rmtree(folder)  # failures keep their folder (stderr.txt)
    summary = {kind: f"{sum(r['status'] != 0 for r in runs)}/{len(runs)}" for kind, runs in results.items()}
    (work / "results.json").write_text(json.dumps({"failures": summary, "runs": results}, indent=1))
    for kind, failures in summary.items():
        print(f"{kind}: {failures} failed")
    print(f"load {_load()} at the end; every run in {work / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
