"""What the ``list`` and ``plot`` commands share: ``--import MODULE`` (modules that register schedules)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

__all__: list[str] = []  # reached through hf_lrsched.cli


def _import_modules(modules: list[str]) -> None:
    """Import user modules (that call ``register_schedule``), from the current folder as ``python -m`` would."""
    if modules and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise ValueError(f"--import {module!r} failed: {err}") from None


def _add_import_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first (repeatable), e.g. one that calls hf_lrsched.register_schedule",
    )
