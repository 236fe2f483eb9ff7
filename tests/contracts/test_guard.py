"""A failure of the tool is never a verdict: exit 3, one line, the traceback on request.

And the contracts machinery is loaded only by the contracts commands.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from contracts_testkit import ROOT

from contracts.dense import generate
from contracts.guard import INTERNAL_ERROR, TRACEBACK_ENV, run_guarded

CLI = str(Path(sys.executable).parent / "lifecycle-sandbox")


def _crashing_app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.command()
    def boom() -> None:
        raise RuntimeError("the diff went wrong")

    return app


def test_an_unexpected_exception_exits_3_with_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TRACEBACK_ENV, raising=False)
    monkeypatch.setattr(sys, "argv", ["tool"])
    with pytest.raises(SystemExit) as stop:
        run_guarded(_crashing_app(), "tool")
    assert stop.value.code == INTERNAL_ERROR == 3
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: the diff went wrong" in err
    assert "not a verdict" in err and TRACEBACK_ENV in err
    assert "Traceback" not in err


def test_the_traceback_is_shown_when_asked_for(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TRACEBACK_ENV, "1")
    monkeypatch.setattr(sys, "argv", ["tool"])
    with pytest.raises(SystemExit) as stop:
        run_guarded(_crashing_app(), "tool")
    assert stop.value.code == 3
    assert "Traceback" in capsys.readouterr().err


def test_running_out_of_memory_is_exit_3_not_a_breaking_verdict(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_text(json.dumps(generate(2_000_000)))
    result = subprocess.run(
        [CLI, "contracts", "diff", str(big), str(big), "--max-memory", "64"],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != TRACEBACK_ENV},
    )
    assert result.returncode == 3, result.stderr
    assert "memory limit (64 MiB)" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_and_the_simulator_do_not_load_the_contracts_machinery() -> None:
    probe = (
        "import sys\n"
        "from sim.cli import app\n"
        "heavy = [m for m in ('contracts.validation', 'contracts.diff', 'openapi_schema_validator',"
        " 'jsonschema', 'pact', 'sim.world', 'simpy', 'numpy') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
