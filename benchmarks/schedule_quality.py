"""Schedule quality on SST-2: fine-tune MiniLM-L6 with each schedule, an equal LR grid per schedule, 3 seeds.

Every run is one real run of ``recipes/finetune_accelerate.py`` on the same fixed training subset
(the first ``--train_size`` rows of SST-2's train.tsv; 3000 by default, sized by timing one run so
that the whole study fits in about 40 minutes on 2 CPU cores), for the same number of optimizer
updates (``--epochs`` over it at batch ``--batch_size``), with the same warmup (``--warmup``, a
fraction of the updates) for every schedule except ``constant``, which has none. Schedule options
are the package's defaults. The study has three phases:

1. **tune**: for each schedule, one run per LR of ``--lr_grid`` (the same grid, so the same number
   of trials, for every schedule) with seed ``--tune_seed``, scored on a held-out part of the
   *training* data (the last ``--heldout_size`` rows of train.tsv, disjoint from the subset);
   the best held-out accuracy picks the LR (ties: lower held-out loss), or with ``--select_by loss``
   the lowest held-out loss. The dev set is never used here.
2. **final**: each schedule at its chosen LR with every seed of ``--seeds``, scored on dev.tsv.
3. **find_lr**: ``one_cycle`` with ``--find_lr`` (the recipe sets ``max_lr`` with
   ``hf_lrsched.choose_lr``; the published table predates it and used the LR range test), every
   seed, on dev. Left out, with a note, while the recipe has no ``--find_lr`` flag.

The subset and held-out TSVs are written under ``--work_dir`` (outside the repo). Runs are
resumable: a run whose ``metrics.json`` exists is read, not repeated, so an interrupted study
continues where it stopped (delete ``--work_dir`` to start over). After the first run, the script
prints an estimate of the whole study's time; ``--estimate_only`` stops there.

    python benchmarks/schedule_quality.py --data_dir ../shared/data/sst2 --json quality.json
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from recipe_runs import (
    BenchmarkError,
    RunResult,
    default_data_dir,
    load_average,
    machine,
    markdown_table,
    mean_and_std,
    recipe_flags,
    run_cli,
    run_recipe,
    sst2_files,
    write_json,
)

SCHEDULES = [
    "constant",
    "linear",
    "cosine",
    "warmup_exponential",
    "warmup_step",
    "warmup_multistep",
    "one_cycle",
    "sgdr",
]
NO_WARMUP = {"constant"}  # transformers' "constant" is the no-warmup baseline
FIND_LR_ROW = "one_cycle + find_lr"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data_dir", default=default_data_dir(), help="SST-2 folder with train.tsv and dev.tsv")
    parser.add_argument("--train_size", type=int, default=3000, help="training subset: the first N rows")
    parser.add_argument(
        "--heldout_size",
        type=int,
        default=500,
        help="LR-selection set: the last N rows of train.tsv (never the dev set)",
    )
    parser.add_argument("--max_length", type=int, default=64)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument(
        "--warmup",
        type=float,
        default=0.06,
        help="warmup as a fraction of the updates (--num_warmup_steps), all but constant",
    )
    parser.add_argument(
        "--lr_grid",
        type=float,
        nargs="+",
        default=[5e-5, 1.5e-4, 4.5e-4],
        help="learning rates tried for every schedule (one_cycle: max_lr)",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--tune_seed", type=int, default=0)
    parser.add_argument(
        "--select_by",
        choices=["accuracy", "loss"],
        default="accuracy",
        help="held-out metric that picks each schedule's LR (accuracy: ties go to the lower loss)",
    )
    parser.add_argument("--schedules", nargs="+", default=SCHEDULES, help="schedule names to compare")
    parser.add_argument("--skip_find_lr", action="store_true", help="leave out the one_cycle + find_lr row")
    parser.add_argument(
        "--find_lr_num_steps",
        type=int,
        default=None,
        help="updates of each --find_lr probe (hf_lrsched.choose_lr; default: the recipe's, 5%% of the run)",
    )
    parser.add_argument("--budget_minutes", type=float, default=40.0, help="warn when the estimate exceeds this")
    parser.add_argument("--estimate_only", action="store_true", help="do the first run, print the estimate, stop")
    parser.add_argument(
        "--work_dir",
        default="/tmp/hf_lrsched_bench/schedule_quality",
        help="data subsets and run folders (outside the repo); reused runs make the study resumable",
    )
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    for flag in ("train_size", "heldout_size", "max_length", "batch_size", "epochs"):
        if getattr(args, flag) < 1:
            raise BenchmarkError(f"--{flag} must be >= 1, got {getattr(args, flag)}")
    if not 0 <= args.warmup < 1:
        raise BenchmarkError(f"--warmup must be a fraction in [0, 1), got {args.warmup}")
    if any(lr <= 0 for lr in args.lr_grid):
        raise BenchmarkError(f"--lr_grid values must be > 0, got {args.lr_grid}")
    return args


def write_subsets(train_tsv: Path, train_size: int, heldout_size: int, folder: Path) -> tuple[Path, Path]:
    """The training subset (first rows) and the held-out LR-selection set (last rows), as verbatim TSV lines.

    Held-out lines that also occur in the subset (SST-2 repeats some phrases) are dropped, so the
    two sets share no example.
    """
    header, *rows = train_tsv.read_text().splitlines(keepends=True)
    if train_size + heldout_size > len(rows):
        raise BenchmarkError(
            f"--train_size {train_size} + --heldout_size {heldout_size} exceed the {len(rows)} rows of {train_tsv}"
        )
    subset = rows[:train_size]
    seen = set(subset)
    heldout = [row for row in rows[len(rows) - heldout_size :] if row not in seen]
    folder.mkdir(parents=True, exist_ok=True)
    train_path, heldout_path = folder / f"train_first{train_size}.tsv", folder / f"heldout_last{heldout_size}.tsv"
    for path, lines in ((train_path, subset), (heldout_path, heldout)):
        text = header + "".join(lines)
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
    return train_path, heldout_path


def lr_tag(lr: float) -> str:
    return f"{lr:.3g}".replace("+", "")


class Study:
    """The planned runs, run (or reused) in order, with progress and a time estimate."""

    def __init__(self, args: argparse.Namespace, train_path: Path, heldout_path: Path, dev_path: Path):
        self.args, self.train_path, self.heldout_path, self.dev_path = args, train_path, heldout_path, dev_path
        # Runs of other sizes never mix: the folder names the settings that change what a run trains.
        self.runs_dir = Path(args.work_dir) / (
            f"runs_n{args.train_size}_h{args.heldout_size}_len{args.max_length}_b{args.batch_size}_e{args.epochs}"
            f"_w{args.warmup:g}"
        )
        self.done = 0
        self.total = 0
        self.extra_runs = 0.0  # the --find_lr probes' work, in training-run equivalents (for the estimate)
        self.new_seconds: list[float] = []
        self.reused = 0
        self.started = time.perf_counter()

    def flags(self, schedule: str, lr: float | None, seed: int, validation: Path, extra=()) -> list[str]:
        a = self.args
        warmup = 0 if schedule in NO_WARMUP else a.warmup
        flags = [
            "--train_file",
            str(self.train_path),
            "--validation_file",
            str(validation),
            "--max_length",
            str(a.max_length),
            "--per_device_train_batch_size",
            str(a.batch_size),
            "--num_train_epochs",
            str(a.epochs),
            "--lr_scheduler_type",
            schedule,
            "--num_warmup_steps",
            repr(warmup),
            "--seed",
            str(seed),
            "--logging_steps",
            "1",
            *extra,
        ]
        return flags + (["--learning_rate", repr(lr)] if lr is not None else [])

    def run(self, phase: str, label: str, folder: str, flags: list[str]) -> RunResult:
        result = run_recipe(label, flags, self.runs_dir / phase / folder, reuse=True)
        self.done += 1
        m = result.metrics
        how = "reused" if result.extra.get("reused") else f"{result.wall_seconds:.0f} s"
        if result.extra.get("reused"):
            self.reused += 1
        else:
            self.new_seconds.append(result.wall_seconds)
        print(
            f"  [{self.done}/{self.total}] {phase} {label}: acc {m['eval_accuracy']:.4f}, loss "
            f"{m['eval_loss']:.4f}, train_loss {m['train_loss']:.4f} ({how}){self.eta()}",
            flush=True,
        )
        return result

    def eta(self) -> str:
        if not self.new_seconds or self.done == self.total:
            return ""
        left = (self.total - self.done + self.extra_runs) * sum(self.new_seconds) / len(self.new_seconds)
        # A resumed study may reuse some of the runs still ahead, which this counts as new.
        return f"; {'at most' if self.reused else 'about'} {left / 60:.0f} min left"

    def estimate_minutes(self) -> float:
        per_run = sum(self.new_seconds) / len(self.new_seconds)
        return per_run * (self.total + self.extra_runs) / 60


def choose_lr(trials: dict[float, RunResult], by: str = "accuracy") -> float:
    """The LR with the best held-out accuracy (ties: lower loss), or with the lowest held-out loss."""

    def score(lr: float) -> tuple[float, float]:
        acc, loss = trials[lr].metrics["eval_accuracy"], trials[lr].metrics["eval_loss"]
        return (acc, -loss) if by == "accuracy" else (-loss, acc)

    return max(trials, key=score)


def find_lr_suggestion(metrics: dict) -> float | None:
    """The LR the recipe's ``--find_lr`` chose: ``metrics["find_lr"]["suggestion"]``."""
    test = metrics.get("find_lr")
    if isinstance(test, dict) and isinstance(test.get("suggestion"), (int, float)):
        return float(test["suggestion"])
    return None


def summarize(name: str, warmup: str, lr_text: str, results: list[RunResult]) -> tuple[list, dict]:
    accs = [r.metrics["eval_accuracy"] for r in results]
    train_losses = [r.metrics["train_loss"] for r in results]
    last = [r.final_train_loss for r in results if r.final_train_loss is not None]
    acc_mean, acc_std = mean_and_std(accs)
    loss_mean, loss_std = mean_and_std(train_losses)
    last_text = "n/a"
    if last:
        last_mean, last_std = mean_and_std(last)
        last_text = f"{last_mean:.3f} ± {last_std:.3f}"
    row = [
        name,
        warmup,
        lr_text,
        f"{100 * acc_mean:.2f} ± {100 * acc_std:.2f}",
        " / ".join(f"{100 * a:.1f}" for a in accs),
        f"{loss_mean:.3f} ± {loss_std:.3f}",
        last_text,
    ]
    record = {
        "schedule": name,
        "warmup": warmup,
        "learning_rate": lr_text,
        "dev_accuracy": accs,
        "dev_accuracy_mean": acc_mean,
        "dev_accuracy_std": acc_std,
        "train_loss": train_losses,
        "train_loss_mean": loss_mean,
        "final_train_loss": last,
        "wall_seconds": [r.wall_seconds for r in results],
    }
    return row, record


def main(argv=None) -> int:
    args = parse_args(argv)
    train_tsv, dev_tsv = sst2_files(args.data_dir)
    train_path, heldout_path = write_subsets(
        train_tsv, args.train_size, args.heldout_size, Path(args.work_dir) / "data"
    )
    flags_known = recipe_flags()
    with_find_lr = "--find_lr" in flags_known and not args.skip_find_lr
    find_lr_note = None
    if "--find_lr" not in flags_known and not args.skip_find_lr:
        find_lr_note = "the recipe has no --find_lr flag yet: the one_cycle + find_lr row is left out"
    info = machine()
    updates = args.epochs * -(-args.train_size // args.batch_size)
    print(
        f"machine: {info['cpu']}, {info['cpu_count']} CPU(s), torch {info['torch']} ({info['torch_threads']} "
        f"threads), CUDA {info['cuda']}; load average {info['load_average_at_start']}"
    )
    print(
        f"study: {len(args.schedules)} schedules x {len(args.lr_grid)} LRs (seed {args.tune_seed}, held-out "
        f"{heldout_path.name}) + {len(args.schedules)} x {len(args.seeds)} seeds on dev"
        f"{f' + find_lr x {len(args.seeds)} seeds' if with_find_lr else ''}; {args.train_size} training examples, "
        f"{updates} updates of {args.batch_size}, max_length {args.max_length}, warmup {args.warmup:g} "
        f"(constant: none)",
        flush=True,
    )
    if find_lr_note:
        print(f"note: {find_lr_note}", flush=True)

    study = Study(args, train_path, heldout_path, dev_tsv)
    study.total = len(args.schedules) * (len(args.lr_grid) + len(args.seeds)) + (len(args.seeds) if with_find_lr else 0)
    if with_find_lr:  # about 4 probes of --find_lr_num_steps updates (default 5% of the run) per seed
        probe_steps = args.find_lr_num_steps or max(6, -(-updates // 20))
        study.extra_runs = len(args.seeds) * 4 * probe_steps / updates

    # Phase 1: tune the LR on the held-out training rows. The first new run also times the study.
    tuning: dict[str, dict[float, RunResult]] = {}
    estimated = False
    for schedule in args.schedules:
        tuning[schedule] = {}
        for lr in args.lr_grid:
            flags = study.flags(schedule, lr, args.tune_seed, heldout_path)
            tuning[schedule][lr] = study.run("tune", f"{schedule} lr={lr:g}", f"{schedule}/lr{lr_tag(lr)}", flags)
            if study.new_seconds and not estimated:
                estimated = True
                minutes = study.estimate_minutes()
                extra = f" + {study.extra_runs:.1f} for the LR choice probes" if study.extra_runs else ""
                print(
                    f"estimate: {study.new_seconds[0]:.0f} s per run x ({study.total} runs{extra}) = about "
                    f"{minutes:.0f} min for the whole study (budget {args.budget_minutes:g} min)",
                    flush=True,
                )
                if minutes > args.budget_minutes:
                    print(
                        f"warning: over budget; lower --train_size or --max_length (runs done so far are kept "
                        f"in {args.work_dir})",
                        flush=True,
                    )
                if args.estimate_only:
                    return 0
    if args.estimate_only:
        print("estimate: every tuning run was already done (reused); nothing new to time", flush=True)
        return 0
    chosen = {schedule: choose_lr(trials, args.select_by) for schedule, trials in tuning.items()}

    # Phase 2: every seed at the chosen LR, on dev.
    final: dict[str, list[RunResult]] = {}
    for schedule in args.schedules:
        lr = chosen[schedule]
        final[schedule] = [
            study.run(
                "final",
                f"{schedule} lr={lr:g} seed={seed}",
                f"{schedule}/lr{lr_tag(lr)}_seed{seed}",
                study.flags(schedule, lr, seed, dev_tsv),
            )
            for seed in args.seeds
        ]
    # Phase 3: one_cycle with max_lr from --find_lr (hf_lrsched.choose_lr; before, the LR range test).
    find_lr_runs: list[RunResult] = []
    if with_find_lr:
        find_lr_runs = [
            study.run(
                "find_lr",
                f"one_cycle find_lr seed={seed}",
                f"one_cycle_choose_lr{args.find_lr_num_steps or ''}/seed{seed}",
                study.flags(
                    "one_cycle",
                    None,
                    seed,
                    dev_tsv,
                    extra=["--find_lr"]
                    + (["--find_lr_num_steps", str(args.find_lr_num_steps)] if args.find_lr_num_steps else []),
                ),
            )
            for seed in args.seeds
        ]
    total = time.perf_counter() - study.started

    grid_header = ["schedule", *[f"lr {lr:g}" for lr in args.lr_grid], "chosen lr"]
    grid_rows = [
        [
            s,
            *[
                f"{100 * tuning[s][lr].metrics['eval_accuracy']:.1f} / {tuning[s][lr].metrics['eval_loss']:.3f}"
                for lr in args.lr_grid
            ],
            f"{chosen[s]:g}",
        ]
        for s in args.schedules
    ]
    header = [
        "schedule",
        "warmup",
        "lr",
        "dev acc % (mean ± std)",
        "per seed",
        "train loss (run mean)",
        "train loss (last 10 updates)",
    ]
    rows, records = [], []
    for schedule in args.schedules:
        warmup = "none" if schedule in NO_WARMUP else f"{args.warmup:g}"
        row, record = summarize(schedule, warmup, f"{chosen[schedule]:g}", final[schedule])
        record["heldout_accuracy_by_lr"] = {
            repr(lr): tuning[schedule][lr].metrics["eval_accuracy"] for lr in args.lr_grid
        }
        record["heldout_loss_by_lr"] = {repr(lr): tuning[schedule][lr].metrics["eval_loss"] for lr in args.lr_grid}
        rows.append(row)
        records.append(record)
    if find_lr_runs:
        suggestions = [find_lr_suggestion(r.metrics) for r in find_lr_runs]
        found = [s for s in suggestions if s is not None]
        lr_text = "find_lr " + (" / ".join(f"{s:.2g}" for s in found) if found else "(not in metrics.json)")
        row, record = summarize(FIND_LR_ROW, f"{args.warmup:g}", lr_text, find_lr_runs)
        record["find_lr_suggestions"] = suggestions
        rows.append(row)
        records.append(record)
    elif find_lr_note:
        rows.append([FIND_LR_ROW, f"{args.warmup:g}", "n/a", "not run", "", "", ""])

    print()
    print(
        f"LR selection by held-out {args.select_by}: accuracy % / loss on {heldout_path.name} (last "
        f"{args.heldout_size} rows of train.tsv, disjoint from the training subset), seed {args.tune_seed}"
    )
    print()
    print(markdown_table(grid_header, grid_rows))
    print()
    print(
        f"SST-2 dev accuracy (872 sentences): MiniLM-L6, first {args.train_size} training examples, {updates} "
        f"updates of {args.batch_size}, max_length {args.max_length}, seeds {', '.join(map(str, args.seeds))}"
    )
    print()
    print(markdown_table(header, rows, align="llrrrrr"))
    print()
    if find_lr_note:
        print(f"note: {find_lr_note}")
    fresh = f"; {len(study.new_seconds)} new runs, {sum(study.new_seconds) / 60:.1f} min" if study.new_seconds else ""
    print(f"total study time: {total / 60:.1f} min{fresh}; load average at the end {load_average()}")
    if args.json:
        write_json(
            args.json,
            {
                "benchmark": "schedule_quality",
                "settings": vars(args),
                "machine": info,
                "updates": updates,
                "load_average_at_end": load_average(),
                "total_seconds": total,
                "find_lr_note": find_lr_note,
                "chosen_lr": chosen,
                "results": records,
                "runs": {
                    "tune": {s: {repr(lr): r.to_json() for lr, r in t.items()} for s, t in tuning.items()},
                    "final": {s: [r.to_json() for r in rs] for s, rs in final.items()},
                    "find_lr": [r.to_json() for r in find_lr_runs],
                },
            },
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
