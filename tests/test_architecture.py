"""The dependency rule of DESIGN.md, checked over every Python file with ``ast``.

``orchestrator`` <- ``sim`` <- ``mocks``; ``orchestrator`` <- ``live``; ``contracts``
stands alone (``mocks`` and ``live`` read its documents and route tables); nothing
imports ``tests``. The orchestrator is pure (no clock, no dice, no I/O), and the
simulation draws randomness only from ``sim.rng`` and time only from SimPy.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {".venv", "venv", ".git", "build", "dist", "node_modules", "__pycache__"}

NONDETERMINISM = {"random", "time", "uuid", "datetime", "secrets"}


@dataclass(frozen=True)
class Import:
    """One import: the file, the line, and the full dotted module name."""

    path: Path
    line: int
    module: str

    @property
    def top(self) -> str:
        return self.module.split(".")[0]

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT).as_posix()}:{self.line}: imports {self.module}"


def imports_in(path: Path, root: Path = ROOT) -> Iterator[Import]:
    """Every module ``path`` imports, with relative imports resolved.

    Also catches ``importlib.import_module("x")`` and ``__import__("x")`` with a
    literal name.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = list(path.relative_to(root).parent.parts)  # the package a module is in
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if module:
                yield Import(path, node.lineno, module)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            first = node.args[0]
            if (
                name in {"import_module", "__import__"}
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                yield Import(path, node.lineno, first.value)


def python_files(root: Path, under: str | None = None) -> list[Path]:
    """Every ``.py`` file of the repository (or of one top-level folder)."""
    start = root / under if under else root
    found = []
    for folder, dirs, files in os.walk(start):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        found.extend(Path(folder) / name for name in files if name.endswith(".py"))
    return sorted(found)


def violations(root: Path = ROOT) -> list[str]:
    """Every import that breaks the dependency rule, as ``file:line: imports x (why)``."""
    found: list[str] = []

    def check(folder: str, banned: set[str], why: str, allow: dict[str, set[str]]) -> None:
        for path in python_files(root, folder):
            rel = path.relative_to(root).as_posix()
            for imp in imports_in(path, root):
                if imp.top in banned and imp.top not in allow.get(rel, set()):
                    found.append(f"{rel}:{imp.line}: imports {imp.module} ({why})")

    check(
        "orchestrator",
        {"simpy", "sim", "mocks", "contracts", "tests", "httpx", "asyncio", *NONDETERMINISM},
        "the orchestrator is pure: no simulator, no clock, no randomness, no I/O",
        {"orchestrator/live.py": {"httpx", "asyncio"}},
    )
    check(
        "sim",
        {"mocks", "tests", "contracts", "random", "uuid", "time", "datetime", "secrets"},
        "sim/ depends only on orchestrator/; randomness from sim.rng, time from SimPy",
        # the CLI is the composition root: it offers the mocks' commands too
        {"sim/cli.py": {"contracts", "mocks"}, "sim/validation.py": {"contracts"}},
    )
    check(
        "contracts",
        {"orchestrator", "sim", "mocks", "tests"},
        "contracts/ stands alone",
        {},
    )
    check(
        "live",
        {"sim", "mocks", "simpy", "tests"},
        "live/ runs the orchestrator over HTTP: it reads the contracts' route tables, "
        "never the simulator",
        {},
    )
    check(
        "mocks",
        {"tests"},
        "mocks/ are the vendor models' HTTP faces (and the live command's composition)",
        {},
    )
    for path in python_files(root):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(("tests/", "orchestrator/", "sim/", "contracts/", "live/", "mocks/")):
            continue  # the folders above already ban ``tests``
        for imp in imports_in(path, root):
            if imp.top == "tests":
                found.append(f"{rel}:{imp.line}: imports {imp.module} (nothing imports tests)")
    return found


def test_the_layers_exist() -> None:
    for layer in ("orchestrator", "sim", "contracts", "mocks", "live"):
        assert python_files(ROOT, layer), layer


def test_dependency_rule() -> None:
    found = violations()
    assert not found, "the dependency rule of DESIGN.md is broken:\n  " + "\n  ".join(found)


def test_sim_imports_the_orchestrator_not_the_reverse() -> None:
    sim_imports = {imp.top for path in python_files(ROOT, "sim") for imp in imports_in(path)}
    assert "orchestrator" in sim_imports
    assert "simpy" in sim_imports


# --- the checker itself catches what it should --------------------------------------------


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_checker_reports_each_offence_with_file_and_line(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "orchestrator/__init__.py": "",
            "orchestrator/ok.py": "from orchestrator.effects import Call\nimport zlib\n",
            "orchestrator/bad.py": (
                "import json\n\ndef f():\n    import time\n    from sim import world\n"
            ),
            "orchestrator/live.py": (
                "import asyncio\nimport httpx\nfrom sim.driver import Runtime\n"
            ),
            "orchestrator/impure.py": "import asyncio\n",
            "sim/__init__.py": "",
            "sim/bad.py": "import random\nfrom uuid import uuid4\nfrom tests.support import Plan\n",
            "sim/cli.py": "from contracts.cli import app\nfrom datetime import datetime\n",
            "sim/other.py": "import contracts\n",
            "sim/sub/__init__.py": "",
            "sim/sub/rel.py": "from .. import rng\nfrom ...mocks import app\n",
            "contracts/gate.py": "import orchestrator.errors\n",
            "contracts/ok.py": "import yaml\nfrom contracts.findings import Finding\n",
            "mocks/app.py": (
                "import sim.world\nimport importlib\nimportlib.import_module('tests.support')\n"
            ),
            "tests/test_x.py": "import tests.support\nimport random\nimport sim\n",
        },
    )
    found = violations(root)
    expected = [
        "orchestrator/bad.py:4: imports time",
        "orchestrator/bad.py:5: imports sim",
        "orchestrator/impure.py:1: imports asyncio",
        "orchestrator/live.py:3: imports sim.driver",
        "sim/bad.py:1: imports random",
        "sim/bad.py:2: imports uuid",
        "sim/bad.py:3: imports tests.support",
        "sim/cli.py:2: imports datetime",
        "sim/other.py:1: imports contracts",
        "contracts/gate.py:1: imports orchestrator.errors",
        "sim/sub/rel.py:2: imports mocks",
        "mocks/app.py:3: imports tests.support",
    ]
    for offence in expected:
        assert any(line.startswith(offence + " ") for line in found), (offence, found)
    assert len(found) == len(expected), found
    # relative imports are resolved against the file's package
    rel = {imp.module for imp in imports_in(root / "sim/sub/rel.py", root)}
    assert rel == {"sim", "mocks"}


def test_checker_passes_a_clean_tree(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "orchestrator/a.py": "from orchestrator import effects\nimport zlib\n",
            "sim/a.py": "import simpy\nimport numpy\nfrom orchestrator.effects import Call\n",
            "contracts/a.py": "import yaml\n",
            "tests/test_a.py": "from tests.support import Plan\n",
        },
    )
    assert violations(root) == []
