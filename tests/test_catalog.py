"""The table of schedules (hf_lrsched.catalog) is the one list: everything that lists schedules agrees with it.

Each test that runs "for each schedule" keeps its own hand-checked cases (expected values never come
from the code under test); the coverage test below fails when a schedule of the table has no case there.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import test_plotting
import test_registry
import test_schedules_oracle
import test_schedules_properties
import test_trainer

import hf_lrsched
from hf_lrsched import catalog, registry, schedules
from hf_lrsched._hf import compat
from hf_lrsched.cli import schedule_table

README = Path(__file__).resolve().parent.parent / "README.md"
ALL = set(catalog.names())
WARMUP = set(catalog.warmup_names())


def test_every_registered_builtin_is_a_row_of_the_table():
    builtins = {name for name, entry in registry._REGISTRY.items() if entry.builtin}
    assert builtins == ALL
    ours = set(compat.known_scheduler_names()) - set(compat.transformers_scheduler_names())
    assert ALL <= ours


@pytest.mark.parametrize("name", catalog.names())
def test_each_row_is_registered_with_its_factory(name):
    row = catalog.by_name(name)
    assert hf_lrsched.available_schedules()[name] is row.factory
    assert getattr(schedules, row.builder.__name__) is row.builder  # every builder: hf_lrsched.schedules.<name>


def test_hf_lrsched_list_shows_every_row_as_ours():
    rows = {row["name"]: row for row in schedule_table()}
    assert {name for name, row in rows.items() if row["source"] == "hf-lrsched"} == ALL


def test_readme_schedule_table_is_generated_from_the_table():
    # Regenerate with: python -c "from hf_lrsched.catalog import markdown_table; print(markdown_table())"
    assert catalog.markdown_table() in README.read_text(encoding="utf-8")


def test_recipe_help_points_at_the_list_instead_of_a_copy_of_it():
    source = (README.parent / "recipes" / "finetune_accelerate.py").read_text(encoding="utf-8")
    help_text = source[source.index("lr_scheduler_type: str = field(") :].split("lr_scheduler_kwargs", 1)[0]
    assert "hf-lrsched list" in help_text
    assert not [name for name in catalog.names() if name in help_text]  # a copied list goes stale


@pytest.mark.parametrize("name", catalog.names())
def test_option_docs_give_every_option_a_meaning(name):
    docs = catalog.option_docs(catalog.by_name(name))
    assert [option for option, _, _ in docs] == list(hf_lrsched.schedule_options(name))
    assert all(meaning for _, _, meaning in docs), docs


def test_unknown_name_is_a_value_error_listing_the_builtins():
    with pytest.raises(ValueError, match=r"'sgd' is not a built-in .*sgdr"):
        catalog.by_name("sgd")


# Per-schedule cases kept by other test files: each must cover every row it is meant for.
PER_SCHEDULE_CASES = [
    ("test_registry.OPTIONS", set(test_registry.OPTIONS), ALL),
    ("test_registry.PURE", set(test_registry.PURE), WARMUP),
    ("test_plotting.PURE", set(test_plotting.PURE), ALL),
    ("test_trainer.PURE", set(test_trainer.PURE), WARMUP),
    ("test_trainer.WITH_OPTIONS", set(test_trainer.WITH_OPTIONS), ALL),
    ("test_schedules_oracle.WARMUP_FACTORIES", set(test_schedules_oracle.WARMUP_FACTORIES), WARMUP),
    ("test_schedules_oracle.CHECKPOINT_CASES", set(test_schedules_oracle.CHECKPOINT_CASES) & ALL, ALL),
]


@pytest.mark.parametrize(("where", "covered", "expected"), PER_SCHEDULE_CASES, ids=[c[0] for c in PER_SCHEDULE_CASES])
def test_per_schedule_cases_cover_the_table(where, covered, expected):
    assert covered == expected, f"{where}: missing {sorted(expected - covered)}, extra {sorted(covered - expected)}"


def test_property_tests_draw_every_warmup_builder():
    builders = {catalog.by_name(name).builder for name in WARMUP}
    assert set(test_schedules_properties.BUILDERS.values()) == builders
    assert all(inspect.isfunction(b) for b in builders)
