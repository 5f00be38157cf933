"""Only the LR choice, no training: ``choose_lr`` on setting A's training data for several seeds and probe lengths.

Shows how stable the choice is across seeds (the runs' own data order and head initialisation)
and what a probe length costs, without the full runs of ``benchmarks/lr_choice.py``. It builds each
seed's run exactly as ``recipes/finetune_accelerate.py`` does (same model, data, sampler, optimizer)
and reads training data only.

    python benchmarks/lr_choice_probes.py --probe_steps 6 10
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from lr_choice import write_train_subset
from recipe_runs import REPO_ROOT, default_data_dir, run_cli, sst2_files


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data_dir", default=default_data_dir())
    parser.add_argument("--train_size", type=int, default=3000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--probe_steps", type=int, nargs="+", default=[6, 10])
    parser.add_argument("--schedule", default="linear")
    parser.add_argument("--work_dir", default=str(REPO_ROOT / "runs" / "lr_choice"))
    args = parser.parse_args(argv)
    os.environ.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    train_tsv, dev_tsv = sst2_files(args.data_dir)
    train = write_train_subset(train_tsv, args.train_size, Path(args.work_dir) / "data")
    sys.path.insert(0, str(REPO_ROOT / "recipes"))
    import finetune_accelerate as recipe
    from common import DataArguments, ModelArguments
    from transformers import HfArgumentParser

    from hf_lrsched import choose_lr

    for seed in args.seeds:
        flags = ["--output_dir", str(Path(args.work_dir) / "probes"), "--seed", str(seed), "--train_file", str(train)]
        flags += ["--validation_file", str(dev_tsv), "--max_length", "64", "--per_device_train_batch_size", "32"]
        parser = HfArgumentParser((ModelArguments, DataArguments, recipe.TrainArguments))
        run = recipe.build_run(*parser.parse_args_into_dataclasses(flags))
        for steps in args.probe_steps:
            started = time.perf_counter()
            choice = choose_lr(
                run.model, run.optimizer, run.train_dataloader, num_training_steps=len(run.train_dataloader),
                schedule=args.schedule, num_warmup_steps=0.06, accelerator=run.accelerator, probe_steps=steps,
                show_progress=False,
            )  # fmt: skip
            tried = ", ".join(
                f"{lr:.2g}: {loss:.4f}" for lr, loss in sorted(zip(choice.probe_lrs, choice.heldout_losses))
            )
            print(
                f"seed {seed}, {steps}-update probes: LR {choice.lr:.3g} (probe optimum {choice.probe_lr:.3g}; "
                f"held-out loss {tried}) in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
