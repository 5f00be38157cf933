"""Snapshot and exact restore of everything an LR range test disturbs.

Model weights, buffers and gradients, train/eval modes, the optimizer's state and param groups,
the random number generators (Python, NumPy, torch CPU and CUDA) and the data loader's epoch
counters are saved before the test and put back after it, so the real run starts as it would have.
:func:`batch_device` says where the test's batches go (shared with the LR choice).
"""

from __future__ import annotations

import copy
import random
from collections import defaultdict
from typing import Any

import numpy as np
import torch

__all__ = ["batch_device"]


def batch_device(model: torch.nn.Module, accelerator=None) -> torch.device:
    """Where batches go: the accelerator's device, else that of the model's first parameter (CPU if none).

    Args:
      model: the model being trained.
      accelerator: an ``accelerate.Accelerator`` the objects were prepared with, or ``None``.

    Returns:
      A ``torch.device``.

    Examples:
      >>> batch_device(torch.nn.Linear(2, 1))
      device(type='cpu')
      >>> from types import SimpleNamespace
      >>> batch_device(torch.nn.Linear(2, 1), SimpleNamespace(device=torch.device("meta")))
      device(type='meta')
    """
    if accelerator is not None:
        return accelerator.device
    return next((p.device for p in model.parameters()), torch.device("cpu"))


def _copy_tensor(value):
    # Keep a CPU copy (saves accelerator memory); `.to(device)` later restores bits, dtype and device.
    if isinstance(value, torch.Tensor):
        return (value.detach().to("cpu", copy=True), value.device)
    return copy.deepcopy(value)


def _paste_tensor(saved):
    if isinstance(saved, tuple) and len(saved) == 2 and isinstance(saved[0], torch.Tensor):
        tensor, device = saved
        return tensor.to(device, copy=True)
    return copy.deepcopy(saved)


def _inner_optimizer(optimizer):
    # accelerate's AcceleratedOptimizer (and similar wrappers) keep the torch optimizer as `.optimizer`.
    while isinstance(getattr(optimizer, "optimizer", None), torch.optim.Optimizer):
        optimizer = optimizer.optimizer
    return optimizer


_MISSING = object()
_DATALOADER_COUNTERS = ("iteration", "epoch", "end_of_dataloader")


class _Snapshot:
    """Everything the range test changes, saved before it and put back after it."""

    def __init__(self, model, optimizer, dataloader, accelerator):
        self.model, self.optimizer = model, _inner_optimizer(optimizer)
        self.weights = {k: _copy_tensor(v) for k, v in model.state_dict().items()}
        # Buffers registered with persistent=False are not in the state dict.
        self.buffers = [(b, _copy_tensor(b)) for n, b in model.named_buffers() if n not in self.weights]
        self.modes = [m.training for m in model.modules()]
        params = list(model.parameters())
        seen = {id(p) for p in params}
        params += [p for g in self.optimizer.param_groups for p in g["params"] if id(p) not in seen]
        self.grads = [(p, None if p.grad is None else _copy_tensor(p.grad)) for p in params]
        groups = self.optimizer.param_groups
        self.groups = [{k: copy.deepcopy(v) for k, v in g.items() if k != "params"} for g in groups]
        self.state = {p: {k: _copy_tensor(v) for k, v in s.items()} for p, s in self.optimizer.state.items()}
        # torch's LR schedulers mark a stepped optimizer with `_opt_called`; keep that mark as it was.
        wrappers = [optimizer] if optimizer is self.optimizer else [optimizer, self.optimizer]
        self.flags = [(o, getattr(o, "__dict__", {}).get("_opt_called", _MISSING)) for o in wrappers]
        self.rng = _rng_state()
        self.loader = _dataloader_state(dataloader)
        scaler = getattr(accelerator, "scaler", None)
        self.scaler = (scaler, copy.deepcopy(scaler.state_dict())) if scaler is not None else None

    def restore(self) -> None:
        with torch.no_grad():
            self.model.load_state_dict({k: _paste_tensor(v) for k, v in self.weights.items()})
            for buffer, saved in self.buffers:
                buffer.copy_(_paste_tensor(saved))
        for module, mode in zip(self.model.modules(), self.modes, strict=True):
            module.training = mode
        for param, grad in self.grads:
            param.grad = None if grad is None else _paste_tensor(grad)
        for group, saved in zip(self.optimizer.param_groups, self.groups, strict=True):
            for key in [k for k in group if k != "params"]:
                del group[key]
            group.update(copy.deepcopy(saved))
        state = defaultdict(dict)
        for param, saved in self.state.items():
            state[param] = {k: _paste_tensor(v) for k, v in saved.items()}
        self.optimizer.state = state
        for obj, flag in self.flags:
            if flag is _MISSING:
                obj.__dict__.pop("_opt_called", None)
            else:
                obj._opt_called = flag
        _set_rng_state(self.rng)
        _set_dataloader_state(self.loader)
        if self.scaler is not None:
            scaler, saved = self.scaler
            scaler.load_state_dict(saved)


def _rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state:
        torch.cuda.set_rng_state_all(state["cuda"])


def _dataloader_parts(dataloader) -> list:
    """The loader and the samplers inside it (accelerate nests them a few levels deep)."""
    parts, seen, todo = [], set(), [dataloader]
    while todo and len(parts) < 16:
        obj = todo.pop(0)
        if obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        parts.append(obj)
        attrs = getattr(obj, "__dict__", {})
        todo += [attrs.get(name) for name in ("base_dataloader", "batch_sampler", "sampler")]
    return parts


def _dataloader_state(dataloader) -> list:
    """Epoch counters and generators that iterating a loader (or accelerate's wrappers) advances."""
    saved = []
    for part in _dataloader_parts(dataloader):
        attrs = getattr(part, "__dict__", {})
        for name in _DATALOADER_COUNTERS:
            if isinstance(attrs.get(name), (int, bool)):
                saved.append((part, name, attrs[name], None))
        if "generator" in attrs:
            generator = attrs["generator"]
            rng = generator.get_state() if isinstance(generator, torch.Generator) else None
            saved.append((part, "generator", generator, rng))
    return saved


def _set_dataloader_state(saved: list) -> None:
    for part, name, value, rng in saved:
        setattr(part, name, value)
        if rng is not None:
            value.set_state(rng)
