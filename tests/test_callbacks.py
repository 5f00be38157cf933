"""Per-group LR and beta1 monitoring through a real Trainer and a real Accelerate loop."""

from __future__ import annotations

import os

import pytest
import torch
import transformers
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainerCallback, TrainingArguments

from hf_lrsched import LRMonitorCallback, get_scheduler, log_lrs, schedules

os.environ.setdefault("HF_HUB_OFFLINE", "1")

STEPS = 12
BASE_LRS = (1e-3, 3e-3)


def _tiny_bert() -> BertForSequenceClassification:
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=24,
        max_position_embeddings=16, num_labels=2,
    )  # fmt: skip
    return BertForSequenceClassification(config)


def _examples(n: int = 48) -> list[dict]:
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(1, 64, (n, 8), generator=generator)
    return [{"input_ids": ids[i], "labels": torch.tensor(int(ids[i, 0] % 2))} for i in range(n)]


def _two_group_adamw(model) -> torch.optim.AdamW:
    head = [p for n, p in model.named_parameters() if n.startswith("classifier")]
    body = [p for n, p in model.named_parameters() if not n.startswith("classifier")]
    return torch.optim.AdamW([{"params": body, "lr": BASE_LRS[0]}, {"params": head, "lr": BASE_LRS[1]}])


class SeenLogs(TrainerCallback):
    """What a reporting integration would receive in on_log."""

    def __init__(self):
        self.logs = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        self.logs.append(dict(logs))


def _trainer(tmp_path, callbacks, **overrides) -> Trainer:
    model = _tiny_bert()
    settings = dict(
        output_dir=str(tmp_path), max_steps=STEPS, per_device_train_batch_size=4, logging_steps=1,
        lr_scheduler_type="one_cycle", lr_scheduler_kwargs={"pct_start": 0.3}, use_cpu=True, report_to=[],
        save_strategy="no", disable_tqdm=True, seed=0,
    )  # fmt: skip
    args = TrainingArguments(**{**settings, **overrides})
    return Trainer(
        model=model, args=args, train_dataset=_examples(), optimizers=(_two_group_adamw(model), None),
        callbacks=callbacks,
    )  # fmt: skip


def _train_logs(trainer) -> list[dict]:
    trainer.train()
    return [entry for entry in trainer.state.log_history if "learning_rate" in entry]


def test_trainer_logs_every_group_lr_and_beta1_exactly(tmp_path):
    seen = SeenLogs()
    trainer = _trainer(tmp_path, [seen])
    LRMonitorCallback.attach(trainer)
    logs = _train_logs(trainer)
    lr_of = schedules.one_cycle_schedule(STEPS, pct_start=0.3)
    beta1_of = schedules.one_cycle_momentum_schedule(STEPS, pct_start=0.3)
    assert [entry["step"] for entry in logs] == list(range(1, STEPS + 1))
    for entry in logs:
        update = entry["step"] - 1  # the update this log follows
        for group, base in enumerate(BASE_LRS):
            assert entry[f"lr/group_{group}"] == base * lr_of(update)  # exact, not rounded
            assert entry[f"beta1/group_{group}"] == beta1_of(update)
        if int(transformers.__version__.split(".")[0]) >= 5:  # 5.x reads learning_rate at the same moment
            assert entry["learning_rate"] == entry["lr/group_0"]
    # The betas really cycled (not a constant 0.9), and group 1 is not a copy of group 0.
    assert len({entry["beta1/group_0"] for entry in logs}) > 5
    assert logs[3]["lr/group_1"] == 3 * logs[3]["lr/group_0"]
    # Attached first, the keys reach every other callback (as TensorBoard / W&B would see them).
    reported = [log for log in seen.logs if "learning_rate" in log]
    assert [log["lr/group_1"] for log in reported] == [entry["lr/group_1"] for entry in logs]


def test_callback_passed_in_callbacks_still_fills_log_history(tmp_path):
    seen = SeenLogs()
    trainer = _trainer(tmp_path, [seen, LRMonitorCallback(momentum=False)])
    logs = _train_logs(trainer)
    assert all("lr/group_1" in entry and "beta1/group_0" not in entry for entry in logs)
    assert not any("lr/group_1" in log for log in seen.logs)  # it ran before the monitor
    final = trainer.state.log_history[-1]
    assert "train_runtime" in final and "lr/group_0" not in final  # the summary entry is left alone


def test_attach_twice_keeps_one_monitor(tmp_path):
    trainer = _trainer(tmp_path, [LRMonitorCallback()])
    first = LRMonitorCallback.attach(trainer)
    second = LRMonitorCallback.attach(trainer)
    monitors = [cb for cb in trainer.callback_handler.callbacks if isinstance(cb, LRMonitorCallback)]
    assert monitors == [second] and second is not first
    assert trainer.callback_handler.callbacks[0] is second


def test_accelerate_loop_logs_through_the_accelerator():
    import accelerate  # a hard dependency of hf-lrsched: never skipped
    from accelerate.tracking import GeneralTracker

    class ListTracker(GeneralTracker):
        name = "list"
        requires_logging_directory = False

        def __init__(self):
            super().__init__()
            self.records = []

        @property
        def tracker(self):
            return self.records

        def log(self, values, step=None, **kwargs):
            self.records.append((step, dict(values)))

    tracker = ListTracker()
    accelerator = accelerate.Accelerator(cpu=True, log_with=[tracker])
    accelerator.init_trackers("lr-monitor-test")
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(
        [{"params": [model.weight], "lr": 0.1}, {"params": [model.bias], "lr": 0.02}], momentum=0.9
    )
    scheduler = get_scheduler("one_cycle", optimizer, 0, 20, {"pct_start": 0.25})
    model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)
    returned = []
    for step in range(20):
        loss = model(torch.randn(4, 3)).pow(2).mean()
        accelerator.backward(loss)
        optimizer.step()
        returned.append(log_lrs(optimizer, accelerator, step=step))
        scheduler.step()
        optimizer.zero_grad()
    accelerator.end_training()
    lr_of = schedules.one_cycle_schedule(20, pct_start=0.25)
    momentum_of = schedules.one_cycle_momentum_schedule(20, pct_start=0.25)
    assert [step for step, _ in tracker.records] == list(range(20))
    for step, values in tracker.records:
        assert values == returned[step]
        assert values["lr/group_0"] == 0.1 * lr_of(step) and values["lr/group_1"] == 0.02 * lr_of(step)
        assert values["momentum/group_0"] == values["momentum/group_1"] == momentum_of(step)


def test_warns_when_it_runs_after_reporting_callbacks(monkeypatch):
    from types import SimpleNamespace

    from transformers.trainer_callback import TrainerControl, TrainerState

    from hf_lrsched import callbacks

    warnings = []
    monkeypatch.setattr(callbacks.logger, "warning", lambda message, *args: warnings.append(message % args))
    for report_to, first, expected in ((["wandb"], False, 1), (["wandb"], True, 0), ([], False, 0), ("none", False, 0)):
        warnings.clear()
        monitor = LRMonitorCallback()
        monitor.first = first
        monitor.on_train_begin(SimpleNamespace(report_to=report_to), TrainerState(), TrainerControl())
        assert len(warnings) == expected, report_to
    monitor = LRMonitorCallback()
    monitor.on_train_begin(SimpleNamespace(report_to=["tensorboard", "wandb"]), TrainerState(), TrainerControl())
    assert "tensorboard, wandb" in warnings[-1] and "LRMonitorCallback.attach(trainer)" in warnings[-1]


def _torch_one_cycle(steps: int, base_lrs) -> list[list[tuple[float, float]]]:
    """(lr, beta1) of each group at each update, from torch's own OneCycleLR (the reference)."""
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in base_lrs]
    optimizer = torch.optim.AdamW([{"params": [p], "lr": lr} for p, lr in zip(params, base_lrs, strict=True)])
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=list(base_lrs), total_steps=steps, pct_start=0.3)
    seen = []
    for _ in range(steps):
        seen.append([(group["lr"], group["betas"][0]) for group in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    return seen


def test_keep_history_records_every_update_not_only_the_logged_ones(tmp_path):
    # Logs at updates 5 and 10 only; an update is two batches (the history counts updates).
    trainer = _trainer(tmp_path, [], logging_steps=5, gradient_accumulation_steps=2)
    monitor = LRMonitorCallback.attach(trainer, keep_history=True)
    logs = _train_logs(trainer)
    assert [entry["step"] for entry in logs] == [5, 10]
    assert trainer.state.epoch == 2.0  # 12 updates of 2 batches = 24 batches = two epochs of 48 / 4
    assert [row["step"] for row in monitor.history] == list(range(STEPS))
    for row, groups in zip(monitor.history, _torch_one_cycle(STEPS, BASE_LRS), strict=True):
        for i, (lr, beta1) in enumerate(groups):
            assert row[f"lr/group_{i}"] == pytest.approx(lr, rel=1e-12)
            assert row[f"beta1/group_{i}"] == pytest.approx(beta1, rel=1e-12)
    # The logged entries hold the same values as the history rows of their updates.
    assert logs[0]["lr/group_1"] == monitor.history[4]["lr/group_1"]


def test_history_is_empty_unless_asked_for(tmp_path):
    trainer = _trainer(tmp_path, [])
    monitor = LRMonitorCallback.attach(trainer)
    _train_logs(trainer)
    assert monitor.history == [] and monitor.keep_history is False
