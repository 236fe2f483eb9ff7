"""The customer master-data story, as the README tells it, checked against real runs.

``scenarios/customer_master_data.yaml``: a week of edits to customers' names,
e-mails and billing addresses at the systems that own them, stray edits at the
others, and account merges, the change events late and out of order. With each
field's owner enforced, every copy ends at what its owner meant; without
(``--no-ownership``: the last writer wins), stray edits and late copies win.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sim.master_invariants import duplicate_customers, fields_off_owner
from sim.report import MASTER_DATA_ROWS
from sim.scenario import load
from sim.world import World

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "customer_master_data.yaml"
README = ROOT / "README.md"


def week(owned: bool) -> tuple[dict[str, Any], World]:
    scenario = load(SCENARIO)
    if not owned:
        policy = scenario.policy.model_copy(update={"ownership": False})
        scenario = scenario.model_copy(update={"policy": policy})
    world = World(scenario, scenario.seed, "hybrid")
    world.run()
    world.drain(cap=86400.0)
    return world.result()["metrics"], world


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[dict[str, Any], World]]:
    return {"owned": week(True), "last writer wins": week(False)}


def test_with_owners_every_copy_ends_at_what_its_owner_meant(runs: dict[str, Any]) -> None:
    metrics, world = runs["owned"]
    found = metrics["master_data"]
    assert found["stray_edits"] > 20
    assert found["stray_edits_overwritten"] == found["stray_edits"]  # each one, once
    assert found["stray_price_changes"] > 0 and found["price_changes"] > 5
    assert found["stray_prices_overwritten"] == found["stray_price_changes"]
    assert fields_off_owner(world) == [] and found["fields_off_owner"] == 0
    assert duplicate_customers(world) == []
    assert metrics["audit"]["duplicate_customer_after_merge"] == 0


def test_when_the_last_writer_wins_stray_edits_and_late_copies_win(runs: dict[str, Any]) -> None:
    metrics, world = runs["last writer wins"]
    found = metrics["master_data"]
    assert found["stray_edits_overwritten"] == 0
    assert found["fields_off_owner"] > 50
    assert len(fields_off_owner(world)) == found["fields_off_owner"]
    assert any(problem.startswith("price ") for problem in fields_off_owner(world))


def markdown(runs: dict[str, tuple[dict[str, Any], World]]) -> str:
    lines = ["| metric | " + " | ".join(f"`hybrid`, {name}" for name in runs) + " |"]
    lines.append("| --- |" + " ---: |" * len(runs))
    for label, show in MASTER_DATA_ROWS:
        lines.append(f"| {label} | " + " | ".join(show(m) for m, _ in runs.values()) + " |")
    return "\n".join(lines)


def test_the_readme_table_shows_what_compare_prints(runs: dict[str, Any]) -> None:
    table = markdown(runs)
    assert table in README.read_text(encoding="utf-8"), "the README's table should be:\n" + table
