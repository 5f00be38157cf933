"""Only the LR choice, no training: ``choose_lr`` on a setting's training data for several seeds and probe shapes.

Shows how stable the choice is across seeds (the runs' own data order and head initialisation)
and what a probe shape costs, without the full runs of ``benchmarks/lr_choice.py``. It builds each
seed's run exactly as ``recipes/finetune_accelerate.py`` does (same model, data, sampler, optimizer)
and reads training data only: the validation split is loaded by the recipe but never evaluated.

    python benchmarks/lr_choice_probes.py --setting tweets --probe_steps 6 9 --heldout_examples 128 256
    python benchmarks/lr_choice_probes.py --train_size 2000 --train_offset 3000 --batch_size 16 --schedules linear
    python benchmarks/lr_choice_probes.py --setting tweets --grid_json docs/lr_choice_results_v5.json

With ``--grid_json`` (a study of ``benchmarks/lr_choice.py``) each choice is also placed on that study's grid:
the grid's mean dev accuracy at the chosen LR, interpolated linearly in log LR (held at the ends),
minus the best grid mean. It is a proxy read off dev results (so a method picked with it is picked
after seeing them), not a run.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import sys
import time
from pathlib import Path

from lr_choice import SETTINGS, write_train_subset
from recipe_runs import REPO_ROOT, default_data_dir, run_cli, sst2_files


def setting_flags(args: argparse.Namespace) -> list[str]:
    if args.setting == "tweets":
        return []  # the recipe's default data
    train_tsv, dev_tsv = sst2_files(args.data_dir)
    train = write_train_subset(train_tsv, args.train_size, Path(args.work_dir) / "data", args.train_offset)
    return ["--train_file", str(train), "--validation_file", str(dev_tsv), "--max_length", str(args.max_length)]


def grid_gap(grid_json: str | None, setting: str, schedule: str, lr: float) -> str:
    """`` grid proxy -0.54`` : the grid's mean accuracy at ``lr`` (log-linear) minus its best mean, in points."""
    if grid_json is None:
        return ""
    grid = json.loads(Path(grid_json).read_text())["results"][setting][schedule]["grid_accuracy"]
    points = sorted((math.log(float(k)), 100 * sum(v) / len(v)) for k, v in grid.items() if v)
    xs, ys = zip(*points, strict=True)
    x = min(max(math.log(lr), xs[0]), xs[-1])
    at = next(i for i in range(1, len(xs)) if x <= xs[i])
    y = ys[at - 1] + (ys[at] - ys[at - 1]) * (x - xs[at - 1]) / (xs[at] - xs[at - 1])
    return f"; grid proxy {y - max(ys):+.2f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setting", choices=SETTINGS, default="sst2")
    parser.add_argument("--data_dir", default=default_data_dir())
    parser.add_argument("--train_size", type=int, default=3000, help="sst2: N rows of train.tsv")
    parser.add_argument("--train_offset", type=int, default=0, help="sst2: skip this many rows first")
    parser.add_argument("--max_length", type=int, default=64, help="sst2: the recipe's --max_length")
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--probe_steps", type=int, nargs="+", default=[None], help="updates per probe (default: choose_lr's)"
    )
    parser.add_argument("--heldout_examples", type=int, nargs="+", default=[128])
    parser.add_argument("--schedules", nargs="+", default=["linear"])
    parser.add_argument("--factor", type=float, default=2.0, help="choose_lr's factor between probe LRs")
    parser.add_argument("--grid_json", help="a study of benchmarks/lr_choice.py: place each choice on its grid")
    parser.add_argument("--work_dir", default=str(REPO_ROOT / "runs" / "lr_choice"))
    args = parser.parse_args(argv)
    os.environ.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    sys.path.insert(0, str(REPO_ROOT / "recipes"))
    import finetune_accelerate as recipe
    from common import DataArguments, ModelArguments
    from transformers import HfArgumentParser

    from hf_lrsched import choose_lr

    for seed in args.seeds:
        flags = ["--output_dir", str(Path(args.work_dir) / "probes"), "--seed", str(seed), *setting_flags(args)]
        flags += ["--per_device_train_batch_size", str(args.batch_size)]
        parser = HfArgumentParser((ModelArguments, DataArguments, recipe.TrainArguments))
        run = recipe.build_run(*parser.parse_args_into_dataclasses(flags))
        for schedule, steps, examples in itertools.product(args.schedules, args.probe_steps, args.heldout_examples):
            started = time.perf_counter()
            choice = choose_lr(
                run.model, run.optimizer, run.train_dataloader, num_training_steps=len(run.train_dataloader),
                schedule=schedule, num_warmup_steps=0.06, accelerator=run.accelerator, probe_steps=steps,
                heldout_batches=max(2, math.ceil(examples / args.batch_size)), show_progress=False,
                factor=args.factor,
            )  # fmt: skip
            tried = ", ".join(
                f"{lr:.2g}: {loss:.4f}" for lr, loss in sorted(zip(choice.probe_lrs, choice.heldout_losses))
            )
            print(
                f"{args.setting} {schedule} seed {seed}, {choice.probe_steps}-update probes, "
                f"{choice.heldout_examples} held out: "
                f"LR {choice.lr:.3g} (probes {choice.probe_choice:.3g} = optimum {choice.probe_lr:.3g} x "
                f"{choice.horizon_factor:.3f}; {'trusted' if choice.reliable else 'NOT trusted'}: moved "
                f"{choice.movement:.4f} from {choice.start_loss:.4f}, noise {choice.noise:.4f}; "
                f"held-out loss {tried}) in {time.perf_counter() - started:.0f} s"
                f"{grid_gap(args.grid_json, args.setting, schedule, choice.lr)}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
