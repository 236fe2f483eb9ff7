"""Durations, scenario loading, and the messages a bad scenario file gets."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from sim.knobs import parse_duration
from sim.scenario import SYSTEMS, Scenario, ScenarioError, load

BASE = """\
# a small scenario for validation tests
name: probe
horizon: 2h
workload:
  arrivals_per_hour: 60
  accounts: 10
systems:
  erp:
    latency: {p50: 100ms, p99: 1s}
    error_rate: 0.01
policy:
  timeout: 5s
"""
# line numbers in BASE, 1-based
LINE = {
    "name": 2,
    "horizon": 3,
    "workload": 4,
    "arrivals_per_hour": 5,
    "accounts": 6,
    "erp": 8,
    "latency": 9,
    "error_rate": 10,
    "timeout": 12,
}


# --- parse_duration --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("45s", 45.0),
        ("1.5s", 1.5),
        ("10m", 600.0),
        ("2h30m", 9000.0),
        ("1m30s", 90.0),
        ("1d", 86400.0),
        ("1h 30m", 5400.0),
        (" 5s ", 5.0),
        ("0s", 0.0),
        (5, 5.0),
        (2.5, 2.5),
        (0, 0.0),
    ],
)
def test_parse_duration_accepts(text: object, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)
    assert isinstance(parse_duration(text), float)


@pytest.mark.parametrize(
    "value",
    [
        "5x",
        "-1s",
        "",
        "   ",
        "s",
        "1.s",
        "5 seconds",
        "1e3s",
        "h2",
        True,
        False,
        -1,
        None,
        [1],
        math.inf,
        math.nan,
    ],
)
def test_parse_duration_rejects(value: object) -> None:
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration(value)


def test_parse_duration_names_the_bad_value() -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration("5x")
    assert "'5x'" in str(caught.value)
    assert "250ms" in str(caught.value)  # says what a good one looks like


# --- bundled scenarios -------------------------------------------------------------------


def test_bundled_business_day_loads(root: Path) -> None:
    scenario = load(root / "scenarios" / "b2b_saas_quote_to_cash.yaml")
    assert scenario.name == "b2b_saas_quote_to_cash"
    assert scenario.seed == 7
    assert scenario.horizon == 8 * 3600.0
    assert scenario.pattern == "hybrid"
    assert scenario.workload.arrivals_per_hour == 120
    assert [p.name for p in scenario.workload.plans] == ["starter", "pro", "enterprise"]
    assert scenario.workload.onboarding_time.p99 == 2 * 86400.0
    erp = scenario.knobs("erp")
    assert erp.latency.p50 == 0.6
    assert erp.latency.p99 == 4.0
    assert erp.concurrency == 15
    assert erp.rejection_rate == 0.02
    assert scenario.knobs("crm").rate_limit is not None
    assert scenario.knobs("crm").rate_limit.burst == 40
    assert scenario.sla.commitment == 30.0
    assert scenario.broker.redelivery.cap == 900.0
    policy = scenario.build_policy()
    assert policy.timeout == 10.0
    assert policy.compensation_retry.cap == 120.0
    assert policy.max_in_flight == {"crm": 25, "erp": 15, "provisioning": 20}


def test_bundled_outage_scenario_loads(root: Path) -> None:
    scenario = load(root / "scenarios" / "provisioning_outage.yaml")
    assert scenario.name == "provisioning_outage"
    outages = scenario.knobs("provisioning").outages
    assert len(outages) == 1
    assert (outages[0].start, outages[0].end, outages[0].mode) == (13500.0, 16200.0, "down")
    for system in SYSTEMS:
        if system != "provisioning":
            assert scenario.knobs(system).outages == []


def test_every_bundled_scenario_is_valid(root: Path) -> None:
    files = sorted((root / "scenarios").glob("*.yaml"))
    assert len(files) >= 2
    for path in files:
        assert isinstance(load(path), Scenario)


def test_a_minimal_file_gets_defaults(tmp_path: Path) -> None:
    path = tmp_path / "min.yaml"
    path.write_text("name: tiny\nworkload: {arrivals_per_hour: 10}\n")
    scenario = load(path)
    assert scenario.horizon == 8 * 3600.0
    assert scenario.pattern == "hybrid"
    assert scenario.knobs("erp").latency.fixed == 0.1
    assert scenario.build_policy().max_in_flight == {}


def test_bulkhead_off_means_no_caps(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        BASE.replace("  timeout: 5s", "  timeout: 5s\n  bulkhead: false").replace(
            "    error_rate: 0.01", "    error_rate: 0.01\n    concurrency: 4"
        )
    )
    assert load(path).build_policy().max_in_flight == {}
    path.write_text(
        BASE.replace("    error_rate: 0.01", "    error_rate: 0.01\n    concurrency: 4")
    )
    assert load(path).build_policy().max_in_flight == {"erp": 4}


# --- bad files ----------------------------------------------------------------------------


def _error(tmp_path: Path, text: str, name: str = "bad.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load(path)
    message = str(caught.value)
    assert str(path) in message  # every message names the file
    assert "Traceback" not in message
    return message


def test_base_file_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(BASE)
    assert load(path).policy.timeout == 5.0


def test_unknown_field_suggests_the_close_one(tmp_path: Path) -> None:
    message = _error(tmp_path, BASE.replace("  accounts: 10", "  acounts: 10"))
    assert f"line {LINE['accounts']}: workload.acounts" in message
    assert "unknown field 'acounts'" in message
    assert "did you mean 'accounts'?" in message
    assert "arrivals_per_hour" in message  # lists what is allowed
    assert "1 problem" in message


def test_unknown_top_level_field(tmp_path: Path) -> None:
    message = _error(tmp_path, BASE.replace("horizon: 2h", "horizen: 2h"))
    assert f"line {LINE['horizon']}: horizen" in message
    assert "did you mean 'horizon'?" in message


def test_bad_duration_names_line_and_field(tmp_path: Path) -> None:
    message = _error(tmp_path, BASE.replace("timeout: 5s", "timeout: 5x"))
    assert f"line {LINE['timeout']}: policy.timeout" in message
    assert "expected a duration" in message
    assert "'5x'" in message


def test_bad_nested_duration(tmp_path: Path) -> None:
    message = _error(tmp_path, BASE.replace("p50: 100ms", "p50: fast"))
    assert f"line {LINE['latency']}: systems.erp.latency.p50" in message
    assert "'fast'" in message


@pytest.mark.parametrize("value", ["1.5", "-0.1"])
def test_out_of_range_rate(tmp_path: Path, value: str) -> None:
    message = _error(tmp_path, BASE.replace("error_rate: 0.01", f"error_rate: {value}"))
    assert f"line {LINE['error_rate']}: systems.erp.error_rate" in message
    assert re.search(r"(less|greater) than or equal to [01]", message)
    assert value in message


def test_a_rate_that_is_not_a_number_says_what_range_is_expected(tmp_path: Path) -> None:
    message = _error(tmp_path, BASE.replace("error_rate: 0.01", "error_rate: 5x"))
    assert f"line {LINE['error_rate']}: systems.erp.error_rate" in message
    assert "expected a number from 0 to 1, got '5x'" in message


def test_unknown_system(tmp_path: Path) -> None:
    message = _error(tmp_path, BASE.replace("  erp:", "  sap:"))
    assert f"line {LINE['erp']}: systems.sap" in message
    assert "unknown field 'sap'" in message
    for system in SYSTEMS:
        assert system in message


def test_unknown_pattern(tmp_path: Path) -> None:
    message = _error(tmp_path, BASE.replace("horizon: 2h", "horizon: 2h\npattern: nope"))
    assert f"line {LINE['horizon'] + 1}: pattern" in message
    assert "'nope'" in message
    assert "sync_chain" in message
    assert "hybrid" in message


def test_missing_required_nested_field(tmp_path: Path) -> None:
    message = _error(tmp_path, BASE.replace("  arrivals_per_hour: 60\n", ""))
    # the line of the mapping the field belongs in
    assert f"line {LINE['workload']}: workload.arrivals_per_hour" in message
    assert "missing required field" in message


def test_missing_required_top_level_field(tmp_path: Path) -> None:
    message = _error(tmp_path, "name: x\nhorizon: 1h\n")
    assert "workload: missing required field" in message


def test_unknown_field_in_an_optional_section(tmp_path: Path) -> None:
    text = BASE.replace("  timeout: 5s", "  timeout: 5s\n  breaker: {failure_treshold: 3}")
    message = _error(tmp_path, text)
    assert f"line {LINE['timeout'] + 1}: policy.breaker.failure_treshold" in message
    assert "did you mean 'failure_threshold'?" in message


def test_unknown_field_in_a_list_item(tmp_path: Path) -> None:
    plans = "  plans:\n    - {name: a, sku: A, unit_price: 1, seats: [1, 2], seets: 3}"
    message = _error(tmp_path, BASE.replace("  accounts: 10", "  accounts: 10\n" + plans))
    assert f"line {LINE['accounts'] + 2}: workload.plans.0.seets" in message
    assert "did you mean 'seats'?" in message


def test_unknown_system_in_max_in_flight(tmp_path: Path) -> None:
    text = BASE.replace("  timeout: 5s", "  timeout: 5s\n  max_in_flight: {sap: 3}")
    message = _error(tmp_path, text)
    assert f"line {LINE['timeout'] + 1}: policy.max_in_flight.sap" in message
    assert "'erp'" in message
    assert "'sap'" in message


def test_negative_seed_is_rejected(tmp_path: Path) -> None:
    # a run seeds numpy's SeedSequence, which takes only non-negative integers:
    # a file that validates must also run
    message = _error(tmp_path, BASE.replace("horizon: 2h", "horizon: 2h\nseed: -5"))
    assert f"line {LINE['horizon'] + 1}: seed" in message
    assert "-5" in message


def test_latency_with_two_forms(tmp_path: Path) -> None:
    message = _error(tmp_path, BASE.replace("{p50: 100ms, p99: 1s}", "{p50: 100ms, mean: 1s}"))
    assert f"line {LINE['latency']}: systems.erp.latency" in message
    assert "exactly one form" in message


def test_every_problem_is_listed_in_line_order(tmp_path: Path) -> None:
    text = BASE.replace("timeout: 5s", "timeout: 5x").replace("  accounts: 10", "  acounts: 10")
    message = _error(tmp_path, text)
    assert "2 problems" in message
    first = message.index(f"line {LINE['accounts']}:")
    second = message.index(f"line {LINE['timeout']}:")
    assert first < second
    assert "lifecycle-sandbox validate" in message  # says what to do next


def test_yaml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    message = _error(tmp_path, BASE.replace("  accounts: 10", "  accounts: [10\n  x: 1"))
    assert f"bad.yaml:{LINE['accounts'] + 1}:4: YAML syntax error" in message
    assert "expected ',' or ']'" in message


def test_tab_indentation_is_a_syntax_error(tmp_path: Path) -> None:
    message = _error(tmp_path, BASE.replace("  accounts: 10", "\taccounts: 10"))
    assert re.search(rf"bad\.yaml:{LINE['accounts']}:\d+: YAML syntax error", message)


@pytest.mark.parametrize(("text", "kind"), [("- a\n- b\n", "list"), ("42\n", "int")])
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, kind: str) -> None:
    message = _error(tmp_path, text)
    assert "bad.yaml:1: expected a mapping" in message
    assert f"got {kind}" in message


def test_an_empty_file_says_so(tmp_path: Path) -> None:
    message = _error(tmp_path, "")
    assert "bad.yaml:1: the file is empty" in message
    assert "arrivals_per_hour" in message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ScenarioError) as caught:
        load(path)
    message = str(caught.value)
    assert str(path) in message
    assert "no such file" in message
    assert "scenarios/" in message


def test_a_directory_is_not_a_scenario(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load(tmp_path)
    assert str(tmp_path) in str(caught.value)


# --- the lifecycle, the batch pattern and reconciliation ----------------------------------

LIFE = (
    BASE.replace(
        "  accounts: 10\n",
        "  accounts: 10\n  lifecycle:\n"
        "    seat_changes_per_month: 2\n    seat_change: [-0.3, 0.5]\n",
    )
    + """\
reconciliation: {every: 24h, at: "02:00"}
patterns:
  batch: {every: 5m, size: 50}
"""
)
# lines 7-9: the lifecycle; 16: reconciliation; 18: batch


def test_the_lifecycle_reconciliation_and_batch_knobs_load(tmp_path: Path) -> None:
    path = tmp_path / "life.yaml"
    path.write_text(LIFE)
    scenario = load(path)
    assert scenario.workload.lifecycle is not None
    assert scenario.workload.lifecycle.seat_changes_per_month == 2
    assert scenario.reconciliation is not None and scenario.reconciliation.first() == 7200.0
    assert scenario.patterns.batch.every == 300.0 and scenario.patterns.batch.size == 50


def _life(tmp_path: Path, old: str, new: str) -> str:
    return _error(tmp_path, LIFE.replace(old, new))


def test_a_reconciliation_time_that_does_not_parse_names_its_line(tmp_path: Path) -> None:
    message = _life(tmp_path, 'at: "02:00"', 'at: "2am"')
    assert "line 16: reconciliation.at" in message
    assert "expected a time of day such as '02:00' (HH:MM), got '2am'" in message


@pytest.mark.parametrize("at", ["24:00", "02:60", "2:5", "0200"])
def test_impossible_times_of_day_are_refused(tmp_path: Path, at: str) -> None:
    assert "reconciliation.at" in _life(tmp_path, 'at: "02:00"', f'at: "{at}"')


def test_a_seat_change_range_upside_down_is_explained(tmp_path: Path) -> None:
    message = _life(tmp_path, "[-0.3, 0.5]", "[0.5, -0.3]")
    assert "line 7: workload.lifecycle" in message
    assert "expected seat_change as [least, most] with -1 < least <= most" in message


def test_a_batch_larger_than_the_erp_takes_is_refused(tmp_path: Path) -> None:
    message = _life(tmp_path, "size: 50", "size: 500")
    assert "line 18: patterns.batch.size" in message
    assert "less than or equal to 200" in message


def test_an_unknown_lifecycle_field_suggests_the_close_one(tmp_path: Path) -> None:
    message = _life(tmp_path, "seat_changes_per_month", "seat_change_per_month")
    assert "workload.lifecycle.seat_change_per_month" in message
    assert "did you mean 'seat_changes_per_month'?" in message


# --- master data ownership -----------------------------------------------------------------


def test_ownership_names_fields_and_keeps_the_usual_owner_of_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "own.yaml"
    path.write_text(BASE + "ownership: {customer.name: erp}\n")
    assert load(path).ownership == {
        "customer.name": "erp",
        "customer.email": "crm",
        "customer.billing_address": "billing",
        "product": "erp",
        "price": "billing",
    }


def test_ownership_of_an_unknown_field_lists_the_fields(tmp_path: Path) -> None:
    message = _error(tmp_path, BASE + "ownership: {customer.phone: crm}\n")
    assert "line 13: ownership" in message
    assert "unknown field 'customer.phone'" in message
    assert "customer.billing_address" in message


def test_ownership_by_an_unknown_system_lists_the_systems(tmp_path: Path) -> None:
    message = _error(tmp_path, BASE + "ownership: {customer.name: sap}\n")
    assert "customer.name: unknown owner 'sap'; expected one of: crm, erp, billing" in message


def test_master_data_rates_are_checked(tmp_path: Path) -> None:
    text = BASE.replace("  accounts: 10\n", "  accounts: 10\n  master_data: {edits_per_day: -1}\n")
    message = _error(tmp_path, text)
    assert "line 7: workload.master_data.edits_per_day" in message


def test_an_infinite_rate_is_refused(tmp_path: Path) -> None:
    message = _life(tmp_path, "seat_changes_per_month: 2", "seat_changes_per_month: .inf")
    assert "line 8: workload.lifecycle.seat_changes_per_month" in message
    assert "finite number" in message


def test_a_rate_written_as_true_is_refused(tmp_path: Path) -> None:
    message = _life(tmp_path, "seat_changes_per_month: 2", "seat_changes_per_month: true")
    assert "workload.lifecycle.seat_changes_per_month" in message


def test_an_unquoted_time_of_day_says_to_quote_it(tmp_path: Path) -> None:
    message = _life(tmp_path, '{every: 24h, at: "02:00"}', "\n  every: 24h\n  at: 25:00")
    assert 'expected a time of day in quotes, such as at: "02:00"' in message
    assert "got 1500" in message


def test_a_section_that_is_not_a_mapping_says_what_it_got(tmp_path: Path) -> None:
    message = _life(tmp_path, '{every: 24h, at: "02:00"}', "[24h]")
    assert "reconciliation: expected a mapping (key: value lines), got a list" in message
    assert "instance of" not in message


def test_reconciliation_and_batches_too_often_are_refused(tmp_path: Path) -> None:
    assert "reconciliation.every" in _life(tmp_path, "every: 24h", "every: 1s")
    assert "patterns.batch.every" in _life(tmp_path, "every: 5m", "every: 1ms")
