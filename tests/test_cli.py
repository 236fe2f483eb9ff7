"""The ``lifecycle-sandbox`` command, run as users run it: the console script."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from orchestrator.patterns import PATTERNS
from sim.world import World
from tests.support import quiet_scenario

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "lifecycle-sandbox"
DAY = ROOT / "scenarios" / "b2b_saas_quote_to_cash.yaml"
OUTAGE = ROOT / "scenarios" / "provisioning_outage.yaml"

QUANTILE_METRICS = ("cycle_time_s", "commitment_latency_s", "onboarding_duration_s")
COUNT_METRICS = (
    "deals",
    "orders_completed",
    "orders_compensated",
    "orders_escalated",
    "orders_in_flight",
    "commitments_failed",
    "manual_reconciliation_items",
    "data_quality_exceptions",
    "dlq_depth",
)
SYSTEM_COUNTERS = ("calls", "errors", "retries", "rate_limited", "breaker_opens")
SYSTEMS = ("crm", "erp", "billing", "provisioning", "support", "oms")

BAD_DURATION_FILE = """\
name: bad
workload:
  arrivals_per_hour: 60
policy:
  timeout: 5x
"""


def cli(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"},
    )


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _check_run(result: dict[str, Any]) -> None:
    assert {"scenario", "pattern", "seed", "metrics", "trace_hash"} <= set(result)
    metrics = result["metrics"]
    for name in COUNT_METRICS:
        assert isinstance(metrics[name], int), name
    for name in QUANTILE_METRICS:
        assert set(metrics[name]) == {"p50", "p95", "p99"}, name
    assert 0.0 <= metrics["sla_compliance"] <= 1.0
    assert set(metrics["systems"]) == set(SYSTEMS)
    for system in SYSTEMS:
        for counter in SYSTEM_COUNTERS:
            assert isinstance(metrics["systems"][system][counter], int), (system, counter)
    assert len(result["trace_hash"]) == 32
    int(result["trace_hash"], 16)


@pytest.fixture(scope="module")
def run_30(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    path = tmp_path_factory.mktemp("cli") / "run.json"
    done = cli("run", DAY, "--orders", "30", "--seed", "3", "--json", path)
    return done, path


def test_script_is_installed() -> None:
    assert SCRIPT.exists(), f"{SCRIPT} missing: pip install -e . into the venv"


def test_run_writes_json_with_every_metric(run_30: tuple[Any, Path]) -> None:
    done, path = run_30
    assert done.returncode == 0, done.stderr
    result = _load(path)
    _check_run(result)
    assert result["scenario"] == "b2b_saas_quote_to_cash"
    assert result["pattern"] == "hybrid"  # the scenario's default
    assert result["seed"] == 3
    assert result["interrupted"] is False
    metrics = result["metrics"]
    assert metrics["deals"] == 30
    ended = (
        metrics["orders_completed"]
        + metrics["orders_compensated"]
        + metrics["orders_escalated"]
        + metrics["orders_rejected"]
        + metrics["orders_failed"]
        + metrics["orders_abandoned"]
    )
    assert ended + metrics["orders_in_flight"] == 30
    assert metrics["orders_in_flight"] == 0  # --orders runs until every deal has ended
    assert metrics["orders_completed"] > 0
    assert metrics["cycle_time_s"]["p50"] <= metrics["cycle_time_s"]["p99"]
    assert metrics["systems"]["erp"]["calls"] >= 30
    # the table on stdout says the same
    assert result["trace_hash"] in done.stdout
    assert "b2b_saas_quote_to_cash" in done.stdout


def test_same_seed_gives_byte_identical_json(run_30: tuple[Any, Path], tmp_path: Path) -> None:
    _, first = run_30
    second = tmp_path / "again.json"
    done = cli("run", DAY, "--orders", "30", "--seed", "3", "--json", second)
    assert done.returncode == 0, done.stderr
    assert second.read_bytes() == first.read_bytes()


def test_another_seed_gives_another_trace(run_30: tuple[Any, Path], tmp_path: Path) -> None:
    _, first = run_30
    other = tmp_path / "other.json"
    done = cli("run", DAY, "--orders", "30", "--seed", "4", "--json", other)
    assert done.returncode == 0, done.stderr
    assert _load(other)["seed"] == 4
    assert _load(other)["trace_hash"] != _load(first)["trace_hash"]


def test_run_for_a_duration_with_a_pattern(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    done = cli("run", DAY, "--duration", "30m", "--pattern", "sync_chain", "--json", path)
    assert done.returncode == 0, done.stderr
    result = _load(path)
    _check_run(result)
    assert result["pattern"] == "sync_chain"
    assert result["seed"] == 7  # the scenario's
    assert result["simulated_s"] == 1800.0
    assert 30 <= result["metrics"]["deals"] <= 100  # 120 deals/hour for half an hour


def test_compare_gives_one_result_per_pattern_in_order(tmp_path: Path) -> None:
    path = tmp_path / "cmp.json"
    done = cli(
        "compare", OUTAGE, "--patterns", "sync_chain,hybrid", "--orders", "20", "--json", path
    )
    assert done.returncode == 0, done.stderr
    document = _load(path)
    assert list(document) == ["results"]
    results = document["results"]
    assert [r["pattern"] for r in results] == ["sync_chain", "hybrid"]
    for result in results:
        _check_run(result)
        assert result["scenario"] == "provisioning_outage"
        assert result["metrics"]["deals"] == 20
    assert results[0]["trace_hash"] != results[1]["trace_hash"]
    assert "sync_chain" in done.stdout and "hybrid" in done.stdout


@pytest.mark.parametrize("scenario", [DAY, OUTAGE])
def test_validate_bundled_scenarios(scenario: Path) -> None:
    done = cli("validate", scenario)
    assert done.returncode == 0, done.stderr
    assert "valid scenario" in done.stdout
    assert scenario.stem in done.stdout
    assert done.stderr == ""


# --- every bad input: exit 2, one message on stderr, no traceback -------------------------


def _fails(done: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert "Traceback" not in done.stdout
    assert done.stderr.strip(), "no message on stderr"
    for needle in needles:
        assert needle in done.stderr, (needle, done.stderr)
    return done.stderr


def _one_error(stderr: str) -> None:
    assert stderr.startswith("error: "), stderr
    assert len(re.findall(r"^error: ", stderr, re.MULTILINE)) == 1, stderr


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    _one_error(_fails(cli("run", missing, "--orders", "5"), str(missing), "no such file"))


def test_validate_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    _fails(cli("validate", missing), str(missing))


def test_yaml_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nworkload: [a\n  b: c\n")
    stderr = _fails(cli("run", path, "--orders", "5"), f"{path}:3:", "YAML syntax error")
    _one_error(stderr)


def test_unknown_field(tmp_path: Path) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text("name: x\nworkload:\n  arrivals_per_hour: 60\n  acounts: 3\n")
    stderr = _fails(
        cli("validate", path), str(path), "line 4", "workload.acounts", "did you mean 'accounts'"
    )
    _one_error(stderr)


def test_bad_duration_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "dur.yaml"
    path.write_text(BAD_DURATION_FILE)
    stderr = _fails(
        cli("run", path, "--orders", "5"), str(path), "line 5", "policy.timeout", "'5x'"
    )
    _one_error(stderr)


def test_unknown_pattern_flag() -> None:
    stderr = _fails(cli("run", DAY, "--pattern", "nope", "--orders", "5"), "--pattern", "'nope'")
    for name in PATTERNS:
        assert name in stderr
    _one_error(stderr)


def test_unknown_pattern_in_list() -> None:
    stderr = _fails(
        cli("compare", DAY, "--patterns", "sync_chain,nope", "--orders", "5"),
        "--patterns",
        "'nope'",
    )
    _one_error(stderr)


@pytest.mark.parametrize(
    ("patterns", "says"),
    [("sync_chain,", "pattern 2 is empty"), ("hybrid,hybrid", "'hybrid' is named twice")],
)
def test_an_empty_or_repeated_pattern_in_the_list(patterns: str, says: str) -> None:
    stderr = _fails(cli("compare", DAY, "--patterns", patterns, "--orders", "5"), says)
    _one_error(stderr)


def test_brackets_the_user_typed_are_printed_as_typed(tmp_path: Path) -> None:
    folder = tmp_path / "runs[red]"
    folder.mkdir()
    path = folder / "day.yaml"
    path.write_text(DAY.read_text().replace("horizon: 8h", 'horizon: "[bold]8h"'))
    stderr = _fails(cli("validate", path), str(path), "'[bold]8h'")
    _one_error(stderr)


def test_bad_duration_flag() -> None:
    stderr = _fails(cli("run", DAY, "--duration", "5x"), "--duration", "'5x'")
    _one_error(stderr)


def test_zero_duration_flag() -> None:
    _fails(cli("run", DAY, "--duration", "0s"), "--duration")


def test_zero_orders() -> None:
    _fails(cli("run", DAY, "--orders", "0"), "--orders")


def test_orders_and_duration_together() -> None:
    stderr = _fails(cli("run", DAY, "--orders", "5", "--duration", "1h"), "--orders", "--duration")
    _one_error(stderr)


def test_negative_seed_flag() -> None:
    stderr = _fails(cli("run", DAY, "--orders", "5", "--seed", "-1"), "--seed")
    assert "non-negative" in stderr or ">=" in stderr or "greater than" in stderr


def test_negative_seed_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text("name: x\nseed: -5\nworkload: {arrivals_per_hour: 60}\n")
    stderr = _fails(cli("run", path, "--orders", "5"), str(path), "line 2", "seed")
    _one_error(stderr)


def test_unknown_flag() -> None:
    _fails(cli("run", DAY, "--bogus"), "--bogus")


def test_json_into_a_missing_directory_makes_it(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "dir" / "out.json"
    done = cli("run", DAY, "--orders", "20", "--json", target)
    assert done.returncode == 0, done.stderr
    assert json.loads(target.read_text())["metrics"]["deals"] == 20


def test_json_below_a_file_is_refused_before_the_run(tmp_path: Path) -> None:
    blocker = tmp_path / "results"
    blocker.write_text("not a folder")
    target = blocker / "out.json"
    done = cli("run", DAY, "--orders", "20", "--json", target)
    _one_error(_fails(done, "--json", str(target)))
    assert "deals closed" not in done.stdout  # refused before the run, not after


def test_no_problem_no_stderr(tmp_path: Path) -> None:
    done = cli("run", DAY, "--orders", "20", "--json", tmp_path / "ok.json")
    assert done.returncode == 0
    assert "error" not in done.stderr.lower()


# --- the event log -------------------------------------------------------------------------

STORM = ROOT / "scenarios" / "webhook_storm.yaml"


@pytest.fixture(scope="module")
def storm_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("events")
    log, result = folder / "events.jsonl", folder / "run.json"
    done = cli("run", STORM, "--orders", "25", "--events", log, "--json", result)
    assert done.returncode == 0, done.stderr
    return log, result


def _lines(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def test_the_event_log_is_the_same_byte_for_byte_on_a_second_run(
    storm_log: tuple[Path, Path], tmp_path: Path
) -> None:
    log, result = storm_log
    again = tmp_path / "again.jsonl"
    done = cli("run", STORM, "--orders", "25", "--events", again, "--json", tmp_path / "r.json")
    assert done.returncode == 0, done.stderr
    assert again.read_bytes() == log.read_bytes()
    # writing the log does not change the run
    assert _load(tmp_path / "r.json")["trace_hash"] == _load(result)["trace_hash"]


def test_every_line_of_the_event_log_says_when_what_and_for_whom(
    storm_log: tuple[Path, Path],
) -> None:
    lines = _lines(storm_log[0])
    kinds = {line["kind"] for line in lines}
    assert {"call", "publish", "deliver", "duplicate"} <= kinds  # the storm duplicates
    times = [line["t"] for line in lines]
    assert times == sorted(times)
    for line in lines:
        assert line["correlation"], line
        if line["kind"] == "call":
            assert {"system", "operation", "status", "outcome", "latency"} <= set(line)
        else:
            assert {"topic", "event"} <= set(line), line


def test_one_deal_can_be_followed_through_the_log(storm_log: tuple[Path, Path]) -> None:
    lines = _lines(storm_log[0])
    deal = next(line["correlation"] for line in lines if line["correlation"].startswith("D-"))
    story = [line for line in lines if line["correlation"] == deal]
    calls = [(line["system"], line["operation"]) for line in story if line["kind"] == "call"]
    assert ("erp", "createSalesOrder") in calls
    published = {line["topic"] for line in story if line["kind"] == "publish"}
    assert {"order.accepted", "order.live"} <= published  # the hybrid pattern's events
    # every delivery of the deal's events follows its publication
    first_published = {}
    for line in story:
        if line["kind"] == "publish":
            first_published.setdefault(line["event"], line["t"])
        elif line["kind"] == "deliver":
            assert line["t"] >= first_published[line["event"]], line


def test_without_the_flag_no_event_log_is_written(tmp_path: Path) -> None:
    done = cli("run", STORM, "--orders", "5", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_event_log_below_a_file_is_refused_before_the_run(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file")
    done = cli("run", STORM, "--orders", "5", "--events", tmp_path / "blocker" / "e.jsonl")
    _one_error(_fails(done, "--events"))
    assert "trace hash" not in done.stdout


# --- a pattern the scenario lacks a system for ------------------------------------------------


def test_a_pattern_without_its_system_is_refused_before_anything_runs(tmp_path: Path) -> None:
    path = tmp_path / "no_oms.yaml"
    path.write_text("name: x\nworkload: {arrivals_per_hour: 60}\nsystems:\n  oms: null\n")
    json_path = tmp_path / "c.json"
    done = cli("compare", path, "--patterns", "hybrid,outbox", "--orders", "5", "--json", json_path)
    _one_error(_fails(done, str(path), "'outbox' needs systems.oms", "choose another pattern"))
    assert "trace hash" not in done.stdout  # hybrid was not run first and then thrown away
    assert not json_path.exists()


def test_a_scenario_whose_own_pattern_lacks_its_system_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "no_oms.yaml"
    path.write_text(
        "name: x\npattern: outbox\nworkload: {arrivals_per_hour: 60}\nsystems:\n  oms: null\n"
    )
    _one_error(_fails(cli("validate", path), str(path), "line 5: systems.oms", "needs systems.oms"))


def test_consumers_that_must_remember_need_the_order_store(tmp_path: Path) -> None:
    path = tmp_path / "long_redelivery.yaml"
    path.write_text(
        "name: x\nworkload: {arrivals_per_hour: 60}\n"
        "broker:\n  max_deliveries: 40\n  redelivery: {base: 10m, cap: 6h}\n"
        "systems:\n  oms: null\n"
    )
    stderr = _fails(cli("validate", path), str(path), "line 7: systems.oms")
    assert "later than a vendor remembers idempotency keys" in stderr
    assert "policy.dedupe: false" in stderr  # says what to do instead
    # turning the consumers' memory off is accepted: the user chose it
    path.write_text(path.read_text() + "policy: {dedupe: false}\n")
    assert cli("validate", path).returncode == 0


# --- interrupt handling through the API -----------------------------------------------------


def test_interrupted_run_keeps_what_it_measured() -> None:
    world = World(quiet_scenario(), 1)
    calls: list[float] = []

    def progress(done: float) -> None:
        calls.append(done)
        if len(calls) == 5:
            raise KeyboardInterrupt

    world.run(progress=progress)
    result = world.result()
    assert result["interrupted"] is True
    assert calls == [0.01, 0.02, 0.03, 0.04, 0.05]
    assert result["simulated_s"] == pytest.approx(0.05 * 7200)  # stopped where it was
    deals = result["metrics"]["deals"]
    assert deals == len(world.recorder.closed_at)
    assert 20 <= deals <= 100  # ~600 deals/hour for 6 minutes
    assert result["metrics"]["orders_completed"] > 0
    assert len(result["trace_hash"]) == 32
    json.dumps(result)  # still JSON-ready


def test_interrupted_order_run_counts_deals_so_far() -> None:
    world = World(quiet_scenario(), 1)
    steps: list[float] = []

    def progress(done: float) -> None:
        steps.append(done)
        if len(steps) == 2:
            raise KeyboardInterrupt

    world.run(orders=500, progress=progress)
    result = world.result()
    assert result["interrupted"] is True
    assert result["simulated_s"] == pytest.approx(1200.0)  # two steps of ten minutes
    assert 0 < result["metrics"]["deals"] < 500
    assert result["metrics"]["deals"] == len(world.recorder.closed_at)


def test_interrupt_in_the_middle_of_a_step_keeps_results() -> None:
    # Ctrl-C lands wherever the simulation is, not only between progress steps
    world = World(quiet_scenario(), 1)

    def ctrl_c() -> Any:
        yield world.env.timeout(1000.0)
        raise KeyboardInterrupt

    world.env.process(ctrl_c())
    world.run()
    result = world.result()
    assert result["interrupted"] is True
    assert result["simulated_s"] == pytest.approx(1000.0)
    assert result["metrics"]["deals"] == len(world.recorder.closed_at) > 0


def test_uninterrupted_run_is_not_marked() -> None:
    world = World(quiet_scenario(horizon="10m"), 1)
    world.run()
    result = world.result()
    assert result["interrupted"] is False
    assert result["simulated_s"] == 600.0
