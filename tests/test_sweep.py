"""Sweeps: the grid is validated up front, every pool gives the same bytes, an
interrupted sweep resumes, and a dying worker is retried once and then reported."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.sweep import Ledger, SweepError, Task, assemble, parse_vary, plan, run_task
from sim.sweep_pool import PoolError, run_dask, run_here, run_local

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-c", "from sim.cli import main; main()"]
SCENARIO = ROOT / "scenarios" / "provisioning_outage.yaml"
SMALL = [
    "sweep",
    str(SCENARIO),
    "--vary",
    "systems.provisioning.outages.0.start=5m,15m",
    "--patterns",
    "sync_chain,hybrid",
    "--seeds",
    "2",
    "--orders",
    "40",
]


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, *args], cwd=cwd, capture_output=True, text=True, timeout=240)


@pytest.mark.parametrize(
    ("flag", "says"),
    [
        ("systems.erp.concurency=5,15", "unknown field 'concurency' (did you mean 'concurrency'?)"),
        ("systems.erp.concurrency=five", "line 37: systems.erp.concurrency: "),
        ("systems.provisioning.outages.3.duration=1h", "the list has 1 item(s)"),
        ("systems.erp.latency.p50=1s,1s", "a value is listed twice"),
        ("systems.erp.concurrency", "expected FIELD=VALUE,VALUE,..."),
        ("systems..erp=1", "has an empty part"),
        ("name.0=x", "names item 0 of a list"),
        ("systems.erp.concurrency=5,05", "a value is listed twice (as written or as read)"),
        ("seed=7,8", "use --seed for the first seed and --seeds N"),
        ("systems.erp.concurrency=1,[2", "'[2' is not a value YAML can read"),
    ],
)
def test_a_wrong_vary_says_which_flag_and_why(flag: str, says: str) -> None:
    with pytest.raises(SweepError) as caught:
        plan(SCENARIO, [parse_vary(flag)], None, 1, None, None, 5)
    assert says in str(caught.value) and flag.split("=")[0] in str(caught.value)


def test_a_wrong_vary_exits_2_before_anything_runs(tmp_path: Path) -> None:
    out = tmp_path / "sweep.json"
    flag = "systems.erp.concurrency=5,0"
    done = cli("sweep", str(SCENARIO), "--vary", flag, "--json", str(out), "--orders", "5")
    assert done.returncode == 2, done.stdout + done.stderr
    message = " ".join(done.stderr.split())
    assert "--vary at systems.erp.concurrency=0" in message and "Traceback" not in message
    assert "fix the --vary values" in message
    assert not out.exists() and not out.with_name(out.name + ".runs.jsonl").exists()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ([], "--vary: give at least one"),
        (
            ["--vary", "workload.accounts=100,200", "--dask", "scheduler:8786"],
            "expected a scheduler address",
        ),
        (
            ["--vary", "workload.accounts=100,200", "--patterns", "hybird"],
            "unknown pattern 'hybird'",
        ),
        (
            ["--vary", "workload.accounts=100,200", "--orders", "5", "--duration", "1h"],
            "exclude each other",
        ),
        (["--vary", "workload.accounts=100,200", "--workers", "0"], "--workers"),
    ],
)
def test_other_bad_flags_exit_2(args: list[str], says: str) -> None:
    done = CliRunner().invoke(app, ["sweep", str(SCENARIO), *args])
    assert done.exit_code == 2, done.output
    assert says in " ".join(done.output.split())
    assert done.exception is None or isinstance(done.exception, SystemExit)  # no crash


def test_a_dask_address_that_does_not_answer_fails_fast(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    done = cli(*SMALL, "--dask", f"tcp://127.0.0.1:{port}", "--json", str(tmp_path / "s.json"))
    assert done.returncode == 2, done.stderr
    assert "no Dask scheduler answered within 5 s" in done.stderr
    assert "Traceback" not in done.stderr
    assert time.monotonic() - started < 30  # the connect timeout, plus start-up


def _grid() -> list[Task]:
    varies = [parse_vary("systems.provisioning.outages.0.start=5m,15m")]
    return plan(SCENARIO, varies, ["sync_chain", "hybrid"], 2, None, None, 40)[1]


def test_the_grid_is_every_point_times_patterns_and_seeds() -> None:
    tasks = _grid()
    assert len(tasks) == 2 * 2 * 2 and len({t.id for t in tasks}) == 8
    assert [t.point for t in tasks[:4]] == [(("systems.provisioning.outages.0.start", "5m"),)] * 4
    assert tasks[0].document["systems"]["provisioning"]["outages"][0]["start"] == "5m"
    assert tasks[4].document["systems"]["provisioning"]["outages"][0]["start"] == "15m"


def test_one_two_workers_and_a_dask_cluster_write_the_same_bytes(tmp_path: Path) -> None:
    written = {}
    for name, extra in {
        "one": ["--workers", "1"],
        "two": ["--workers", "2"],
        "dask": ["--dask", "local", "--workers", "2"],
    }.items():
        out = tmp_path / f"{name}.json"
        done = cli(*SMALL, *extra, "--json", str(out))
        assert done.returncode == 0, done.stdout + done.stderr
        written[name] = out.read_bytes()
    assert written["one"] == written["two"] == written["dask"]
    document = json.loads(written["one"])
    assert document["sweep"]["finished"] == 8 and document["failed"] == []
    assert len(document["summary"]) == 4  # points x patterns
    # an outage that starts early catches more of the 40 deals in the chain
    early, late = (
        next(
            s["figures"]["orders_compensated"]["mean"]
            for s in document["summary"]
            if s["pattern"] == "sync_chain"
            and s["point"]["systems.provisioning.outages.0.start"] == at
        )
        for at in ("5m", "15m")
    )
    assert early > late


def test_an_interrupted_sweep_keeps_its_runs_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "sweep.json"
    ledger = out.with_name(out.name + ".runs.jsonl")
    # runs of 100 deals (a third of a second each): Ctrl-C lands well inside the sweep
    args = [*SMALL[:-1], "100", "--workers", "1", "--json", str(out)]
    process = subprocess.Popen(
        [*COMMAND, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a test worker may ignore SIGINT, and a child inherits that: give it Ctrl-C back
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if ledger.exists() and ledger.read_text().count("\n") >= 1:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "run the same command again" in stderr and "Traceback" not in stderr
    kept = ledger.read_text().count("\n")
    assert 1 <= kept < 8
    again = cli(*args)
    assert again.returncode == 0, again.stderr
    assert f"({kept} already in" in again.stderr
    fresh = tmp_path / "fresh.json"
    assert cli(*args[:-1], str(fresh)).returncode == 0
    assert out.read_bytes() == fresh.read_bytes()


def _dies_on_hybrid(task: Task) -> dict[str, Any]:
    """A task function whose worker dies on every hybrid run at 5m."""
    if (
        task.pattern == "hybrid"
        and dict(task.point)["systems.provisioning.outages.0.start"] == "5m"
    ):
        os._exit(1)
    return {"id": task.id}


def _dies_once(task: Task) -> dict[str, Any]:
    """A task function whose worker dies the first time it meets each hybrid run."""
    marker = Path(os.environ["SWEEP_MARKERS"]) / task.id
    if task.pattern == "hybrid" and not marker.exists():
        marker.touch()
        os._exit(1)
    return {"id": task.id}


def _collect(run: Any) -> tuple[dict[str, Any], dict[str, str]]:
    done: dict[str, Any] = {}
    failed: dict[str, str] = {}

    def on_done(task: Task, result: dict[str, Any] | None, why: str | None) -> None:
        if result is not None:
            done[task.id] = result
        else:
            failed[task.id] = why or ""

    run(on_done)
    return done, failed


def test_a_worker_that_dies_is_retried_once_then_reported() -> None:
    tasks = _grid()
    done, failed = _collect(lambda on_done: run_local(tasks, 2, on_done, _dies_on_hybrid))
    killers = {t.id for t in tasks if t.pattern == "hybrid" and "5m" in dict(t.point).values()}
    assert set(failed) == killers and len(killers) == 2
    assert all("worker process died" in why for why in failed.values())
    assert set(done) == {t.id for t in tasks} - killers  # the sweep went on


def test_a_worker_that_dies_once_is_retried_and_nothing_is_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWEEP_MARKERS", str(tmp_path))
    tasks = _grid()
    done, failed = _collect(lambda on_done: run_local(tasks, 2, on_done, _dies_once))
    assert failed == {} and set(done) == {t.id for t in tasks}


def test_a_task_that_raises_is_reported_with_its_error() -> None:
    tasks = _grid()[:2]

    def broken(task: Task) -> dict[str, Any]:
        raise RuntimeError(f"no luck with {task.seed}")

    done, failed = _collect(lambda on_done: run_here(tasks, on_done, broken))
    assert done == {} and all(why.startswith("RuntimeError: no luck") for why in failed.values())


def test_a_task_is_a_pure_function_of_itself() -> None:
    task = _grid()[0]
    assert run_task(task) == run_task(task)


def test_dask_reports_a_task_that_fails() -> None:
    tasks = _grid()[:2]
    done, failed = _collect(lambda on_done: run_dask(tasks, "local", on_done, _raises, workers=1))
    assert done == {} and set(failed) == {t.id for t in tasks}
    assert all("ValueError: refused" in why for why in failed.values())


def _raises(task: Task) -> dict[str, Any]:
    raise ValueError(f"refused {task.seed}")


def test_a_run_is_labelled_by_the_sweep_that_asks_for_it(tmp_path: Path) -> None:
    tasks = _grid()[:1]
    entry = {**run_task(tasks[0]), "point": {"an.earlier.flag": "x"}}
    document = assemble(
        tasks,
        {tasks[0].id: entry},
        {},
        [parse_vary("systems.provisioning.outages.0.start=5m,15m")],
        "s",
    )
    assert document["runs"][0]["point"] == {"systems.provisioning.outages.0.start": "5m"}


def test_a_torn_ledger_line_is_cut_and_the_next_result_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "l.jsonl"
    path.write_text('{"id": "a", "n": 1}\n{"id": "b", "n"', encoding="utf-8")
    ledger = Ledger(path)
    assert set(ledger.done) == {"a"}
    ledger.add({"id": "c", "n": 3})
    ledger.close()
    assert set(Ledger(path).done) == {"a", "c"}


def test_a_scheduler_without_workers_fails_with_advice(monkeypatch: pytest.MonkeyPatch) -> None:
    from distributed import LocalCluster

    import sim.sweep_pool

    monkeypatch.setattr(sim.sweep_pool, "WORKERS_TIMEOUT", 1.0)
    with (
        LocalCluster(
            n_workers=0, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        pytest.raises(PoolError, match="has no workers after 1 s"),
    ):
        run_dask(_grid()[:1], cluster.scheduler_address, lambda *args: None)
