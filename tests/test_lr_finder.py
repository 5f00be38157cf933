"""The LR range test on real small problems: curve, suggestions, early stop, exact restore, Trainer, Accelerate."""

from __future__ import annotations

import copy
import math
import os
import random

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from hf_lrsched import LRFinderResult, find_lr

os.environ.setdefault("HF_HUB_OFFLINE", "1")


# ----------------------------------------------------------------------------------------------
# A small regression problem with dropout and batch norm (RNG use and buffers to restore).
# ----------------------------------------------------------------------------------------------


def _regression_data(n=512, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=generator)
    y = x @ torch.linspace(-2, 2, 8) + 0.1 * torch.randn(n, generator=generator)
    return list(zip(x, y, strict=True))


class CountCalls(torch.nn.Module):
    """Identity with a non-persistent buffer (not in the state dict) that training changes."""

    def __init__(self):
        super().__init__()
        self.register_buffer("calls", torch.zeros(()), persistent=False)

    def forward(self, x):
        self.calls += 1
        return x


def _net(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(8, 32), torch.nn.BatchNorm1d(32), torch.nn.ReLU(), torch.nn.Dropout(0.1),
        torch.nn.Linear(32, 1), CountCalls(),
    )  # fmt: skip


def mse(model, batch):
    x, y = batch
    return F.mse_loss(model(x).squeeze(-1), y)


def _setup(seed=0, optimizer="sgd"):
    model = _net(seed)
    head, body = list(model[4].parameters()), [p for m in list(model)[:4] for p in m.parameters()]
    if optimizer == "sgd":
        opt = torch.optim.SGD([{"params": body}, {"params": head, "lr": 0.003, "momentum": 0.5}], lr=0.01, momentum=0.9)
    else:
        opt = torch.optim.AdamW([{"params": body}, {"params": head, "lr": 3e-4, "betas": (0.8, 0.99)}], lr=1e-3)
    loader = torch.utils.data.DataLoader(
        _regression_data(), batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(seed)
    )
    return model, opt, loader


def _train(model, opt, loader, steps):
    model.train()
    done = 0
    while done < steps:
        for batch in loader:
            opt.zero_grad()
            mse(model, batch).backward()
            opt.step()
            done += 1
            if done == steps:
                break


def _assert_same_tensors(a: dict, b: dict):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]) and a[key].dtype == b[key].dtype, key


def _optimizer_snapshot(opt):
    state = {
        i: {k: v.clone() if torch.is_tensor(v) else v for k, v in s.items()} for i, s in enumerate(opt.state.values())
    }
    groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    return state, copy.deepcopy(groups)


# ----------------------------------------------------------------------------------------------
# The curve and the suggestions.
# ----------------------------------------------------------------------------------------------


def test_range_test_records_a_curve_and_suggests_inside_the_range():
    model, opt, loader = _setup()
    result = find_lr(model, opt, loader, loss_fn=mse, num_steps=80, end_lr=10.0, show_progress=False)
    n = len(result.lrs)
    assert 20 < n <= 80 and len(result.losses) == len(result.smoothed_losses) == n
    assert result.lrs == [1e-7 * (10.0 / 1e-7) ** (i / 79) for i in range(n)]
    # Bias-corrected EMA of the raw losses.
    average = 0.0
    for i, (raw, smooth) in enumerate(zip(result.losses, result.smoothed_losses, strict=True)):
        average = 0.95 * average + 0.05 * raw
        assert smooth == pytest.approx(average / (1 - 0.95 ** (i + 1)), rel=1e-12)
    assert result.smoothed_losses[0] == pytest.approx(result.losses[0], rel=1e-12)
    assert set(result.suggestions) == {"valley", "steepest", "minimum"}
    start = result.smoothed_losses[0]
    assert min(result.smoothed_losses) < 0.75 * start  # the test found the descent
    for method, lr in result.suggestions.items():
        assert 1e-7 <= lr <= 10.0, method
        # Every suggestion sits where training makes progress: the smoothed loss is below its start.
        at = np.interp(np.log(lr), np.log(result.lrs), result.smoothed_losses)
        assert at < start, method
    assert result.suggestions["steepest"] > result.suggestions["valley"] > 1e-4  # not on the flat start
    assert result.suggestion == result.suggestions["valley"]
    assert "suggested LR" in str(result)


def test_linear_mode_steps_the_lr_linearly():
    model, opt, loader = _setup(optimizer="adamw")
    result = find_lr(
        model, opt, loader, loss_fn=mse, start_lr=1e-4, end_lr=0.05, num_steps=30, mode="linear",
        diverge_threshold=None, suggest="steepest", show_progress=False,
    )  # fmt: skip
    assert len(result.lrs) == 30 and not result.stopped_early
    np.testing.assert_allclose(np.diff(result.lrs), (0.05 - 1e-4) / 29, rtol=1e-9)
    assert result.lrs[-1] == pytest.approx(0.05, rel=1e-15)
    assert result.suggestion == result.suggestions["steepest"] and 1e-4 <= result.suggestion <= 0.05


def test_divergence_stops_the_test_early():
    model, opt, loader = _setup()
    result = find_lr(model, opt, loader, loss_fn=mse, end_lr=1e6, num_steps=100, show_progress=False)
    assert result.stopped_early and len(result.lrs) < 100
    assert "x best" in result.stop_reason
    assert result.smoothed_losses[-1] > 4.0 * min(result.smoothed_losses)
    assert all(s <= 4.0 * min(result.smoothed_losses[: i + 1]) for i, s in enumerate(result.smoothed_losses[:-1]))
    assert 1e-7 <= result.suggestion <= result.lrs[-1]


def test_non_finite_loss_stops_the_test_even_without_a_threshold():
    model, opt, loader = _setup()
    result = find_lr(
        model, opt, loader, loss_fn=mse, end_lr=1e30, num_steps=60, diverge_threshold=None, show_progress=False
    )
    assert result.stopped_early and "loss became" in result.stop_reason
    assert all(math.isfinite(v) for v in result.losses)


def test_accumulation_steps_batches_per_update():
    model, opt, loader = _setup()
    calls = []

    def counting(model, batch):
        calls.append(len(batch[1]))
        return mse(model, batch)

    result = find_lr(model, opt, loader, loss_fn=counting, num_steps=12, accumulation_steps=3,
                     diverge_threshold=None, show_progress=False)  # fmt: skip
    assert len(result.lrs) == 12 and len(calls) == 36  # 36 batches > one pass of 16: the loader was cycled


# ----------------------------------------------------------------------------------------------
# Exact restore.
# ----------------------------------------------------------------------------------------------


def test_everything_is_restored_bit_identically_and_training_continues_identically():
    reference, ref_opt, ref_loader = _setup(optimizer="adamw")
    model, opt, loader = _setup(optimizer="adamw")
    for m, o, dl in ((reference, ref_opt, ref_loader), (model, opt, loader)):
        torch.manual_seed(1)
        _train(m, o, dl, 5)  # non-empty Adam state
        m.eval()
        m[3].train()  # mixed train/eval modes
        mse(m, next(iter(dl))).backward()  # pending gradients
    random.seed(3)
    np.random.seed(3)
    torch.manual_seed(3)
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    calls = model[5].calls.item()
    grads = [p.grad.clone() for p in model.parameters()]
    state, groups = _optimizer_snapshot(opt)
    rng = (torch.get_rng_state(), random.getstate(), np.random.get_state(), loader.generator.get_state())

    result = find_lr(model, opt, loader, loss_fn=mse, num_steps=40, end_lr=1.0, show_progress=False)
    assert len(result.lrs) > 10

    _assert_same_tensors(model.state_dict(), weights)  # incl. BatchNorm running stats
    assert model[5].calls.item() == calls == 6  # 5 updates and 1 pending backward
    assert all(torch.equal(p.grad, g) for p, g in zip(model.parameters(), grads, strict=True))
    assert [m.training for m in model.modules()] == [False, False, False, False, True, False, False]
    after_state, after_groups = _optimizer_snapshot(opt)
    assert after_groups == groups  # lr, betas, weight_decay, ... of both groups
    assert after_state.keys() == state.keys()
    for i in state:
        _assert_same_tensors(after_state[i], state[i])
    assert torch.equal(torch.get_rng_state(), rng[0]) and random.getstate() == rng[1]
    assert all(np.array_equal(a, b) for a, b in zip(np.random.get_state(), rng[2], strict=True))
    assert torch.equal(loader.generator.get_state(), rng[3])

    # The real run after the test is the run without it.
    for m, o, dl in ((reference, ref_opt, ref_loader), (model, opt, loader)):
        torch.manual_seed(3)  # the same dropout masks for both
        m.train()
        o.step()
        _train(m, o, dl, 7)
    _assert_same_tensors(model.state_dict(), reference.state_dict())


def test_restored_even_when_the_loss_function_raises():
    model, opt, loader = _setup()
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    calls = []

    def failing(model, batch):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("boom")
        return mse(model, batch)

    with pytest.raises(RuntimeError, match="boom"):
        find_lr(model, opt, loader, loss_fn=failing, num_steps=10, end_lr=1.0, show_progress=False)
    _assert_same_tensors(model.state_dict(), weights)
    assert opt.param_groups[0]["lr"] == 0.01 and opt.param_groups[1]["lr"] == 0.003 and not opt.state


# ----------------------------------------------------------------------------------------------
# Accelerate and Trainer.
# ----------------------------------------------------------------------------------------------


def test_accelerate_prepared_loop_with_gradient_accumulation():
    import accelerate  # a hard dependency of hf-lrsched: never skipped

    accelerator = accelerate.Accelerator(cpu=True, gradient_accumulation_steps=2)
    model, opt, loader = _setup()
    reference, ref_opt, ref_loader = _setup()
    model, opt, loader = accelerator.prepare(model, opt, loader)
    torch.manual_seed(5)
    calls = []

    def counting(model, batch):
        calls.append(1)
        return mse(model, batch)

    result = find_lr(model, opt, loader, accelerator=accelerator, loss_fn=counting, num_steps=25, end_lr=1.0,
                     show_progress=False)  # fmt: skip
    assert len(calls) == 2 * len(result.lrs)  # the accelerator's accumulation, by default
    assert 1e-7 <= result.suggestion <= 1.0
    assert accelerator.gradient_state.active_dataloader is None  # no half-finished pass left registered
    assert loader.iteration == 0
    # Same next epoch and same updates as a loop that never ran the test.
    torch.manual_seed(5)
    ref_model, ref_opt, ref_loader = accelerator.prepare(reference, ref_opt, ref_loader)
    for m, o, dl in ((model, opt, loader), (ref_model, ref_opt, ref_loader)):
        state = torch.get_rng_state()
        for batch in dl:
            with accelerator.accumulate(m):
                accelerator.backward(mse(m, batch))
                o.step()
                o.zero_grad()
        torch.set_rng_state(state)
    _assert_same_tensors(model.state_dict(), ref_model.state_dict())


def _tiny_trainer(tmp_path, **overrides):
    from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=24,
        max_position_embeddings=16, num_labels=2,
    )  # fmt: skip
    model = BertForSequenceClassification(config)
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(1, 64, (96, 8), generator=generator)
    data = [{"input_ids": ids[i], "labels": torch.tensor(int(ids[i, 0] < 32))} for i in range(96)]
    options = dict(
        output_dir=str(tmp_path), max_steps=6, per_device_train_batch_size=8, learning_rate=1e-3,
        lr_scheduler_type="one_cycle", use_cpu=True, report_to=[], save_strategy="no", disable_tqdm=True,
        logging_strategy="no", seed=0,
    )  # fmt: skip
    options.update(overrides)
    return Trainer(model=model, args=TrainingArguments(**options), train_dataset=data)


def test_trainer_range_test_then_train_with_the_suggestion(tmp_path):
    from transformers import TrainerCallback

    # one_cycle's rise ends exactly on update 2 (pct_start = 3 / 10), so the peak LR is reached.
    trainer = _tiny_trainer(tmp_path, gradient_accumulation_steps=2, max_steps=10, warmup_steps=3)
    weights = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    rng = torch.get_rng_state()
    result = find_lr(trainer, num_steps=30, end_lr=1.0, show_progress=False)
    assert len(result.lrs) >= 10 and all(math.isfinite(v) for v in result.losses)
    assert 1e-7 <= result.suggestion <= 1.0
    assert min(result.smoothed_losses) < result.smoothed_losses[0]  # the tiny BERT learned something
    _assert_same_tensors(trainer.model.state_dict(), weights)
    assert torch.equal(torch.get_rng_state(), rng)
    assert trainer.optimizer is None  # made for the test, dropped so the new learning_rate is used

    peaks = []

    class Peak(TrainerCallback):
        def on_pre_optimizer_step(self, args, state, control, optimizer=None, **kwargs):
            peaks.append(max(g["lr"] for g in optimizer.param_groups))

    trainer.args.learning_rate = result.suggestion
    trainer.add_callback(Peak())
    trainer.train()
    assert max(peaks) == pytest.approx(result.suggestion, rel=1e-12)  # one_cycle peaks at the suggestion


def test_trainer_with_its_own_optimizer_keeps_it(tmp_path):
    trainer = _tiny_trainer(tmp_path)
    optimizer = torch.optim.SGD(trainer.model.parameters(), lr=0.05, momentum=0.9)
    trainer.optimizer = optimizer
    result = find_lr(trainer, num_steps=8, end_lr=0.1, diverge_threshold=None, show_progress=False)
    assert len(result.lrs) == 8
    assert trainer.optimizer is optimizer and optimizer.param_groups[0]["lr"] == 0.05 and not optimizer.state


# ----------------------------------------------------------------------------------------------
# Bad input and the plot.
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start_lr": 1.0, "end_lr": 1.0}, r"end_lr must be greater than start_lr, got start_lr=1.0, end_lr=1.0"),
        ({"start_lr": 0.0}, "start_lr must be > 0, got 0.0"),
        ({"end_lr": float("inf")}, "end_lr must be a finite number, got inf"),
        ({"num_steps": 1}, "num_steps must be >= 2, got 1"),
        ({"num_steps": 10.0}, "num_steps must be an int, got 10.0"),
        ({"mode": "log"}, r"mode must be one of \['exp', 'linear'\], got 'log'"),
        ({"smooth_f": 0}, r"smooth_f must be in \(0, 1\]"),
        ({"diverge_threshold": 1.0}, "diverge_threshold must be > 1"),
        ({"accumulation_steps": 0}, "accumulation_steps must be >= 1, got 0"),
        ({"suggest": "best"}, "suggest must be one of"),
    ],
)
def test_bad_arguments_name_the_option(kwargs, message):
    model, opt, loader = _setup()
    with pytest.raises(ValueError, match=message):
        find_lr(model, opt, loader, loss_fn=mse, show_progress=False, **kwargs)


def test_bad_objects_are_explained(tmp_path):
    model, opt, loader = _setup()
    with pytest.raises(ValueError, match="batches are list, not dicts of model inputs: pass loss_fn"):
        find_lr(model, opt, loader, num_steps=5, show_progress=False)
    with pytest.raises(ValueError, match="optimizer must be a torch optimizer"):
        find_lr(model, None, loader, loss_fn=mse)
    with pytest.raises(ValueError, match="dataloader is required"):
        find_lr(model, opt, None, loss_fn=mse)
    with pytest.raises(ValueError, match="needs a torch.nn.Module or a transformers.Trainer"):
        find_lr("model", opt, loader)
    with pytest.raises(ValueError, match="dataloader is empty"):
        find_lr(model, opt, [], loss_fn=mse, show_progress=False)
    trainer = _tiny_trainer(tmp_path)
    with pytest.raises(ValueError, match="do not pass optimizer, dataloader or accelerator"):
        find_lr(trainer, opt)
    with pytest.raises(ValueError, match="method must be one of"):
        LRFinderResult([1e-3, 1e-2], [1.0, 0.5], [1.0, 0.7], 1e-3, 1e-2, 2).suggest("lowest")


def test_plot_marks_every_suggestion(tmp_path):
    pytest.importorskip("matplotlib")
    model, opt, loader = _setup()
    result = find_lr(model, opt, loader, loss_fn=mse, num_steps=50, end_lr=10.0, show_progress=False)
    path = tmp_path / "lr_find.png"
    figure = result.plot(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (ax,) = figure.axes
    lines = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_array_equal(lines["smoothed loss"].get_ydata(), result.smoothed_losses)
    np.testing.assert_array_equal(lines["loss"].get_xdata(), result.lrs)
    for method, lr in result.suggestions.items():
        (label,) = [name for name in lines if name.startswith(f"{method}: ")]
        assert lines[label].get_xdata()[0] == lr
    assert ax.get_xscale() == "log"
    with pytest.raises(ValueError, match="path .* is not an existing folder"):
        result.plot(tmp_path / "missing" / "lr_find.png")


@pytest.mark.parametrize("stepped_before", [False, True])
def test_torchs_step_order_mark_is_left_as_it_was(stepped_before):
    # torch's schedulers warn about scheduler.step() before optimizer.step() from the optimizer's
    # `_opt_called` mark (a private attribute); the range test steps the optimizer, so it must put the
    # mark back, or the user's real run would lose (or gain) that warning.
    import warnings

    model, opt, loader = _setup()
    scheduler = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0)  # wraps opt.step to set the mark
    if stepped_before:
        opt.step()
    find_lr(model, opt, loader, loss_fn=mse, num_steps=5, show_progress=False)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scheduler.step()  # the real run's first scheduler step
    order_warnings = [w for w in caught if "optimizer.step()" in str(w.message)]
    assert len(order_warnings) == (0 if stepped_before else 1)
