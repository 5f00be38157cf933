"""hf_lrsched.momentum: the one lookup of where a param group keeps its momentum, on real torch optimizers."""

from __future__ import annotations

import pytest
import torch

from hf_lrsched import momentum_key, momentum_value


def _param():
    return [torch.nn.Parameter(torch.zeros(1))]


@pytest.mark.parametrize(
    ("build", "key", "value"),
    [
        (lambda: torch.optim.AdamW(_param(), betas=(0.8, 0.99)), "betas", 0.8),
        (lambda: torch.optim.Adam(_param()), "betas", 0.9),
        (lambda: torch.optim.SGD(_param(), lr=0.1, momentum=0.7), "momentum", 0.7),
        (lambda: torch.optim.RMSprop(_param()), "momentum", 0.0),
        (lambda: torch.optim.Adagrad(_param()), None, None),
    ],
    ids=["adamw", "adam", "sgd", "rmsprop", "adagrad"],
)
def test_key_and_value_of_real_optimizers(build, key, value):
    optimizer = build()
    assert momentum_key(optimizer.defaults) == key
    assert momentum_key(optimizer.param_groups[0]) == key
    assert momentum_value(optimizer.param_groups[0]) == value


def test_recipes_and_package_modules_use_the_one_helper():
    import inspect

    from hf_lrsched import callbacks, factories, plotting

    for module in (factories, callbacks, plotting):
        source = inspect.getsource(module)
        assert 'group["betas"][0]' not in source and "def _momentum_key" not in source, module.__name__
