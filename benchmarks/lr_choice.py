"""Automatic LR choice vs a 5-point LR grid: fine-tune MiniLM-L6 with ``one_cycle`` and ``linear``, 3 seeds.

Every run is one real run of ``recipes/finetune_accelerate.py`` (a subprocess, ``OMP_NUM_THREADS=1``),
1 epoch, AdamW (recipe defaults), batch ``--batch_size``, warmup 6% of the updates. Two settings:

* **A** (``sst2``): the first ``--train_size`` rows of SST-2's train.tsv, ``max_length`` 64, scored
  on SST-2 dev.tsv.
* **B** (``tweets``): the recipe's offline default data (3,200 training / 1,000 validation tweets,
  3 classes), the recipe's default ``max_length``.

Three phases, each a set of independent runs:

1. **grid**: each schedule at each LR of ``--lr_grid`` (``one_cycle``: ``max_lr``) with every seed.
2. **baseline**: transformers' out-of-the-box setting, ``linear`` at 5e-5 with 6% warmup, every seed.
3. **auto**: each schedule with the recipe's ``--find_lr`` (plus ``--auto_flags``): every seed chooses
   its own LR from the training data only, then trains with it.

Runs are resumable: a run whose ``metrics.json`` exists is read, not repeated (each run's folder is
written as it finishes), so an interrupted study continues where it stopped; ``--restore_from`` reads
the grid and out-of-the-box runs of an earlier study's JSON, so a new method is compared with the same
grid without training it again. ``--summary_only``
prints the tables of whatever has finished, with the list of runs still missing.

    python benchmarks/lr_choice.py --phases grid baseline --workers 2
    python benchmarks/lr_choice.py --phases auto
    python benchmarks/lr_choice.py --summary_only --json docs/lr_choice_results.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from recipe_runs import (
    REPO_ROOT,
    BenchmarkError,
    RunResult,
    default_data_dir,
    load_average,
    machine,
    markdown_table,
    mean_and_std,
    run_cli,
    run_recipe,
    sst2_files,
    write_json,
)

SETTINGS = ("sst2", "tweets")
SCHEDULES = ("one_cycle", "linear")
LR_GRID = (3e-5, 6e-5, 1.2e-4, 2.4e-4, 4.8e-4)
BASELINE_LR = 5e-5
PHASES = ("grid", "baseline", "auto")


@dataclass(frozen=True)
class PlannedRun:
    """One recipe run of the study: where it lives and the flags that define it."""

    phase: str
    setting: str
    schedule: str
    lr: float | None  # None: the recipe chooses (auto)
    seed: int

    @property
    def label(self) -> str:
        lr = "auto" if self.lr is None else f"lr={self.lr:g}"
        return f"{self.setting} {self.phase} {self.schedule} {lr} seed={self.seed}"

    def folder(self, runs_dir: Path, auto_tag: str) -> Path:
        lr = auto_tag if self.lr is None else f"lr{self.lr:.3g}"
        return runs_dir / self.setting / self.phase / self.schedule / f"{lr}_seed{self.seed}"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data_dir", default=default_data_dir(), help="SST-2 folder with train.tsv and dev.tsv")
    parser.add_argument("--train_size", type=int, default=3000, help="setting A: N rows of train.tsv")
    parser.add_argument("--train_offset", type=int, default=0, help="setting A: skip this many rows first")
    parser.add_argument("--sst2_max_length", type=int, default=64, help="setting A's --max_length")
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--warmup", type=float, default=0.06, help="warmup, a fraction of the updates")
    parser.add_argument("--lr_grid", type=float, nargs="+", default=list(LR_GRID))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--settings", nargs="+", choices=SETTINGS, default=list(SETTINGS))
    parser.add_argument("--schedules", nargs="+", default=list(SCHEDULES))
    parser.add_argument("--phases", nargs="+", choices=PHASES, default=list(PHASES))
    parser.add_argument(
        "--auto_flags",
        default="--find_lr",
        help="recipe flags of the automatic choice (one string, split on spaces)",
    )
    parser.add_argument("--auto_tag", default="auto", help="folder name of the automatic runs (one per method)")
    parser.add_argument("--workers", type=int, default=1, help="recipe runs at a time")
    parser.add_argument(
        "--reverse", action="store_true", help="run the plan backwards (a second process meets the first midway)"
    )
    parser.add_argument("--work_dir", default=str(REPO_ROOT / "runs" / "lr_choice"), help="data subset and runs")
    parser.add_argument("--summary_only", action="store_true", help="train nothing; tables of finished runs")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument(
        "--restore_from",
        help="a JSON this script wrote: its grid and out-of-the-box runs count as finished (their folders are "
        "recreated from it) so that only new automatic runs train",
    )
    args = parser.parse_args(argv)
    for flag in ("train_size", "sst2_max_length", "batch_size", "workers"):
        if getattr(args, flag) < 1:
            raise BenchmarkError(f"--{flag} must be >= 1, got {getattr(args, flag)}")
    if args.train_offset < 0:
        raise BenchmarkError(f"--train_offset must be >= 0, got {args.train_offset}")
    if any(lr <= 0 for lr in args.lr_grid):
        raise BenchmarkError(f"--lr_grid values must be > 0, got {args.lr_grid}")
    if args.restore_from and not Path(args.restore_from).is_file():
        raise BenchmarkError(f"--restore_from {args.restore_from}: no such file")
    return args


def write_train_subset(train_tsv: Path, size: int, folder: Path, offset: int = 0) -> Path:
    """Rows ``offset`` to ``offset + size`` of ``train_tsv`` (verbatim lines, header kept), written once."""
    header, *rows = train_tsv.read_text().splitlines(keepends=True)
    if offset + size > len(rows):
        raise BenchmarkError(
            f"--train_offset {offset} + --train_size {size} exceeds the {len(rows)} rows of {train_tsv}"
        )
    path = folder / (f"train_first{size}.tsv" if offset == 0 else f"train_rows{offset}-{offset + size}.tsv")
    text = header + "".join(rows[offset : offset + size])
    folder.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)
    return path


def plan(args: argparse.Namespace) -> list[PlannedRun]:
    """Every run of the chosen phases, setting by setting, seed-major within a setting (a partial study
    has whole seeds of the first settings)."""
    runs = []
    for setting in args.settings:
        for seed in args.seeds:
            if "baseline" in args.phases:
                runs.append(PlannedRun("baseline", setting, "linear", BASELINE_LR, seed))
            for schedule in args.schedules:
                if "grid" in args.phases:
                    runs += [PlannedRun("grid", setting, schedule, lr, seed) for lr in args.lr_grid]
                if "auto" in args.phases:
                    runs.append(PlannedRun("auto", setting, schedule, None, seed))
    return runs


def setting_flags(args: argparse.Namespace, setting: str, data: dict) -> list[str]:
    if setting == "sst2":
        return [
            "--train_file",
            str(data["train"]),
            "--validation_file",
            str(data["dev"]),
            "--max_length",
            str(args.sst2_max_length),
        ]
    return []  # the recipe's default data


def run_flags(args: argparse.Namespace, run: PlannedRun, data: dict) -> list[str]:
    flags = [
        *setting_flags(args, run.setting, data),
        "--per_device_train_batch_size",
        str(args.batch_size),
        "--num_train_epochs",
        "1",
        "--lr_scheduler_type",
        run.schedule,
        "--num_warmup_steps",
        repr(args.warmup),
        "--seed",
        str(run.seed),
        "--logging_steps",
        "1",
    ]
    if run.lr is None:
        return flags + args.auto_flags.split()
    return flags + ["--learning_rate", repr(run.lr)]


class Runner:
    """Runs (or reuses) the planned runs, ``--workers`` at a time, printing progress as each ends."""

    def __init__(self, args, data, runs_dir: Path):
        self.args, self.data, self.runs_dir = args, data, runs_dir
        self.lock = threading.Lock()
        self.done = 0
        self.total = 0

    def one(self, run: PlannedRun) -> RunResult:
        folder = run.folder(self.runs_dir, self.args.auto_tag)
        result = run_recipe(run.label, run_flags(self.args, run, self.data), folder, reuse=True)
        with self.lock:
            self.done += 1
            m = result.metrics
            how = "reused" if result.extra.get("reused") else f"{result.wall_seconds:.0f} s"
            chosen = f", lr {m.get('learning_rate'):.3g}" if run.lr is None else ""
            print(
                f"  [{self.done}/{self.total}] {run.label}: acc {m['eval_accuracy']:.4f}, loss "
                f"{m['eval_loss']:.4f}{chosen} ({how}; load {load_average()})",
                flush=True,
            )
        return result

    def all(self, runs: list[PlannedRun]) -> dict[PlannedRun, RunResult]:
        self.total = len(runs)
        with ThreadPoolExecutor(max_workers=self.args.workers) as pool:
            results = list(pool.map(self.one, runs))
        return dict(zip(runs, results))


def restore_runs(path: str, runs_dir: Path) -> int:
    """Recreate the ``metrics.json`` (and wall time) of the grid and out-of-the-box runs saved in ``path``."""
    try:
        saved_runs = json.loads(Path(path).read_text())["runs"]
        planned = [
            (PlannedRun(s["phase"], s["setting"], s["schedule"], s["lr"], s["seed"]), s["metrics"], s["wall_seconds"])
            for s in saved_runs
            if s["phase"] != "auto"  # an automatic run belongs to the method that made it
        ]
    except (OSError, ValueError, KeyError, TypeError) as err:
        reason = f"{type(err).__name__}: {err}"
        raise BenchmarkError(f"--restore_from {path}: not a study this script wrote ({reason})") from err
    restored = 0
    for run, metrics, wall_seconds in planned:
        folder = run.folder(runs_dir, auto_tag="")
        if not (folder / "metrics.json").is_file():
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
            (folder / "benchmark_wall_seconds.json").write_text(json.dumps({"wall_seconds": wall_seconds}))
            restored += 1
    return restored


def finished(args, runs: list[PlannedRun], runs_dir: Path) -> dict[PlannedRun, RunResult]:
    """The runs whose ``metrics.json`` exists (read, nothing trained)."""
    done = {}
    for run in runs:
        folder = run.folder(runs_dir, args.auto_tag)
        if (folder / "metrics.json").is_file():
            done[run] = run_recipe(run.label, [], folder, reuse=True)
    return done


def pct(values: list[float]) -> str:
    if not values:
        return "not run"
    mean, std = mean_and_std(values)
    return f"{100 * mean:.2f} ± {100 * std:.2f} (n={len(values)})"


def paired_gap_text(differences: list[float]) -> str:
    """Mean of paired per-seed differences in points, ± their standard error (``std / sqrt(n)``)."""
    if not differences:
        return "n/a"
    mean, std = mean_and_std(differences)
    error = f" ± {100 * std / math.sqrt(len(differences)):.2f}" if len(differences) > 1 else ""
    return f"{100 * mean:+.2f}{error} (n={len(differences)})"


def leave_one_seed_out_gap(grid: dict[float, dict[int, float]], auto: dict[int, float]) -> list[float]:
    """Per seed, the automatic run's accuracy minus the grid's at the LR that is best on the *other* seeds.

    The best grid LR picked and scored on the same seeds is the top of several noisy means, so it is
    biased upwards; picking it on the other seeds removes that bias. Seeds without a grid run at
    every LR, or without another seed to pick on, are left out.
    """
    differences = []
    for seed, accuracy in auto.items():
        if not all(seed in by_seed for by_seed in grid.values()):
            continue
        others = {
            lr: [a for s, a in by_seed.items() if s != seed] for lr, by_seed in grid.items()
        }  # fmt: skip
        if not all(others.values()):
            continue
        best = max(others, key=lambda lr: sum(others[lr]) / len(others[lr]))
        differences.append(accuracy - grid[best][seed])
    return differences


def chosen_lr(result: RunResult) -> float:
    return float(result.metrics["learning_rate"])


def chosen_lr_text(result: RunResult) -> str:
    """The chosen LR, marked † where the probes were not trusted and the run used its fallback LR."""
    test = result.metrics.get("find_lr")
    untrusted = isinstance(test, dict) and test.get("reliable") is False
    return f"{chosen_lr(result):.3g}" + (" †" if untrusted else "")


def probe_seconds(result: RunResult) -> float | None:
    test = result.metrics.get("find_lr")
    return test.get("seconds") if isinstance(test, dict) else None


def _ordered(results: dict[PlannedRun, RunResult], **match) -> list[tuple[PlannedRun, RunResult]]:
    """The finished runs whose fields equal ``match``, by seed."""
    found = [(run, r) for run, r in results.items() if all(getattr(run, k) == v for k, v in match.items())]
    return sorted(found, key=lambda kv: kv[0].seed)


def cost_fraction(result: RunResult) -> float | None:
    """Probe time over the rest of the run (the same run without the choice): the choice's relative cost."""
    probe = probe_seconds(result)
    if probe is None or not result.wall_seconds:
        return None
    return probe / (result.wall_seconds - probe)


def portable(metrics: dict) -> dict:
    """``metrics`` with the data file's folder left out (no paths of this machine in the saved results)."""
    data = metrics.get("data")
    if isinstance(data, str) and os.sep in data:
        return {**metrics, "data": Path(data).name}
    return metrics


def summarize(args, results: dict[PlannedRun, RunResult]) -> tuple[str, dict]:
    """Markdown tables (grid; automatic choice vs best grid LR and out-of-the-box) and a JSON record."""
    lines, record = [], {}
    for setting in args.settings:
        rec = record.setdefault(setting, {})
        base = [r.metrics["eval_accuracy"] for _, r in _ordered(results, phase="baseline", setting=setting)]
        grid_rows, auto_rows = [], []
        for schedule in args.schedules:
            grid = {
                lr: [r.metrics["eval_accuracy"] for _, r in _ordered(results, phase="grid", setting=setting,
                                                                      schedule=schedule, lr=lr)]
                for lr in args.lr_grid
            }  # fmt: skip
            means = {lr: mean_and_std(v)[0] for lr, v in grid.items() if v}
            best = max(means, key=means.get) if means else None
            grid_rows.append([schedule, *[pct(grid[lr]) for lr in args.lr_grid], f"{best:g}" if best else "n/a"])
            auto = _ordered(results, phase="auto", setting=setting, schedule=schedule)
            accs = [r.metrics["eval_accuracy"] for _, r in auto]
            lrs = [chosen_lr(r) for _, r in auto]
            costs = [c for c in (cost_fraction(r) for _, r in auto) if c is not None]
            # Paired over the seeds that have both runs (a partial study may lack some grid seeds).
            by_seed = {run.seed: r.metrics["eval_accuracy"] for run, r in auto}
            best_by_seed = {
                run.seed: r.metrics["eval_accuracy"]
                for run, r in _ordered(results, phase="grid", setting=setting, schedule=schedule, lr=best)
            }
            base_by_seed = {
                run.seed: r.metrics["eval_accuracy"] for run, r in _ordered(results, phase="baseline", setting=setting)
            }
            gap = [by_seed[k] - best_by_seed[k] for k in by_seed if k in best_by_seed]
            grid_by_seed = {
                lr: {run.seed: r.metrics["eval_accuracy"]
                     for run, r in _ordered(results, phase="grid", setting=setting, schedule=schedule, lr=lr)}
                for lr in args.lr_grid
            }  # fmt: skip
            unbiased_gap = leave_one_seed_out_gap(grid_by_seed, by_seed)
            gain = [by_seed[k] - base_by_seed[k] for k in by_seed if k in base_by_seed]
            auto_rows.append(
                [
                    schedule,
                    " / ".join(chosen_lr_text(r) for _, r in auto) or "not run",
                    f"{max(lrs) / min(lrs):.2f}" if lrs else "n/a",
                    pct(accs),
                    " / ".join(f"{100 * a:.1f}" for a in accs),
                    f"{100 * means[best]:.2f} ({best:g})" if best else "n/a",
                    paired_gap_text(gap),
                    paired_gap_text(unbiased_gap),
                    f"{100 * sum(gain) / len(gain):+.2f} (n={len(gain)})" if gain else "n/a",
                    f"{100 * sum(costs) / len(costs):.0f}% ({' / '.join(f'{100 * c:.0f}' for c in costs)})"
                    if costs
                    else "n/a",
                ]
            )
            rec[schedule] = {
                "grid_accuracy": {repr(lr): v for lr, v in grid.items()},
                "best_grid_lr": best,
                "best_grid_mean": means.get(best) if best else None,
                "auto_seeds": [run.seed for run, _ in auto],
                "auto_accuracy": accs,
                "auto_chosen_lr": lrs,
                "auto_probe_seconds": [probe_seconds(r) for _, r in auto],
                "auto_run_wall_seconds": [r.wall_seconds for _, r in auto],
                "auto_cost_fraction": costs,
                "gap_to_best_grid_paired": gap,
                "gap_to_best_grid_on_other_seeds": unbiased_gap,
                "gain_over_out_of_the_box_paired": gain,
                "auto_choice": [r.metrics.get("find_lr") for _, r in auto],
            }
        rec["baseline_linear_5e-05"] = base
        walls = sorted(
            r.wall_seconds
            for run, r in results.items()
            if run.setting == setting and run.phase != "auto" and r.wall_seconds
        )
        rec["grid_run_wall_seconds"] = walls
        lines += [
            f"### Setting {setting}: dev accuracy %, mean ± std over seeds (n = seeds finished)",
            "",
            markdown_table(["schedule", *[f"lr {lr:g}" for lr in args.lr_grid], "best grid LR"], grid_rows),
            "",
            f"Out-of-the-box (`linear`, {BASELINE_LR:g}, warmup {args.warmup:g}): {pct(base)}"
            + (f" — per seed {' / '.join(f'{100 * a:.1f}' for a in base)}" if base else ""),
            "",
            markdown_table(
                [
                    "schedule",
                    "chosen LR per seed",
                    "max/min",
                    "auto dev acc %",
                    "per seed",
                    "best grid mean (LR)",
                    "gap to best grid (paired seeds, ± s.e.)",
                    "gap, best LR picked on the other seeds",
                    "gain over out-of-the-box (paired)",
                    "cost: probe / rest of run (per seed)",
                ],
                auto_rows,
            ),
            "",
            "† the probes were not trusted (`reliable` false in `find_lr`): the run used its fallback, the recipe's "
            "`--learning_rate`.",
            "",
            "run wall time (grid and baseline runs): "
            + (
                f"median {walls[len(walls) // 2]:.0f} s, {walls[0]:.0f}-{walls[-1]:.0f} s over {len(walls)} runs"
                if walls
                else "n/a"
            ),
            "",
        ]
    return "\n".join(lines), record


def main(argv=None) -> int:
    args = parse_args(argv)
    os.environ["OMP_NUM_THREADS"] = "1"  # every recipe run: one thread (the machine is shared)
    work = Path(args.work_dir)
    data = {}
    if "sst2" in args.settings:
        train_tsv, dev_tsv = sst2_files(args.data_dir)
        data = {
            "train": write_train_subset(train_tsv, args.train_size, work / "data", args.train_offset),
            "dev": dev_tsv,
        }
    offset = f"_from{args.train_offset}" if args.train_offset else ""
    runs_dir = work / f"runs_n{args.train_size}{offset}_len{args.sst2_max_length}_b{args.batch_size}_w{args.warmup:g}"
    runs = plan(args)[:: -1 if args.reverse else 1]
    if args.restore_from:
        print(
            f"{restore_runs(args.restore_from, runs_dir)} grid / out-of-the-box runs restored from {args.restore_from}"
        )
    started = time.perf_counter()
    if args.summary_only:
        results = finished(args, runs, runs_dir)
        missing = [run.label for run in runs if run not in results]
    else:
        info = machine()
        print(f"machine: {info['cpu']}, {info['cpu_count']} CPU(s); load {info['load_average_at_start']}")
        print(f"{len(runs)} runs ({', '.join(args.phases)}), {args.workers} at a time, in {runs_dir}", flush=True)
        results = Runner(args, data, runs_dir).all(runs)
        missing = []
    text, record = summarize(args, results)
    print()
    print(text)
    print(f"{len(results)}/{len(runs)} runs finished" + (f"; missing: {'; '.join(missing)}" if missing else ""))
    if not args.summary_only:
        print(f"total time: {(time.perf_counter() - started) / 60:.1f} min; load {load_average()}")
    if args.json:
        write_json(
            args.json,
            {
                "benchmark": "lr_choice",
                "settings": {k: v for k, v in vars(args).items() if k not in ("data_dir", "work_dir", "json")},
                "finished_runs": len(results),
                "planned_runs": len(runs),
                "missing": missing,
                "results": record,
                "runs": [
                    {
                        "phase": run.phase,
                        "setting": run.setting,
                        "schedule": run.schedule,
                        "lr": run.lr,
                        "seed": run.seed,
                        **{k: v for k, v in r.to_json().items() if k not in ("flags", "metrics")},
                        "metrics": portable(r.metrics),
                    }
                    for run, r in results.items()
                ],
            },
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
