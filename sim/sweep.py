"""Sweeps: one scenario over a grid of field values, times patterns and seeds.

A sweep is a test kitchen trying one recipe at several oven temperatures and
baking times: every combination (a *point* of the grid) is cooked by every
pattern on every seed, and each bake is a ``Task``, a plain value that any worker
(a local process, a Dask worker on another machine) turns into its metrics with
``run_task``. The results are kept in a *ledger* (JSON lines, one per finished
task, appended as each ends), so an interrupted sweep loses nothing and a rerun
skips what is done; the final document is assembled from the ledger in grid
order, so it is byte-identical whoever ran the tasks, in whatever order.

A field is named by its dotted path in the scenario file, list items by number:
``systems.provisioning.outages.0.duration=15m,45m,2h``. Every combination is
validated before anything runs, with the scenario's own messages.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sim.replications import METRICS, derive_seeds, summarise
from sim.scenario import Scenario
from sim.validation import ScenarioError, read_yaml, validate

__all__ = ["Ledger", "SweepError", "Task", "Vary", "assemble", "parse_vary", "plan", "run_task"]


class SweepError(ValueError):
    """A ``--vary`` flag, or a combination of values, the scenario cannot take."""


@dataclass(frozen=True)
class Vary:
    """One varied field: its dotted path, the path's parts, and the values as typed.

    Attributes:
        flag: The dotted path as the user wrote it.
        parts: Its parts, list items as ``int``.
        labels: The values as written (``45m``), for tables and plots.
        values: The values as YAML reads them (``45m`` stays text, ``15`` is a number).
    """

    flag: str
    parts: tuple[str | int, ...]
    labels: tuple[str, ...]
    values: tuple[Any, ...]


def parse_vary(text: str) -> Vary:
    """``systems.erp.concurrency=5,15,25`` as a ``Vary``.

    Raises:
        SweepError: No ``=``, an empty path part, or an empty value.
    """
    flag, sep, listed = text.partition("=")
    flag = flag.strip()
    if not sep or not flag:
        raise SweepError(
            f"--vary {text!r}: expected FIELD=VALUE,VALUE,... such as "
            "systems.erp.concurrency=5,15,25"
        )
    raw = flag.split(".")
    if any(not part for part in raw):
        raise SweepError(f"--vary {text!r}: {flag!r} has an empty part; name fields like a.b.0.c")
    labels = tuple(value.strip() for value in listed.split(","))
    if any(not label for label in labels):
        raise SweepError(f"--vary {text!r}: a value is empty; list values like 5,15,25")
    if raw[0] == "seed":
        raise SweepError(
            f"--vary {text!r}: the seed is the run's, not a field to vary; "
            "use --seed for the first seed and --seeds N for several"
        )
    values = []
    for label in labels:
        try:
            values.append(yaml.safe_load(label))
        except yaml.YAMLError:
            raise SweepError(
                f"--vary {text!r}: {label!r} is not a value YAML can read; give numbers, "
                "durations such as 45m, true/false or plain words (no lists or mappings)"
            ) from None
    typed = [json.dumps(value, sort_keys=True, default=str) for value in values]
    if len(set(typed)) < len(typed):
        raise SweepError(
            f"--vary {text!r}: a value is listed twice (as written or as read); list each once"
        )
    parts = tuple(int(part) if part.isascii() and part.isdigit() else part for part in raw)
    return Vary(flag, parts, labels, tuple(values))


def _put(data: Any, vary: Vary, value: Any) -> None:
    """Set ``value`` at ``vary``'s path in the scenario document (in place)."""
    here = data
    parts = vary.parts
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(str(p) for p in parts[: depth + 1])
        if isinstance(part, int):
            if not isinstance(here, list):
                raise SweepError(
                    f"--vary {vary.flag}: {where} names item {part} of a list, but the "
                    f"scenario has no list there; check the path"
                )
            if part >= len(here):
                raise SweepError(
                    f"--vary {vary.flag}: {where}: the list has {len(here)} item(s) "
                    f"(numbered from 0); name one of them"
                )
        elif not isinstance(here, dict):
            raise SweepError(
                f"--vary {vary.flag}: {where}: the scenario has a value, not fields, above "
                f"{part!r}; check the path"
            )
        if last:
            here[part] = value
        elif isinstance(part, str) and part not in here:
            here[part] = {}  # a field the file leaves at its default: the schema checks it
            here = here[part]
        else:
            here = here[part]


@dataclass(frozen=True)
class Task:
    """One run of a sweep: a grid point, a pattern and a seed, with what it needs.

    Attributes:
        point: ``(flag, label)`` of each varied field at this point.
        pattern: The pattern's name.
        seed: The seed.
        document: The scenario document with the point's values in it.
        source: The scenario file (for messages only).
        duration: Simulated seconds (None: the horizon, or ``orders``).
        orders: Close exactly this many deals (None: a horizon).
        code: The digest of the simulator's code that planned it (``code_digest``).
    """

    point: tuple[tuple[str, str], ...]
    pattern: str
    seed: int
    document: Mapping[str, Any]
    source: str
    duration: float | None
    orders: int | None
    code: str = ""

    @functools.cached_property
    def id(self) -> str:
        """A digest of everything that decides the result (the simulator's code too):
        equal ids, equal results."""
        key = json.dumps(
            [self.document, self.pattern, self.seed, self.duration, self.orders, self.code],
            sort_keys=True,
            default=str,
        )
        return hashlib.blake2b(key.encode(), digest_size=12).hexdigest()


@functools.cache
def code_digest() -> str:
    """A digest of the simulator's source (``orchestrator/`` and ``sim/``): a ledger
    written by other code is not reused."""
    digest = hashlib.blake2b(digest_size=8)
    root = Path(__file__).resolve().parent.parent
    for package in ("orchestrator", "sim"):
        for source in sorted((root / package).rglob("*.py")):
            digest.update(source.relative_to(root).as_posix().encode())
            digest.update(source.read_bytes())
    return digest.hexdigest()


def plan(
    source: Path,
    varies: Sequence[Vary],
    patterns: Sequence[str] | None,
    seeds: int,
    seed: int | None,
    duration: float | None,
    orders: int | None,
) -> tuple[Any, list[Task]]:
    """The scenario as the file has it, and every task of the sweep in grid order,
    each point validated first.

    Raises:
        ScenarioError: The scenario file itself is wrong.
        SweepError: A path or a value the scenario cannot take (names the flag).
    """
    data, lines = read_yaml(source)
    scenario = validate(Scenario, data, source, lines)
    patterns = patterns or [scenario.pattern]
    for pattern in patterns:
        missing = scenario.missing_systems(pattern)
        if missing:
            raise SweepError(f"{source}: {missing}; or choose another pattern")
    flags = [v.flag for v in varies]
    if len(set(flags)) < len(flags):
        raise SweepError("--vary names one field twice; give each field once, with all its values")
    derived = derive_seeds(scenario.seed if seed is None else seed, seeds)
    code = code_digest()
    tasks = []
    for combination in itertools.product(*(range(len(v.values)) for v in varies)):
        document = copy.deepcopy(data)
        for vary, n in zip(varies, combination, strict=True):
            _put(document, vary, vary.values[n])
        point = tuple((v.flag, v.labels[n]) for v, n in zip(varies, combination, strict=True))
        shown = ", ".join(f"{flag}={label}" for flag, label in point)
        try:
            at_point = validate(Scenario, document, source, lines)
        except ScenarioError as exc:
            problems = str(exc).split("\nfix the file")[0]
            raise SweepError(
                f"--vary at {shown}: {problems}\nfix the --vary values, then run the sweep again"
            ) from None
        for pattern in patterns:
            missing = at_point.missing_systems(pattern)
            if missing:
                raise SweepError(f"--vary at {shown}: {missing}")
        for pattern in patterns:
            for each in derived:
                tasks.append(
                    Task(point, pattern, each, document, str(source), duration, orders, code)
                )
    ids = [t.id for t in tasks]
    if len(set(ids)) < len(ids):
        raise SweepError(
            "--vary: two points of the grid give the same scenario (a value equal to "
            "another once read); list each value once"
        )
    return scenario, tasks


def run_task(task: Task) -> dict[str, Any]:
    """Run one task and return its line of the ledger (a pure function of the task)."""
    from sim.world import World

    scenario = Scenario.model_validate(task.document)
    world = World(scenario, task.seed, task.pattern)
    world.run(task.duration, task.orders)
    if world.interrupted:  # Ctrl-C inside the run: half a run is no result to keep
        raise KeyboardInterrupt
    result = world.result()
    return {
        "id": task.id,
        "point": dict(task.point),
        "pattern": task.pattern,
        "seed": task.seed,
        "simulated_s": result["simulated_s"],
        "trace_hash": result["trace_hash"],
        "metrics": result["metrics"],
    }


class Ledger:
    """The sweep's finished runs, one JSON line each, appended as each ends.

    Like a lab notebook: a line is written the moment a result is in, so a power
    cut loses only the experiment on the bench. A torn last line (the process was
    killed mid-write) is ignored.

    Args:
        path: The ledger file (made if missing).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: dict[str, dict[str, Any]] = {}
        if path.exists():
            text = path.read_text(encoding="utf-8")
            if text and not text.endswith("\n"):  # torn by a kill: cut back to the last line
                text = text[: text.rfind("\n") + 1]
                path.write_text(text, encoding="utf-8")
            for line in text.splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(entry, dict) and "id" in entry:
                    self.done[entry["id"]] = entry
        self._out = path.open("a", encoding="utf-8")

    def add(self, entry: dict[str, Any]) -> None:
        """Write one finished run (and flush it to the file at once)."""
        self.done[entry["id"]] = entry
        self._out.write(json.dumps(entry, sort_keys=True) + "\n")
        self._out.flush()

    def close(self) -> None:
        """Close the file."""
        self._out.close()


def assemble(
    tasks: Sequence[Task],
    done: Mapping[str, dict[str, Any]],
    failed: Mapping[str, str],
    varies: Sequence[Vary],
    scenario: str,
) -> dict[str, Any]:
    """The sweep's document: its grid, every run in grid order, and per point and
    pattern the replicated summary of each metric (see ``sim.replications``)."""
    # a run's point is the current sweep's name for it (an earlier sweep in the same
    # ledger may have reached the same scenario by another flag)
    runs = [{**done[t.id], "point": dict(t.point)} for t in tasks if t.id in done]
    groups: dict[tuple[tuple[tuple[str, str], ...], str], list[Mapping[str, Any]]] = {}
    for t in tasks:  # in grid order: a group's place is where its first task is
        found = groups.setdefault((t.point, t.pattern), [])
        if t.id in done:
            found.append(done[t.id]["metrics"])
    summary = [
        {
            "point": dict(point),
            "pattern": pattern,
            "runs": len(metrics),
            "figures": summarise(metrics),
        }
        for (point, pattern), metrics in groups.items()
    ]
    first = tasks[0]
    return {
        "sweep": {
            "scenario": scenario,
            "source": first.source,
            "vary": {v.flag: list(v.labels) for v in varies},
            "patterns": list(dict.fromkeys(t.pattern for t in tasks)),
            "seeds": list(dict.fromkeys(t.seed for t in tasks)),
            "duration_s": first.duration,
            "orders": first.orders,
            "runs": len(tasks),
            "finished": len(runs),
        },
        "summary": summary,
        "failed": [
            {"point": dict(t.point), "pattern": t.pattern, "seed": t.seed, "error": failed[t.id]}
            for t in tasks
            if t.id in failed and t.id not in done
        ],
        "runs": runs,
    }


SHOWN: tuple[str, ...] = (
    "orders_completed",
    "orders_compensated",
    "commitments_failed",
    "cycle_time_s.p95",
    "commitment_latency_s.p95",
    "sla_compliance",
    "commitment_sla_compliance",
    "manual_reconciliation_items",
)
"""The metrics a sweep prints a table of (the JSON holds every one of ``METRICS``)."""
LABELS = dict((path, label) for label, path in METRICS)
