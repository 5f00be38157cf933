"""Where a param group keeps its momentum: the one answer the factories, monitors, plots and recipes use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["momentum_key", "momentum_value"]


def momentum_key(group: Mapping[str, Any]) -> str | None:
    """``"betas"`` (Adam-style: momentum is ``betas[0]``), ``"momentum"`` (SGD-style), or ``None``.

    Args:
      group: a param group, or an optimizer's ``defaults`` (the key every group gets).

    Returns:
      The key that holds the momentum; ``None`` when the group has neither (e.g. Adagrad).

    Examples:
      >>> momentum_key({"lr": 1e-3, "betas": (0.9, 0.999)}), momentum_key({"momentum": 0.9}), momentum_key({})
      ('betas', 'momentum', None)
    """
    betas = group.get("betas")
    if isinstance(betas, (tuple, list)) and betas:
        return "betas"
    if "momentum" in group:
        return "momentum"
    return None


def momentum_value(group: Mapping[str, Any]) -> Any:
    """The momentum ``group`` uses: ``betas[0]`` or ``momentum`` as stored (a float, or a tensor), or ``None``.

    Examples:
      >>> momentum_value({"betas": (0.85, 0.999)}), momentum_value({"momentum": 0.9}), momentum_value({})
      (0.85, 0.9, None)
    """
    key = momentum_key(group)
    if key == "betas":
        return group["betas"][0]
    return group[key] if key is not None else None
