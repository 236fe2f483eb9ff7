"""The README's examples run as written.

Every ``$ command`` line in a ```console block runs in a scratch copy of the
repository's scenarios, contracts, docs and drills, with the project's console script on
the PATH. It must exit 0, or N when the line ends with ``# exits N``, and every
output line the README shows after it (other than ``...``) must appear in what it
printed.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"```console\n(.*?)```", re.S)
EXITS = re.compile(r"\s+#\s*exits\s+(\d+)\s*$")


def examples() -> list[tuple[str, int, list[str]]]:
    """``(command, expected exit code, expected output lines)`` from the README."""
    found: list[tuple[str, int, list[str]]] = []
    for block in BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8")):
        for line in block.splitlines():
            if line.startswith("$ "):
                command = line[2:]
                code = 0
                marked = EXITS.search(command)
                if marked:
                    code = int(marked.group(1))
                    command = command[: marked.start()]
                found.append((command, code, []))
            elif found and line.strip() and line.strip() != "...":
                found[-1][2].append(line.strip())
    return found


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("readme")
    for folder in ("scenarios", "contracts", "docs", "drills"):
        shutil.copytree(ROOT / folder, where / folder)
    return where


def test_the_readme_has_examples() -> None:
    commands = [command for command, _, _ in examples()]
    assert any(c.startswith("lifecycle-sandbox compare") for c in commands)
    assert any(c.startswith("lifecycle-sandbox validate") for c in commands)


@pytest.mark.parametrize(("command", "code", "shown"), examples(), ids=lambda v: str(v)[:60])
def test_readme_example_runs_as_written(
    command: str, code: int, shown: list[str], scratch: Path
) -> None:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "COLUMNS": "250",
    }
    done = subprocess.run(
        shlex.split(command), cwd=scratch, env=env, capture_output=True, text=True, timeout=120
    )
    printed = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == code, f"{command}\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr
    missing = [line for line in shown if " ".join(line.split()) not in printed]
    assert missing == [], f"{command} did not print:\n" + "\n".join(missing)
