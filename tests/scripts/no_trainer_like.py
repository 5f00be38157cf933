"""A training script in the shape of transformers' ``examples/pytorch/*/run_*_no_trainer.py``, for the tests.

Like those scripts it declares ``--lr_scheduler_type`` with ``type=SchedulerType`` and a hard-coded
``choices`` list, has no ``--lr_scheduler_kwargs``, builds the scheduler with
``transformers.get_scheduler`` with the step counts multiplied by ``num_processes``, and hands it to
``accelerator.prepare`` (which then steps it ``num_processes`` times per update). It never imports
hf_lrsched. The model is one linear layer on random data; the main process writes the LR of every
optimizer update to ``--output`` as JSON.
"""

import argparse
import json

import torch
from accelerate import Accelerator
from transformers import SchedulerType, get_scheduler


def parse_args():
    parser = argparse.ArgumentParser(description="A run_*_no_trainer.py-shaped script for tests.")
    parser.add_argument("--learning_rate", type=float, default=1e-2, help="Initial learning rate.")
    parser.add_argument("--per_device_train_batch_size", type=int, default=2)
    parser.add_argument("--max_train_steps", type=int, default=20, help="Total number of optimizer updates.")
    parser.add_argument(
        "--lr_scheduler_type",
        type=SchedulerType,
        default="linear",
        help="The scheduler type to use.",
        choices=["linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup"],
    )
    parser.add_argument("--num_warmup_steps", type=int, default=0, help="Number of steps for the warmup.")
    parser.add_argument("--output", type=str, required=True, help="Where to write the LR of each update (JSON).")
    parser.add_argument(
        "--no_end_training", action="store_true", help="Never destroy the process group, as some scripts do not."
    )
    return parser.parse_args()


def main():
    args = parse_args()
    accelerator = Accelerator()
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    data = torch.utils.data.TensorDataset(torch.randn(64, 4), torch.randn(64, 1))
    loader = torch.utils.data.DataLoader(data, batch_size=args.per_device_train_batch_size, shuffle=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate)
    lr_scheduler = get_scheduler(
        name=args.lr_scheduler_type,
        optimizer=optimizer,
        num_warmup_steps=args.num_warmup_steps * accelerator.num_processes,
        num_training_steps=args.max_train_steps * accelerator.num_processes,
    )
    model, optimizer, loader, lr_scheduler = accelerator.prepare(model, optimizer, loader, lr_scheduler)

    lrs = []
    while len(lrs) < args.max_train_steps:
        for inputs, targets in loader:
            loss = torch.nn.functional.mse_loss(model(inputs), targets)
            accelerator.backward(loss)
            lrs.append(optimizer.param_groups[0]["lr"])  # the LR this update uses
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()
            if len(lrs) == args.max_train_steps:
                break

    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        result = {"num_processes": accelerator.num_processes, "lr_scheduler_type": args.lr_scheduler_type.value}
        with open(args.output, "w") as handle:
            json.dump({**result, "lrs": lrs}, handle)
    if not args.no_end_training:
        accelerator.end_training()


if __name__ == "__main__":
    main()
