"""Hostile and broken documents: each is refused with exit 2 and one line, never a hang.

The commands run as a user runs them (the installed ``lifecycle-sandbox`` in a
subprocess), with a timeout that only guards against a hang: how fast each is
refused is measured by ``benchmarks/gate.py``, not asserted here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from contracts_testkit import ERP, PACTS, ROOT

from contracts.safeload import Limits, UnsafeInput, parse

CLI = str(Path(sys.executable).parent / "lifecycle-sandbox")
HANG_GUARD = 60  # seconds; a hostile input that is not refused would run far longer


def alias_bomb(levels: int = 9, fan: int = 9) -> str:
    """The billion-laughs document: each anchor is a list of ``fan`` aliases of the last."""
    lines = ['a0: &a0 ["lol"]']
    for level in range(1, levels + 1):
        refs = ", ".join(f"*a{level - 1}" for _ in range(fan))
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n" + "\n".join(lines) + "\n"


def deep_yaml(depth: int = 5000) -> str:
    body = "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "leaf: 1\n"
    return "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\nx-deep:\n" + "".join(
        "  " + line + "\n" for line in body.splitlines()
    )


HOSTILE: dict[str, tuple[str, str]] = {
    "alias-bomb.yaml": (alias_bomb(), "YAML aliases expand the document by"),
    "recursive-alias.yaml": (
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\nx: &loop [*loop]\n",
        "an alias refers to the anchor that contains it",
    ),
    "deep.yaml": (deep_yaml(), "nests deeper than"),
    "deep-flow.yaml": ("openapi: 3.0.3\nx: " + "[" * 20000 + "]" * 20000 + "\n", "nests deeper"),
    "deep.json": ('{"openapi": "3.0.3", "x": ' + "[" * 50000 + "]" * 50000 + "}", "nests deeper"),
    "duplicate.yaml": (
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a: {}\n  /a: {}\n",
        "the key '/a' is written twice in one mapping (first on line 4)",
    ),
    "duplicate.json": (
        '{"openapi": "3.0.3",\n "info": {"title": "t", "version": "1"},\n "paths": {},\n'
        ' "paths": {}}',
        "the key 'paths' is written twice in one object",
    ),
}


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def _refused(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    for needle in needles:
        assert needle in result.stderr, result.stderr


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_documents_are_refused_by_diff_gate_and_validate(tmp_path: Path, name: str) -> None:
    text, message = HOSTILE[name]
    path = tmp_path / name
    path.write_text(text)
    old = str(ERP / "erp-2026.1.yaml")
    _refused(_run("contracts", "diff", old, str(path)), str(path), message)
    gate = ("contracts", "gate", "--provider", "erp", "--spec", str(path), "--pacts", str(PACTS))
    _refused(_run(*gate), str(path), message)
    if name.endswith(".yaml"):
        _refused(_run("validate", str(path)), str(path), message)


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:  # sparse: 200 MB on paper, nothing on disk
        handle.truncate(200 * 1024 * 1024)
    result = _run("contracts", "diff", str(ERP / "erp-2026.1.yaml"), str(path))
    _refused(result, str(path), "200.0 MiB, over the 64.0 MiB limit", "--max-size")
    result = _run("validate", str(path))
    _refused(result, str(path), "over the 64.0 MiB limit")


def test_a_binary_file_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "archive.yaml"
    path.write_bytes(b"openapi: 3.0.3\n\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    _refused(
        _run("contracts", "diff", str(ERP / "erp-2026.1.yaml"), str(path)),
        f"{path}:4",  # the line of the first NUL byte
        "binary",
    )
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("openapi: 3.0.3\ninfo: {title: caf\xe9}\n".encode("latin-1"))
    _refused(_run("validate", str(latin)), f"{latin}:2", "not UTF-8")


def test_a_pact_file_goes_through_the_same_loader(tmp_path: Path) -> None:
    pact = tmp_path / "dup.json"
    pact.write_text('{"consumer": {"name": "a"},\n "consumer": {"name": "b"}, "interactions": []}')
    gate = ("contracts", "gate", "--provider", "erp", "--spec", str(ERP / "erp-2026.1.yaml"))
    _refused(_run(*gate, "--pacts", str(pact)), f"{pact}:2", "'consumer' is written twice")


def test_gate_and_diff_refuse_the_same_looping_reference(tmp_path: Path) -> None:
    doc = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/a": {
                "get": {
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/A"}}
                            },
                        }
                    }
                }
            }
        },
        "components": {
            "schemas": {
                "A": {"$ref": "#/components/schemas/B"},
                "B": {"$ref": "#/components/schemas/A"},
            }
        },
    }
    path = tmp_path / "loop.json"
    path.write_text(json.dumps(doc))
    message = "refers back to itself without reaching a schema"
    _refused(_run("contracts", "diff", str(path), str(path)), message)
    gate = ("contracts", "gate", "--provider", "erp", "--spec", str(path), "--pacts", str(PACTS))
    _refused(_run(*gate), message)


def test_the_limits_are_parameters_and_a_larger_budget_admits_more() -> None:
    bomb = alias_bomb(levels=4, fan=9)  # about 16,000 nodes once expanded
    with pytest.raises(UnsafeInput):
        parse(bomb, json_first=False, limits=Limits(max_alias_nodes=1_000))
    assert parse(bomb, json_first=False, limits=Limits(max_alias_nodes=100_000)).data["a4"]
    # Anchors that repeat a little data, as real documents use them, are fine.
    text = "base: &b {type: string}\nname: *b\ncity: *b\n"
    assert parse(text, json_first=False).data["city"] == {"type": "string"}
