"""The bundled drills as a trainer uses them: each answer key beats nobody acting,
the same drill gives the same debrief byte for byte, and a wrong drill file is one
clear message with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sim.debrief import debrief
from sim.drill import load_drill
from sim.drill_session import run_drill
from sim.validation import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
DRILLS = sorted((ROOT / "drills").glob("*.yaml"))
COMMAND = [sys.executable, "-c", "from sim.cli import main; main()", "drill"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("path", DRILLS, ids=[p.stem for p in DRILLS])
def test_the_answer_key_beats_nobody_acting(path: Path) -> None:
    drill, scenario = load_drill(path)
    baseline = run_drill(drill, scenario, [])
    key = run_drill(drill, scenario, list(drill.answer_key))
    assert key.hurt["total"] < baseline.hurt["total"], (key.hurt, baseline.hurt)
    report = debrief(drill, key, baseline, key)
    assert report["time_to_detect_s"] is not None  # the incident shows in the hypothesis
    assert report["time_to_recover_s"] is not None  # and the answer key ends it, for good
    assert any(kind == "action" for _, kind, _ in report["timeline"])
    assert not any(kind == "refused" for _, kind, _ in report["timeline"])
    # the expert leaves nothing behind that nobody acting would not: no event unsettled
    assert key.hurt["events_unsettled"] <= baseline.hurt["events_unsettled"]
    assert key.hurt["dead_letters"] <= baseline.hurt["dead_letters"]
    # and nobody acting scores nothing against it
    assert debrief(drill, baseline, baseline, key)["score"] == 0


def test_the_same_drill_gives_the_same_debrief_byte_for_byte(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    drill = "drills/billing_schema_drift.yaml"
    assert cli("run", drill, "--json", str(first)).returncode == 0
    assert cli("run", drill, "--json", str(second)).returncode == 0
    assert first.read_bytes() == second.read_bytes()
    report = json.loads(first.read_text())
    assert report["mode"] == "answer key" and report["score"] == 100
    assert report["series"]["step_s"] == 60.0 and len(report["series"]["t"]) > 100
    assert report["stories"]  # the deals hurt most, told from the event log


def test_drill_list_names_every_bundled_drill() -> None:
    done = cli("list")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == len(DRILLS) >= 5
    assert "drills/erp_month_end.yaml" in done.stdout


def test_no_actions_is_the_baseline_and_scores_nothing(tmp_path: Path) -> None:
    out = tmp_path / "baseline.json"
    done = cli("run", "drills/lost_response_storm.yaml", "--no-actions", "--json", str(out))
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert report["mode"] == "baseline" and report["score"] == 0
    assert report["hurt"]["run"] == report["hurt"]["baseline"]
    assert "score: 0 of 100" in done.stdout


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "drill.yaml"
    path.write_text(text)
    return path


BASE = f"""\
name: x
title: x
briefing: x
scenario: {ROOT / "scenarios" / "b2b_saas_quote_to_cash.yaml"}
hypothesis:
  - {{metric: overdue, at_most: 0}}
injections:
  - {{at: 10m, for: 10m, kind: errors, system: erp, rate: 0.5}}
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            BASE.replace("rate: 0.5", "factor: 2"),
            "drill.yaml: 1 problem:\n  line 8: injections.0: a errors injection needs rate",
        ),
        (
            BASE + "allowed: [set_retries]\nanswer_key:\n  - {at: 12m, do: standby, system: erp}\n",
            "answer_key[0] does 'standby', which the drill does not allow",
        ),
        (BASE.replace("system: erp", "system: sap"), "unknown system 'sap'"),
        (
            BASE.replace(str(ROOT / "scenarios"), "nowhere"),
            "drill.yaml:4: scenario: no scenario file",
        ),
        (
            BASE + "overrides:\n  workload: {arrivals_per_hour: -5}\n",
            "line 10: overrides.workload.arrivals_per_hour",
        ),
        (
            BASE.replace("at_most: 0", "at_most: 0, at_least: 1"),
            "exactly one of at_most or at_least",
        ),
    ],
)
def test_a_wrong_drill_file_is_one_clear_message_and_exit_2(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load_drill(path)
    assert expected in str(caught.value)
    done = cli("run", str(path))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "lifecycle-sandbox drill run" in done.stderr or "scenario file" in done.stderr


def test_an_action_that_cannot_apply_is_refused_and_the_drill_goes_on(tmp_path: Path) -> None:
    text = BASE + (
        "allowed: [pause_consumers, set_retries]\nanswer_key:\n"
        "  - {at: 12m, do: pause_consumers, group: no-such-group}\n"
        "  - {at: 13m, do: set_retries, attempts: 9}\n"
    )
    drill, scenario = load_drill(write(tmp_path, text))
    run = run_drill(drill, scenario, list(drill.answer_key))
    kinds = [(kind, text) for _, kind, text in run.moments if kind in ("refused", "action")]
    assert kinds[0][0] == "refused" and "no consumer group 'no-such-group'" in kinds[0][1]
    assert kinds[1] == ("action", "set_retries 9: retry budget now 9 attempts")
