"""Schedule curves come from the real factories and equal the pure schedules; plots show exactly them."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from hf_lrsched import schedules  # noqa: E402
from hf_lrsched.plotting import (  # noqa: E402
    check_output_path,
    plot_curves,
    plot_schedules,
    schedule_curve,
    schedule_curves,
)

T, W, LR = 400, 40, 3e-4

# name -> (options, the pure multiplier the factory must follow)
PURE = {
    "warmup_exponential": ({"gamma": 0.99}, schedules.exponential_schedule(W, T, gamma=0.99)),
    "warmup_step": ({"step_size": 70, "gamma": 0.5}, schedules.step_schedule(W, T, step_size=70, gamma=0.5)),
    "warmup_multistep": (
        {"milestones": [100, 250, 300], "gamma": 0.2, "min_lr_ratio": 0.01},
        schedules.multistep_schedule(W, T, milestones=[100, 250, 300], gamma=0.2, min_lr_ratio=0.01),
    ),
    "sgdr": (
        {"cycle_steps": 50, "cycle_mult": 2, "cycle_decay": 0.8, "warmup_type": "cosine"},
        schedules.sgdr_schedule(W, T, cycle_steps=50, cycle_mult=2, cycle_decay=0.8, warmup_type="cosine"),
    ),
    "one_cycle": ({"three_phase": True}, schedules.one_cycle_schedule(T, pct_start=W / T, three_phase=True)),
    "sequential": (
        {"phases": [{"schedule": "constant", "length": 200}, {"schedule": "warmup_exponential", "gamma": 0.99}]},
        schedules.sequential_schedule(
            W, T, phases=[{"schedule": "constant", "length": 200}, {"schedule": "warmup_exponential", "gamma": 0.99}]
        ),
    ),
    "wsd": ({"decay_length": 100}, schedules.wsd_schedule(W, T, decay_length=100)),
}


@pytest.mark.parametrize("name", sorted(PURE))
def test_curve_is_the_pure_schedule(name):
    options, pure = PURE[name]
    curve = schedule_curve(name, T, W, lr=LR, options=options)
    expected = np.array([LR * pure(step) for step in range(T)])
    np.testing.assert_array_equal(curve.lrs, expected)  # bit for bit: LambdaLR computes base_lr * f(step)
    assert curve.steps.tolist() == list(range(T))


def test_default_options_follow_the_pure_defaults():
    curve = schedule_curve("warmup_step", T, W, lr=LR)
    pure = schedules.step_schedule(W, T)
    np.testing.assert_array_equal(curve.lrs, [LR * pure(s) for s in range(T)])
    assert curve.label == "warmup_step"


def test_one_cycle_momentum_is_the_pure_momentum_for_adamw_and_sgd():
    momentum = schedules.one_cycle_momentum_schedule(T, pct_start=0.25, base_momentum=0.8, max_momentum=0.9)
    options = {"pct_start": 0.25, "base_momentum": 0.8, "max_momentum": 0.9}
    for optimizer, key in (("adamw", "beta1"), ("sgd", "momentum")):
        curve = schedule_curve("one_cycle", T, 0, lr=LR, options=options, optimizer=optimizer)
        np.testing.assert_array_equal(curve.momentum, [momentum(s) for s in range(T)])
        assert curve.momentum_name == key and curve.cycles_momentum
    flat = schedule_curve("sgdr", T, W, lr=LR)
    assert not flat.cycles_momentum and set(flat.momentum.tolist()) == {0.9}


def test_transformers_schedules_are_drawn_from_their_own_factories():
    linear, cosine = schedule_curves(["linear", "cosine"], T, W, lr=LR)
    for step in (0, 10, W, 123, T - 1):
        ramp = step / W if step < W else None
        if ramp is not None:
            assert linear.lrs[step] == pytest.approx(LR * ramp, rel=1e-15)
            assert cosine.lrs[step] == pytest.approx(LR * ramp, rel=1e-15)
        else:
            progress = (step - W) / (T - W)
            assert linear.lrs[step] == pytest.approx(LR * (T - step) / (T - W), rel=1e-15)
            assert cosine.lrs[step] == pytest.approx(LR * 0.5 * (1 + math.cos(math.pi * progress)), rel=1e-12)


def test_fractional_warmup_and_json_options():
    curve = schedule_curve("warmup_exponential", 100, 0.1, lr=1.0, options='{"gamma": 0.9}')
    assert curve.lrs[10] == 1.0 and curve.lrs[11] == 0.9 and curve.lrs[5] == 0.5


def _lines_by_label(axis):
    return {line.get_label(): line for line in axis.get_lines()}


def test_overlay_figure_holds_exactly_the_curves(tmp_path):
    names = ["warmup_multistep", "one_cycle", "cosine"]
    options = {"warmup_multistep": PURE["warmup_multistep"][0]}
    output = tmp_path / "curves.png"
    figure, curves = plot_schedules(names, T, W, lr=LR, options=options, output=output)
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lr_axis, momentum_axis = figure.axes  # a momentum panel, because one_cycle cycles beta1
    lines = _lines_by_label(lr_axis)
    assert sorted(lines) == sorted(c.label for c in curves)
    pure = PURE["warmup_multistep"][1]
    multistep = lines["warmup_multistep (milestones=[100, 250, 300], gamma=0.2, min_lr_ratio=0.01)"]
    np.testing.assert_array_equal(multistep.get_ydata(), [LR * pure(s) for s in range(T)])
    np.testing.assert_array_equal(multistep.get_xdata(), np.arange(T))
    (beta1,) = momentum_axis.get_lines()
    one_cycle = next(c for c in curves if c.name == "one_cycle")
    np.testing.assert_array_equal(beta1.get_ydata(), one_cycle.momentum)
    assert momentum_axis.get_ylabel() == "beta1"


def test_no_momentum_panel_without_cycling_and_log_axis():
    figure, _ = plot_schedules(["linear", "warmup_step"], 50, 5, log_y=True)
    assert len(figure.axes) == 1 and figure.axes[0].get_yscale() == "log"


def test_grid_layout_has_a_panel_per_schedule():
    curves = schedule_curves(["warmup_step", "one_cycle", "sgdr"], T, W, lr=LR)
    figure = plot_curves(curves, layout="grid")
    panels = [ax for ax in figure.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["warmup_step", "one_cycle", "sgdr"]
    for ax, curve in zip(panels, curves, strict=True):
        np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), curve.lrs)
    twins = [ax for ax in figure.axes if not ax.get_title() and ax.get_visible() and ax.get_lines()]
    assert len(twins) == 1  # only one_cycle draws beta1, on its own right-hand axis
    np.testing.assert_array_equal(twins[0].get_lines()[0].get_ydata(), curves[1].momentum)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: schedule_curve("warmup_stepp", 10), "unknown lr_scheduler_type 'warmup_stepp'.*known.*sgdr"),
        (lambda: schedule_curve("sgdr", 1), "num_training_steps must be >= 2, got 1"),
        (lambda: schedule_curve("sgdr", 10, lr=0), "lr must be > 0, got 0"),
        (lambda: schedule_curve("sgdr", 10, options={"gama": 0.5}), "unknown option 'gama'"),
        (lambda: schedule_curve("sgdr", 10, optimizer="lion"), "optimizer must be one of"),
        (lambda: schedule_curve("reduce_lr_on_plateau", 10), "adapts to a metric"),
        (lambda: schedule_curves(["sgdr"], 10, options={"cosine": {}}), "kwargs given for 'cosine'"),
        (lambda: plot_curves(schedule_curves(["sgdr"], 10), layout="tiles"), "layout must be one of"),
    ],
)
def test_bad_input_names_the_option(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_output_path_checks(tmp_path):
    with pytest.raises(ValueError, match="is not an existing folder"):
        check_output_path(tmp_path / "missing" / "a.png")
    with pytest.raises(ValueError, match="is a folder"):
        check_output_path(tmp_path)
    with pytest.raises(ValueError, match="unknown format 'txt'"):
        check_output_path(tmp_path / "a.txt", option="--output")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ValueError, match="--output .* is not an existing folder"):
        check_output_path(blocker / "a.png", option="--output")


def test_read_only_folder_is_refused(tmp_path, monkeypatch):
    # check_output_path asks os.access; here it answers "not writable" for the paths in `read_only`,
    # so the test also runs as root (as in CI), for whom a chmod-ed folder would still be writable.
    real_access = os.access
    read_only = {str(tmp_path)}

    def access(path, mode, **kwargs):
        if mode == os.W_OK and os.path.abspath(path) in read_only:
            return False
        return real_access(path, mode, **kwargs)

    monkeypatch.setattr(os, "access", access)
    with pytest.raises(ValueError, match="a.png' is not writable"):
        check_output_path(tmp_path / "a.png")
    existing = tmp_path / "old.png"
    existing.write_text("")
    read_only = {str(existing)}  # a writable folder, a read-only file in it
    with pytest.raises(ValueError, match="old.png' is not writable"):
        check_output_path(existing)
    read_only = set()
    assert check_output_path(existing) == str(existing)
