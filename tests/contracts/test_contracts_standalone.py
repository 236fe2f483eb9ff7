"""``contracts`` stands alone: it imports nothing from orchestrator, sim, mocks or tests."""

from __future__ import annotations

import ast
from pathlib import Path

from contracts_testkit import ROOT

FORBIDDEN = {"orchestrator", "sim", "mocks", "tests"}


def test_contracts_imports_nothing_from_the_rest_of_the_project() -> None:
    offenders = []
    for path in sorted((ROOT / "contracts").rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_every_finding_kind_is_documented() -> None:
    from contracts.findings import CATALOG

    doc = (ROOT / "docs" / "contracts.md").read_text()
    missing = [kind for kind in CATALOG if f"`{kind}`" not in doc]
    assert missing == []


def test_the_catalogue_tables_in_the_docs_are_current(tmp_path: Path) -> None:
    from contracts.catalogue import refresh

    copy = tmp_path / "contracts.md"
    copy.write_text((ROOT / "docs" / "contracts.md").read_text())
    assert not refresh(str(copy)), (
        "docs/contracts.md is out of date: run `python -m contracts.catalogue docs/contracts.md`"
    )
