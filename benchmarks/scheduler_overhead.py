"""Time per ``scheduler.step()``: hf-lrsched's schedules vs torch's native equivalents and transformers' linear.

Every scheduler is stepped in the same process, in interleaved repetitions (one timed block of each
per round, the order shuffled each round) so that machine noise hits them alike; the table reports
the median and the spread (interquartile range) over rounds, in microseconds per step, and each of
ours relative to its torch equivalent and to ``get_linear_schedule_with_warmup``.

    python benchmarks/scheduler_overhead.py --groups 1 8 --rounds 30 --steps 2000 --json out.json
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.optim import lr_scheduler as torch_sched
from transformers import get_linear_schedule_with_warmup

import hf_lrsched

TOTAL = 100_000  # schedule length: long enough that no timed block reaches the end


@dataclass(frozen=True)
class Case:
    label: str
    ours: Callable[[torch.optim.Optimizer], object]
    torch_equivalent: Callable[[torch.optim.Optimizer], object]


CASES = [
    Case(
        "warmup_exponential / ExponentialLR",
        lambda opt: hf_lrsched.get_exponential_schedule_with_warmup(opt, 0, TOTAL, gamma=0.9999),
        lambda opt: torch_sched.ExponentialLR(opt, gamma=0.9999),
    ),
    Case(
        "warmup_step / StepLR",
        lambda opt: hf_lrsched.get_step_schedule_with_warmup(opt, 0, TOTAL, step_size=1000, gamma=0.5),
        lambda opt: torch_sched.StepLR(opt, step_size=1000, gamma=0.5),
    ),
    Case(
        "warmup_multistep / MultiStepLR",
        lambda opt: hf_lrsched.get_multistep_schedule_with_warmup(opt, 0, TOTAL, milestones=[30_000, 60_000]),
        lambda opt: torch_sched.MultiStepLR(opt, milestones=[30_000, 60_000]),
    ),
    Case(
        "one_cycle / OneCycleLR",
        lambda opt: hf_lrsched.get_one_cycle_schedule(opt, 0, TOTAL, max_lr=0.1, pct_start=0.3),
        lambda opt: torch_sched.OneCycleLR(opt, max_lr=0.1, total_steps=TOTAL, pct_start=0.3),
    ),
    Case(
        "sgdr / CosineAnnealingWarmRestarts",
        lambda opt: hf_lrsched.get_sgdr_schedule_with_warmup(opt, 0, TOTAL, cycle_steps=500, cycle_mult=2),
        lambda opt: torch_sched.CosineAnnealingWarmRestarts(opt, T_0=500, T_mult=2),
    ),
    # two phases that switch at step 1000, inside the timed steps
    Case(
        "sequential / SequentialLR",
        lambda opt: hf_lrsched.get_sequential_schedule(
            opt,
            0,
            TOTAL,
            phases=[
                {"schedule": "warmup_exponential", "gamma": 0.9999, "length": 1000},
                {"schedule": "warmup_step", "step_size": 500, "gamma": 0.5},
            ],
        ),
        lambda opt: torch_sched.SequentialLR(
            opt,
            [torch_sched.ExponentialLR(opt, gamma=0.9999), torch_sched.StepLR(opt, step_size=500, gamma=0.5)],
            milestones=[1000],
        ),
    ),
]


def make_optimizer(groups: int) -> torch.optim.Optimizer:
    params = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.1 * (i + 1)} for i in range(groups)]
    return torch.optim.SGD(params, lr=0.1, momentum=0.9)


def time_steps(build: Callable, groups: int, steps: int) -> float:
    """Microseconds per scheduler.step() over ``steps`` steps of a fresh scheduler."""
    optimizer = make_optimizer(groups)
    scheduler = build(optimizer)
    optimizer._opt_called = True  # silence torch's "scheduler stepped before optimizer" check
    step = scheduler.step
    start = time.perf_counter_ns()
    for _ in range(steps):
        step()
    return (time.perf_counter_ns() - start) / steps / 1e3


def run(groups_list: list[int], rounds: int, steps: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    builders: dict[str, Callable] = {
        "transformers linear": lambda opt: get_linear_schedule_with_warmup(opt, 0, TOTAL),
    }
    for case in CASES:
        builders[f"ours: {case.label.split(' / ')[0]}"] = case.ours
        builders[f"torch: {case.label.split(' / ')[1]}"] = case.torch_equivalent
    rows = []
    for groups in groups_list:
        samples: dict[str, list[float]] = {name: [] for name in builders}
        for build in builders.values():  # warm-up round, not recorded
            time_steps(build, groups, steps // 10)
        for _ in range(rounds):
            order = list(builders)
            rng.shuffle(order)
            for name in order:
                samples[name].append(time_steps(builders[name], groups, steps))
        median = {name: statistics.median(values) for name, values in samples.items()}
        linear = median["transformers linear"]
        for case in CASES:
            ours_name, torch_label = case.label.split(" / ")
            ours = samples[f"ours: {ours_name}"]
            native = samples[f"torch: {torch_label}"]
            q_ours = statistics.quantiles(ours, n=4)
            q_native = statistics.quantiles(native, n=4)
            rows.append(
                {
                    "groups": groups,
                    "schedule": ours_name,
                    "torch": torch_label,
                    "ours_us": statistics.median(ours),
                    "ours_iqr_us": q_ours[2] - q_ours[0],
                    "torch_us": statistics.median(native),
                    "torch_iqr_us": q_native[2] - q_native[0],
                    "linear_us": linear,
                    "vs_torch": statistics.median(ours) / statistics.median(native),
                    "vs_linear": statistics.median(ours) / linear,
                }
            )
    return rows


def format_table(rows: list[dict]) -> str:
    lines = [
        "| groups | schedule | ours µs/step (IQR) | torch equivalent | torch µs/step (IQR) "
        "| ours/torch | ours/linear |",
        "| ---: | --- | ---: | --- | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['groups']} | {r['schedule']} | {r['ours_us']:.2f} ({r['ours_iqr_us']:.2f}) | {r['torch']} | "
            f"{r['torch_us']:.2f} ({r['torch_iqr_us']:.2f}) | {r['vs_torch']:.2f}× | {r['vs_linear']:.2f}× |"
        )
    linear = {r["groups"]: r["linear_us"] for r in rows}
    lines.append("")
    lines.append(
        "transformers get_linear_schedule_with_warmup: "
        + ", ".join(f"{g} group(s) {us:.2f} µs/step" for g, us in linear.items())
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", type=int, nargs="+", default=[1, 8], help="param-group counts to measure")
    parser.add_argument("--rounds", type=int, default=30, help="interleaved repetitions per scheduler")
    parser.add_argument("--steps", type=int, default=2000, help="scheduler steps per timed block")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    if args.rounds < 2 or args.steps < 1 or min(args.groups) < 1:
        parser.error("--rounds must be >= 2, --steps >= 1 and every --groups value >= 1")
    rows = run(args.groups, args.rounds, args.steps)
    print(f"torch {torch.__version__}, Python {platform.python_version()}, {platform.machine()}")
    print(format_table(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch": torch.__version__, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
