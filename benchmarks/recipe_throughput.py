"""Training throughput of the Accelerate recipe on SST-2: dynamic padding (with and without length grouping) vs
padding every text to ``--max_length`` as HF's example scripts do.

Each configuration is one real run of ``recipes/finetune_accelerate.py`` on the first
``--max_train_samples`` SST-2 training examples (same model, batch, schedule and seed), run back to
back in this one invocation; with ``--repeats`` > 1 the configurations are interleaved (the order
rotates each round) and the table shows the median and the range. Examples/s is the recipe's own
``train_samples_per_second`` (the training loop only); the wall time covers the whole run (start-up,
tokenizing, training, dev evaluation). The recipe evaluates once, at the end of the epoch, so the
"time to dev accuracy" reported is the wall time to that final accuracy.

    python benchmarks/recipe_throughput.py --data_dir ../shared/data/sst2 --json throughput.json
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from recipe_runs import (
    BenchmarkError,
    default_data_dir,
    load_average,
    machine,
    markdown_table,
    median_and_range,
    recipe_flags,
    run_cli,
    run_recipe,
    sst2_files,
    write_json,
)

# name -> (folder name, recipe flags); a configuration is left out where the recipe lacks one of its flags.
CONFIGS = {
    "dynamic padding": ("dynamic", ["--no_group_by_length"]),
    "dynamic padding + length grouping": ("dynamic_grouped", ["--group_by_length"]),
    "pad to max_length (HF examples)": ("max_length", ["--pad_to_max_length", "--no_group_by_length"]),
}
BASELINE = "pad to max_length (HF examples)"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data_dir", default=default_data_dir(), help="SST-2 folder with train.tsv and dev.tsv")
    parser.add_argument("--max_train_samples", type=int, default=4000, help="first N training examples")
    parser.add_argument("--max_length", type=int, default=128)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--lr_scheduler_type", default="one_cycle", help="same schedule for every run")
    parser.add_argument("--learning_rate", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=1, help="runs per configuration (interleaved)")
    parser.add_argument(
        "--work_dir",
        default="/tmp/hf_lrsched_bench/recipe_throughput",
        help="where the runs' output folders go (outside the repo)",
    )
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    for flag in ("max_train_samples", "max_length", "batch_size", "repeats"):
        if getattr(args, flag) < 1:
            raise BenchmarkError(f"--{flag} must be >= 1, got {getattr(args, flag)}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    train, dev = sst2_files(args.data_dir)
    flags_known = recipe_flags()
    configs = {name: spec for name, spec in CONFIGS.items() if all(flag in flags_known for flag in spec[1])}
    skipped = sorted(set(CONFIGS) - set(configs))
    common = [
        "--train_file",
        str(train),
        "--validation_file",
        str(dev),
        "--max_train_samples",
        str(args.max_train_samples),
        "--max_length",
        str(args.max_length),
        "--per_device_train_batch_size",
        str(args.batch_size),
        "--num_train_epochs",
        "1",
        "--lr_scheduler_type",
        args.lr_scheduler_type,
        "--learning_rate",
        repr(args.learning_rate),
        "--seed",
        str(args.seed),
    ]
    info = machine()
    print(
        f"machine: {info['cpu']}, {info['cpu_count']} CPU(s), torch {info['torch']} ({info['torch_threads']} "
        f"threads), CUDA {info['cuda']}; load average {info['load_average_at_start']}",
        flush=True,
    )
    if skipped:
        print(f"left out (the recipe lacks their flags): {', '.join(skipped)}", flush=True)

    runs: dict[str, list] = {name: [] for name in configs}
    names = list(configs)
    started = time.perf_counter()
    for round_index in range(args.repeats):
        order = names[round_index % len(names) :] + names[: round_index % len(names)]
        for name in order:
            slug, flags = configs[name]
            result = run_recipe(name, [*common, *flags], Path(args.work_dir) / f"{slug}_r{round_index}")
            m = result.metrics
            print(
                f"  [{round_index + 1}/{args.repeats}] {name}: {m['train_samples_per_second']:.1f} examples/s, "
                f"train {m['train_runtime']:.1f} s, wall {result.wall_seconds:.1f} s, "
                f"dev acc {m['eval_accuracy']:.4f}",
                flush=True,
            )
            runs[name].append(result)
    total = time.perf_counter() - started

    baseline = None
    if BASELINE in runs:
        baseline = median_and_range([r.metrics["train_samples_per_second"] for r in runs[BASELINE]])[0]
    header = [
        "padding",
        "train examples/s (median; min-max)",
        "vs max_length",
        "train loop s",
        "wall s to final dev acc",
        "dev accuracy",
        "train loss (mean)",
    ]
    rows, summary = [], []
    for name, results in runs.items():
        speed, low, high = median_and_range([r.metrics["train_samples_per_second"] for r in results])
        train_s = median_and_range([r.metrics["train_runtime"] for r in results])[0]
        wall = median_and_range([r.wall_seconds for r in results])[0]
        acc = median_and_range([r.metrics["eval_accuracy"] for r in results])[0]
        loss = median_and_range([r.metrics["train_loss"] for r in results])[0]
        ratio = speed / baseline if baseline else None
        spread = f"{speed:.1f}" if len(results) == 1 else f"{speed:.1f}; {low:.1f}-{high:.1f}"
        rows.append(
            [
                name,
                spread,
                f"{ratio:.2f}x" if ratio else "n/a",
                f"{train_s:.1f}",
                f"{wall:.1f}",
                f"{acc:.4f}",
                f"{loss:.4f}",
            ]
        )
        summary.append(
            {
                "config": name,
                "examples_per_second_median": speed,
                "examples_per_second_min": low,
                "examples_per_second_max": high,
                "speedup_vs_max_length": ratio,
                "train_runtime_median": train_s,
                "wall_seconds_median": wall,
                "eval_accuracy_median": acc,
                "train_loss_median": loss,
            }
        )
    print()
    print(
        f"SST-2, first {args.max_train_samples} training examples, MiniLM-L6, batch {args.batch_size}, "
        f"max_length {args.max_length}, {args.lr_scheduler_type} lr {args.learning_rate:g}, seed {args.seed}, "
        f"1 epoch, {args.repeats} run(s) per row; dev = {dev.name} (evaluated once, at the end)"
    )
    print()
    print(markdown_table(header, rows))
    print()
    print(f"total benchmark time: {total / 60:.1f} min; load average at the end {load_average()}")
    if args.json:
        write_json(
            args.json,
            {
                "benchmark": "recipe_throughput",
                "settings": vars(args),
                "machine": info,
                "load_average_at_end": load_average(),
                "total_seconds": total,
                "skipped_configs": skipped,
                "summary": summary,
                "runs": {name: [r.to_json() for r in results] for name, results in runs.items()},
            },
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
