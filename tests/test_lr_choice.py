"""choose_lr: the compressed schedule, the search, exact restore, the Trainer hook, two processes."""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import math
import os
import random
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from torch.nn import functional as F
from transformers import get_linear_schedule_with_warmup

from hf_lrsched import choose_lr
from hf_lrsched._tools.probes import _movement_and_noise, _parabola_vertex, _Search, _search, _slices
from hf_lrsched.lr_choice import LRChoice, compressed_schedule, record_choice

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ----------------------------------------------------------------------------------------------
# The compressed schedule and the search (no training).
# ----------------------------------------------------------------------------------------------


def _torch_linear_lrs(steps: int, warmup: int) -> list[float]:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = get_linear_schedule_with_warmup(opt, warmup, steps)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


def test_compressed_linear_schedule_is_the_mean_of_each_segment():
    # 100 updates with 6 warmup, squeezed into 5 probe updates: each is the mean of 20 real ones.
    expected = [sum(_torch_linear_lrs(100, 6)[20 * k : 20 * k + 20]) / 20 for k in range(5)]
    assert compressed_schedule("linear", 100, 5, 6) == pytest.approx(expected, rel=1e-12)


def test_compressed_schedule_keeps_the_area_when_segments_split_updates():
    lrs = _torch_linear_lrs(10, 2)
    got = compressed_schedule("linear", 10, 3, 2)  # segments of 10/3 updates
    assert sum(got) * 10 / 3 == pytest.approx(sum(lrs), rel=1e-12)
    assert got[0] == pytest.approx((lrs[0] + lrs[1] + lrs[2] + lrs[3] / 3) * 3 / 10, rel=1e-12)


def test_compressed_one_cycle_works_for_probes_shorter_than_its_rise():
    got = compressed_schedule("one_cycle", 94, 6, 0.06)
    assert len(got) == 6 and max(got) <= 1.0 and got[0] > got[-1] > 0


def _quadratic(center_k: float, factor: float = 2.0):
    """A score whose minimum over log LR is at 1e-3 * factor**center_k, exactly quadratic in k."""
    calls = []

    def score(lr):
        k = math.log(lr / 1e-3) / math.log(factor)
        calls.append(lr)
        return 0.3 + 0.01 * (k - center_k) ** 2

    return score, calls


@pytest.mark.parametrize(
    ("center_k", "probes"),
    [(0.0, 3), (0.3, 3), (-0.45, 3), (2.2, 5), (-3.4, 5), (-0.6, 3)],  # down first; never both sides of a slope
)
def test_search_finds_the_minimum_of_a_quadratic_in_log_lr(center_k, probes):
    score, calls = _quadratic(center_k)
    found = _search(score, 1e-3, 2.0, max_probes=9)
    assert found.bracketed
    assert found.probe_lr == pytest.approx(1e-3 * 2.0**center_k, rel=1e-9)  # a parabola fits a parabola
    assert len(calls) == len(set(calls)) == probes  # no probe twice


def test_search_stops_at_max_probes_and_says_it_did_not_bracket():
    score, calls = _quadratic(10.0)
    found = _search(score, 1e-3, 2.0, max_probes=5)
    assert len(calls) == 5 and not found.bracketed
    assert found.probe_lr == pytest.approx(1e-3 * 2.0**3)  # the best edge, no extrapolation


def test_search_treats_a_diverged_probe_as_worst():
    losses = {-1: 0.5, 0: 0.4, 1: math.inf, -2: 0.6}
    found = _search(lambda lr: losses[round(math.log2(lr / 1e-3))], 1e-3, 2.0, max_probes=7)
    assert found.bracketed and found.probe_lr == 1e-3  # no parabola through inf


@pytest.mark.parametrize(
    ("x", "y", "vertex"),
    [
        ([-1.0, 0.0, 1.0], [1.44, 0.04, 0.64], 0.2),  # y = (x - 0.2)**2: the vertex exactly
        ([-1.0, 0.0, 1.0], [1.0, 0.0, 0.0], 0.5),  # tied at 0 and 1: halfway between them
        ([-1.0, 0.0, 1.0], [1.0, 0.0, 1.0], 0.0),  # symmetric
        ([-1.0, 0.0, 1.0], [0.0, 0.0, 0.0], 0.0),  # flat: no minimum, the middle point
        ([-1.0, 0.0, 1.0], [1.0, 0.0, math.inf], 0.0),  # a diverged probe: the middle point
        ([0.0, 1.0, 2.0], [3.0, 1.0, 0.0], 1.5),  # still falling: held at the midpoint towards the lower side
    ],
)
def test_parabola_vertex(x, y, vertex):
    assert _parabola_vertex(x, y) == pytest.approx(vertex, abs=1e-12)


# ----------------------------------------------------------------------------------------------
# Real probes on a small problem: exact restore, paired probes, the horizon.
# ----------------------------------------------------------------------------------------------


def _data(n=640, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=generator)
    y = (x @ torch.linspace(-2, 2, 8) > 0).long()
    return list(zip(x, y, strict=True))


def _net(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(8, 32), torch.nn.BatchNorm1d(32), torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(32, 2)
    )


def ce(model, batch):
    return F.cross_entropy(model(batch[0]), batch[1])


def _setup(seed=0):
    model = _net(seed)
    opt = torch.optim.AdamW(
        [{"params": list(model[0].parameters())}, {"params": list(model[4].parameters()), "lr": 3e-4}], lr=1e-3
    )
    loader = torch.utils.data.DataLoader(
        _data(), batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(1)
    )
    return model, opt, loader


def _train(model, opt, loader, steps):
    model.train()
    done = 0
    for batch in loader:
        if done == steps:
            break
        opt.zero_grad()
        ce(model, batch).backward()
        opt.step()
        done += 1


def test_everything_is_restored_bit_for_bit_and_training_continues_identically():
    reference, ref_opt, ref_loader = _setup()
    model, opt, loader = _setup()
    for m, o, dl in ((reference, ref_opt, ref_loader), (model, opt, loader)):
        torch.manual_seed(1)
        _train(m, o, dl, 3)  # Adam state exists
    random.seed(3)
    np.random.seed(3)
    torch.manual_seed(3)
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    groups = copy.deepcopy([{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups])
    state = {id(p): {k: v.clone() for k, v in s.items()} for p, s in opt.state.items()}
    rng = (torch.get_rng_state(), random.getstate(), loader.generator.get_state())

    choice = choose_lr(model, opt, loader, num_training_steps=60, loss_fn=ce, show_progress=False)
    assert len(choice.probe_lrs) >= 3 and choice.probe_steps == 6

    for key, value in model.state_dict().items():  # BatchNorm running stats included
        assert torch.equal(value, weights[key]), key
    assert [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups] == groups
    assert {id(p) for p in opt.state} == set(state)
    for p, s in opt.state.items():
        assert all(torch.equal(v, state[id(p)][k]) for k, v in s.items())
    assert torch.equal(torch.get_rng_state(), rng[0]) and random.getstate() == rng[1]
    assert torch.equal(loader.generator.get_state(), rng[2])
    torch.manual_seed(3)
    random.seed(3)
    # The run after the choice is the run without it (same batches, same dropout, same updates).
    for m, o, dl in ((reference, ref_opt, ref_loader), (model, opt, loader)):
        torch.manual_seed(4)
        _train(m, o, dl, 12)
    for key, value in model.state_dict().items():
        assert torch.equal(value, reference.state_dict()[key]), key


def test_probes_are_paired_and_the_choice_is_the_horizon_scaled_optimum():
    model, opt, loader = _setup()
    seen = []

    def recording(model, batch):
        if model.training:
            seen.append(batch[0].clone())
        return ce(model, batch)

    choice = choose_lr(
        model, opt, loader, num_training_steps=150, probe_steps=5, heldout_batches=2, loss_fn=recording, center_lr=0.05,
        show_progress=False,
    )  # fmt: skip
    probes = len(choice.probe_lrs)
    assert len(seen) == 5 * probes
    for k in range(1, probes):  # every probe trains on the same 5 batches
        assert all(torch.equal(a, b) for a, b in zip(seen[:5], seen[5 * k : 5 * k + 5], strict=True))
    assert choice.heldout_examples == 64
    # The horizon rule: sqrt(5/150) = sqrt(1/30) = 0.18257418583505536.
    assert choice.horizon_exponent == 0.5
    assert choice.lr == pytest.approx(choice.probe_lr * 0.18257418583505536, rel=1e-12)
    assert choice.bracketed
    best = min(choice.heldout_losses)
    # The best probe LR's neighbours on the grid were probed and are worse.
    best_lr = choice.probe_lrs[choice.heldout_losses.index(best)]
    assert any(math.isclose(lr, best_lr / 2) for lr in choice.probe_lrs)
    assert any(math.isclose(lr, best_lr * 2) for lr in choice.probe_lrs)
    assert best_lr / math.sqrt(2) <= choice.probe_lr <= best_lr * math.sqrt(2)


@pytest.mark.parametrize(
    ("make_optimizer", "exponent", "factor"),
    [
        # (8/128)**(1/2) = 1/4 whatever the optimizer; (8/128)**(1/3) = 0.39685026299205; (8/128)**1 = 1/16.
        (lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9), None, 0.25),
        (lambda params: torch.optim.AdamW(params, lr=1e-3), None, 0.25),
        (lambda params: torch.optim.AdamW(params, lr=1e-3), 1 / 3, 0.39685026299205),
        (lambda params: torch.optim.SGD(params, lr=0.1), 1.0, 0.0625),
    ],
)
def test_horizon_rule_is_sqrt_unless_an_exponent_is_given(make_optimizer, exponent, factor):
    model, _, loader = _setup()
    opt = make_optimizer(model.parameters())
    given = {} if exponent is None else {"horizon_exponent": exponent}
    choice = choose_lr(
        model, opt, loader, num_training_steps=128, probe_steps=8, heldout_batches=2, loss_fn=ce, center_lr=0.05,
        show_progress=False, **given,
    )  # fmt: skip
    assert choice.horizon_factor == pytest.approx(factor, rel=1e-12)
    assert choice.lr == pytest.approx(choice.probe_lr * factor, rel=1e-12)
    assert choice.to_dict()["horizon_exponent"] == (0.5 if exponent is None else exponent)


def test_probe_and_heldout_batches_are_spread_over_the_epoch_not_the_first_ones():
    model, opt, _ = _setup()
    data = _data()
    # 20 batches of 32, each tagged with its index (a length-grouped sampler puts the longest first).
    batches = [(torch.stack([x for x, _ in data[32 * i : 32 * i + 32]]),
                torch.stack([y for _, y in data[32 * i : 32 * i + 32]]), i) for i in range(20)]  # fmt: skip
    trained, evaluated = set(), set()

    def tagging(model, batch):
        (trained if model.training else evaluated).add(batch[2])
        return ce(model, batch[:2])

    choose_lr(model, opt, batches, num_training_steps=60, probe_steps=6, heldout_batches=2, loss_fn=tagging,
              show_progress=False)  # fmt: skip
    # 8 batches needed, 20 in the epoch: every 20 // 8 = 2nd batch; held-out at picks 0 and 4.
    assert evaluated == {0, 8}
    assert trained == {2, 4, 6, 10, 12, 14}


@pytest.mark.parametrize(("batch_size", "examples"), [(32, 128), (8, 128), (100, 200)])
def test_default_heldout_slice_is_128_examples_whatever_the_batch_size(batch_size, examples):
    model, opt, _ = _setup()
    loader = torch.utils.data.DataLoader(_data(), batch_size=batch_size)
    choice = choose_lr(model, opt, loader, num_training_steps=20, loss_fn=ce, max_probes=3, show_progress=False)
    assert choice.heldout_examples == examples  # at least 2 batches


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_training_steps": 1}, "num_training_steps must be >= 2, got 1"),
        ({"num_training_steps": 50.0}, r"num_training_steps must be an int, got 50.0 \(float\)"),
        ({"probe_steps": 0}, "probe_steps must be >= 1, got 0"),
        ({"probe_steps": 51}, "probe_steps must be <= 50, got 51"),
        ({"heldout_batches": 0}, "heldout_batches must be >= 1, got 0"),
        ({"center_lr": -1.0}, "center_lr must be > 0, got -1.0"),
        ({"factor": 1.0}, "factor must be > 1, got 1.0"),
        ({"max_probes": 2}, "max_probes must be >= 3, got 2"),
        ({"accumulation_steps": 0}, "accumulation_steps must be >= 1, got 0"),
        ({"horizon_exponent": 0}, r"horizon_exponent must be in \(0, 1\], got 0"),
        ({"horizon_exponent": 1.5}, r"horizon_exponent must be in \(0, 1\], got 1.5"),
        ({"horizon_exponent": float("nan")}, r"horizon_exponent must be in \(0, 1\], got nan"),
        ({"schedule": "linearr"}, "unknown lr_scheduler_type 'linearr'"),
        ({"fallback_lr": 0.0}, "fallback_lr must be > 0, got 0.0"),
        ({"fallback_lr": float("inf")}, "fallback_lr must be"),
    ],
)
def test_bad_arguments_name_the_option(kwargs, message):
    model, opt, loader = _setup()
    options = {"num_training_steps": 50, "loss_fn": ce, "show_progress": False, **kwargs}
    with pytest.raises(ValueError, match=message):
        choose_lr(model, opt, loader, **options)


# ----------------------------------------------------------------------------------------------
# Trust: the probes must move the held-out loss beyond its noise and bracket their optimum.
# ----------------------------------------------------------------------------------------------


def test_heldout_batches_are_cut_into_pieces_of_8_examples_for_any_batch_layout():
    ids, mask, labels = torch.arange(20 * 3).reshape(20, 3), torch.ones(20, 3), torch.arange(20)
    pieces = _slices({"input_ids": ids, "attention_mask": mask, "labels": labels, "scale": torch.tensor(2.0)})
    assert [len(p["labels"]) for p in pieces] == [8, 8, 4]
    assert torch.equal(torch.cat([p["input_ids"] for p in pieces]), ids)
    assert all(p["scale"] == 2.0 for p in pieces)  # not per example: shared by every piece
    assert [[len(v) for v in p] for p in _slices((ids, labels))] == [[8, 8], [8, 8], [4, 4]]
    assert [len(p) for p in _slices(ids)] == [8, 8, 4]
    assert len(_slices(ids[:8])) == 1 and torch.equal(_slices(ids[:8])[0], ids[:8]) and _slices("text") == ["text"]


def test_the_heldout_loss_is_scored_on_16_pieces_of_8_examples_at_batch_32():
    model, opt, loader = _setup()
    scored = []

    def recording(model, batch):
        if not model.training:
            scored.append(len(batch[1]))
        return ce(model, batch)

    choice = choose_lr(
        model, opt, loader, num_training_steps=60, loss_fn=recording, center_lr=0.05, show_progress=False
    )  # fmt: skip
    evaluations = 1 + len(choice.probe_lrs)  # before the probes, then after each
    assert scored == [8] * 16 * evaluations and choice.heldout_examples == 128


def test_movement_is_the_mean_paired_decrease_and_noise_its_standard_error():
    # Decreases 0.3, 0.2, 0.4: mean 0.3, sample std 0.1, standard error 0.1 / sqrt(3).
    movement, noise = _movement_and_noise(torch.tensor([1.0, 0.8, 0.9]), torch.tensor([0.7, 0.6, 0.5]))
    assert movement == pytest.approx(0.3, abs=1e-7) and noise == pytest.approx(0.1 / math.sqrt(3), rel=1e-6)
    assert _movement_and_noise(torch.tensor([0.7]), torch.tensor([0.5]))[1] == 0.0  # one batch: no spread
    assert _movement_and_noise(torch.tensor([0.7, 0.7]), torch.tensor([math.inf, 0.5])) == (-math.inf, math.inf)


@pytest.mark.parametrize(
    ("movement", "noise", "bracketed", "reason"),
    [
        (0.05, 0.02, True, ""),  # 0.05 > 2 x 0.02
        (0.04, 0.02, True, "not more than 2x its noise (0.0200): the probes learned too little"),
        (0.0, 0.0, True, "lowered the held-out loss by 0.0000 (from 0.6931)"),
        (-0.01, 0.001, True, "learned too little"),
        (math.nan, 0.01, True, "learned too little"),
        (0.05, 0.02, False, "the best probe is at the edge of the search (3 probes)"),
    ],
)
def test_a_choice_is_trusted_only_if_the_loss_moved_beyond_twice_its_noise_and_was_bracketed(
    movement, noise, bracketed, reason
):
    search = _Search(1e-3, {0: 0.6, 1: 0.5, 2: 0.4}, bracketed, start_loss=0.6931, movement=movement, noise=noise)
    assert (search.unreliable_reason == "") if reason == "" else (reason in search.unreliable_reason)


def constant_loss(model, batch):
    """A loss no update can change (the model only enters times zero): the probes cannot learn anything."""
    zero = sum(p.sum() for p in model.parameters()) * 0.0
    return zero + batch[0].abs().mean()


@pytest.mark.parametrize("fallback", [None, 2e-4])
def test_probes_that_cannot_learn_fall_back_to_the_runs_own_lr_or_the_given_one(fallback):
    model, opt, loader = _setup()
    given = {} if fallback is None else {"fallback_lr": fallback}
    choice = choose_lr(
        model, opt, loader, num_training_steps=60, loss_fn=constant_loss, show_progress=False, **given
    )  # fmt: skip
    assert not choice.reliable and "learned too little" in choice.reason
    assert choice.movement == 0.0 and choice.noise == 0.0  # the same batches score the same before and after
    assert choice.lr == choice.fallback_lr == (1e-3 if fallback is None else fallback)  # 1e-3: the first group's LR
    assert choice.probe_choice == choice.probe_lr * choice.horizon_factor != choice.lr
    assert choice.to_dict()["suggestion"] == choice.lr and choice.to_dict()["reliable"] is False
    assert "the fallback" in str(choice) and choice.warning.startswith("the LR choice cannot be trusted")


def test_probes_that_learn_are_trusted_and_their_choice_is_used():
    model, opt, loader = _setup()
    choice = choose_lr(model, opt, loader, num_training_steps=60, loss_fn=ce, center_lr=0.05, show_progress=False)
    assert choice.bracketed and choice.reliable and choice.reason == "" and choice.warning == ""
    assert choice.movement > 2 * choice.noise > 0
    assert choice.lr == choice.probe_choice == choice.probe_lr * choice.horizon_factor


def test_an_untrusted_choice_is_one_warning_from_the_process_that_writes(tmp_path, caplog):
    untrusted = LRChoice(1e-3, 4e-3, [2e-3, 4e-3, 8e-3], [0.69, 0.68, 0.7], 6, 96, 0.25, "linear",
                         reliable=False, reason="a reason", probe_choice=1e-3, fallback_lr=5e-5)  # fmt: skip
    with caplog.at_level(logging.INFO, logger="hf_lrsched.lr_choice"):
        record_choice(untrusted, tmp_path / "main", write=True)
        record_choice(untrusted, tmp_path / "other", write=False)
        record_choice(dataclasses.replace(untrusted, reliable=True, reason=""), tmp_path / "trusted")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [untrusted.warning]
    assert "a reason" in untrusted.warning and not (tmp_path / "other").exists()
    assert json.loads((tmp_path / "main" / "lr_choice.json").read_text())["reason"] == "a reason"


# ----------------------------------------------------------------------------------------------
# Any Trainer script, through `hf-lrsched run --auto_lr`.
# ----------------------------------------------------------------------------------------------

TRAINER_SCRIPT = textwrap.dedent(
    """
    import json
    import torch
    from transformers import HfArgumentParser, Trainer, TrainerCallback, TrainingArguments

    class Bag(torch.nn.Module):  # mean of token embeddings -> 2 logits: learnt within a few updates
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Embedding(64, 8)
            self.out = torch.nn.Linear(8, 2)
            torch.nn.init.zeros_(self.out.weight)  # starts at loss ln 2, like a new classification head
            torch.nn.init.zeros_(self.out.bias)

        def forward(self, input_ids, labels):
            logits = 300 * self.out(self.embed(input_ids).mean(1))
            return {"loss": torch.nn.functional.cross_entropy(logits, labels), "logits": logits}

    (args,) = HfArgumentParser(TrainingArguments).parse_args_into_dataclasses()
    torch.manual_seed(0)
    model = Bag()
    labels = torch.randint(0, 2, (256,), generator=torch.Generator().manual_seed(2))
    # Every token says the label (ids 1-31 or 33-63).
    ids = torch.randint(1, 32, (256, 8), generator=torch.Generator().manual_seed(1)) + 32 * labels[:, None]
    data = [{"input_ids": ids[i], "labels": labels[i]} for i in range(256)]
    peaks = []

    class Peak(TrainerCallback):
        def on_pre_optimizer_step(self, args, state, control, optimizer=None, **kwargs):
            peaks.append(max(g["lr"] for g in optimizer.param_groups))

    trainer = Trainer(model=model, args=args, train_dataset=data, callbacks=[Peak()])
    trainer.train()
    seen = {"peak": max(peaks), "learning_rate": trainer.args.learning_rate}
    json.dump(seen, open(args.output_dir + "/seen.json", "w"))
    """
)


def _auto_lr_run(tmp_path, script_text):
    script = tmp_path / "train.py"
    script.write_text(script_text)
    out = tmp_path / "out"
    command = [
        sys.executable, "-m", "hf_lrsched", "run", "--auto_lr", str(script), "--output_dir", str(out),
        "--max_steps", "40", "--per_device_train_batch_size", "16", "--learning_rate", "0.5",
        "--lr_scheduler_type", "one_cycle", "--warmup_steps", "4", "--use_cpu", "--report_to", "none",
        "--save_strategy", "no", "--disable_tqdm", "true", "--seed", "0",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "hf-lrsched --auto_lr: learning_rate" in done.stderr
    assert (out / "lr_choice.png").stat().st_size > 1000
    written = json.loads((out / "lr_choice.json").read_text())
    assert written["schedule"] == "one_cycle" and written["num_training_steps"] == 40
    assert written["probe_steps"] == 6
    return done.stderr, written, json.loads((out / "seen.json").read_text())


UNTRUSTED = "the LR choice cannot be trusted"


def test_hf_lrsched_run_auto_lr_chooses_writes_and_trains_with_the_choice(tmp_path):
    stderr, written, seen = _auto_lr_run(tmp_path, TRAINER_SCRIPT)
    assert written["reliable"] is True and written["reason"] == "" and UNTRUSTED not in stderr
    assert seen["learning_rate"] == written["suggestion"] == written["probe_choice"] != 0.5
    assert seen["peak"] == pytest.approx(written["suggestion"], rel=1e-12)  # one_cycle peaks at max_lr


def test_auto_lr_keeps_the_scripts_lr_and_warns_once_when_the_probes_learned_nothing(tmp_path):
    # Labels independent of the tokens: nothing the probes learn carries over to held-out batches.
    noise = TRAINER_SCRIPT.replace(" + 32 * labels[:, None]", "")
    assert noise != TRAINER_SCRIPT
    stderr, written, seen = _auto_lr_run(tmp_path, noise)
    warnings = [line for line in stderr.splitlines() if line.startswith(UNTRUSTED)]
    assert len(warnings) == 1, stderr[-3000:]
    assert "learned too little" in warnings[0] and "using the fallback learning rate 0.5 " in warnings[0]
    assert written["reliable"] is False and "learned too little" in written["reason"]
    assert seen["learning_rate"] == written["suggestion"] == written["fallback_lr"] == 0.5
    assert seen["peak"] == 0.5  # the run trained at the script's own LR
    assert written["probe_choice"] != 0.5


# ----------------------------------------------------------------------------------------------
# Two processes (a real `accelerate launch` with 2 CPU ranks).
# ----------------------------------------------------------------------------------------------

RANK_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import torch
    from accelerate import Accelerator
    from torch.nn import functional as F
    from hf_lrsched import choose_lr

    out, per_process_batch = sys.argv[1], int(sys.argv[2])
    accelerator = Accelerator(cpu=True)
    torch.manual_seed(0)
    x = torch.randn(2048, 8, generator=torch.Generator().manual_seed(0))
    y = (x @ torch.linspace(-2, 2, 8) > 0).long()
    model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(), torch.nn.Dropout(0.1), torch.nn.Linear(32, 2))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loader = torch.utils.data.DataLoader(list(zip(x, y)), batch_size=per_process_batch, shuffle=True,
                                         generator=torch.Generator().manual_seed(1))
    model, opt, loader = accelerator.prepare(model, opt, loader)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    choice = choose_lr(model, opt, loader, num_training_steps=64, accelerator=accelerator, heldout_batches=8,
                       loss_fn=lambda m, b: F.cross_entropy(m(b[0]), b[1]), center_lr=0.02, show_progress=False)
    restored = all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    accelerator.wait_for_everyone()  # every rank got here
    record = {"num_processes": accelerator.num_processes, "lr": choice.lr, "probe_lrs": choice.probe_lrs,
              "losses": choice.heldout_losses, "restored": restored, "lr_in_optimizer": opt.param_groups[0]["lr"]}
    with open(os.path.join(out, f"rank{accelerator.process_index}.json"), "w") as f:
        json.dump(record, f)
    """
)


def _launch(tmp_path, processes: int, per_process_batch: int) -> list[dict]:
    script = tmp_path / "ranks.py"
    script.write_text(RANK_SCRIPT)
    out = tmp_path / f"p{processes}"
    out.mkdir()
    command = [sys.executable, str(script), str(out), str(per_process_batch)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if processes > 1:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(processes)]
        launch += ["--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]
        command = [*launch, "--main_process_port", str(port), *command[1:]]
        env["ACCELERATE_USE_CPU"] = "true"
    done = subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(processes)]


def test_two_processes_choose_the_same_lr_as_one_within_noise(tmp_path):
    (one,) = _launch(tmp_path, 1, 32)
    ranks = _launch(tmp_path, 2, 16)  # the same global batch of 32
    assert [r["num_processes"] for r in ranks] == [2, 2]  # two real ranks, both finished
    assert ranks[0]["lr"] == ranks[1]["lr"] and ranks[0]["losses"] == ranks[1]["losses"]  # decided alike
    assert all(r["restored"] and r["lr_in_optimizer"] == 1e-3 for r in [one, *ranks])
    # Different data split and held-out batches, same problem: within one grid step (factor 2).
    assert 0.5 <= ranks[0]["lr"] / one["lr"] <= 2.0, (one, ranks[0])


def _tiny_trainer(tmp_path):
    from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=24,
        max_position_embeddings=16, num_labels=2,
    )  # fmt: skip
    model = BertForSequenceClassification(config)
    ids = torch.randint(1, 64, (128, 8), generator=torch.Generator().manual_seed(1))
    data = [{"input_ids": ids[i], "labels": torch.tensor(int(ids[i, 0] < 32))} for i in range(128)]
    args = TrainingArguments(
        output_dir=str(tmp_path), max_steps=12, per_device_train_batch_size=8, learning_rate=1e-3,
        lr_scheduler_type="linear", warmup_steps=2, use_cpu=True, report_to=[], save_strategy="no",
        disable_tqdm=True, logging_strategy="no", seed=0,
    )  # fmt: skip
    return Trainer(model=model, args=args, train_dataset=data)


def test_trainer_state_is_restored_so_training_at_the_same_lr_is_bit_identical(tmp_path):
    reference = _tiny_trainer(tmp_path / "ref")
    reference.train()
    trainer = _tiny_trainer(tmp_path / "choice")
    choice = choose_lr(trainer, show_progress=False)
    assert choice.num_training_steps == 12 and choice.schedule == "linear" and choice.probe_steps == 6
    assert trainer.optimizer is None  # made for the probes, dropped so that a new learning_rate takes effect
    trainer.train()  # at the original 1e-3: must be exactly the reference run
    for key, value in trainer.model.state_dict().items():
        assert torch.equal(value, reference.model.state_dict()[key]), key
