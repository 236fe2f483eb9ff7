"""How long ``contracts diff`` and ``contracts gate`` take, and how much memory they hold.

Each figure is the whole command a user runs (``lifecycle-sandbox contracts ...``
in a fresh process pinned to one core, start-up included), its peak resident
memory read from the kernel, and whether every planted change was found. On:

- **tree**: a 5 MB document shaped as a tree of references (about 13,000 schemas,
  ``allOf`` inheritance, deep ``$ref`` chains), against a copy with planted changes;
- **dense**: a 5 MB document in the shape of Stripe's (thousands of schemas that
  all reach one another through ``anyOf`` expandable fields, self references,
  form-encoded request bodies), against a copy with planted changes;
- **hostile**: an alias bomb, deep nesting, duplicate keys, a 200 MB file and a
  binary file, each of which must be refused (exit 2).

The baseline measured in the same run is the start-up of ``lifecycle-sandbox
contracts diff`` on two tiny documents, so the figures above it are the work.
Targets (issue 7): diff and gate under 5 s and under 500 MB on the dense document,
all planted changes found; hostile inputs refused (exit 2) within 2 s.

Run: ``python benchmarks/gate.py [--size BYTES] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from contracts import dense, synthetic  # noqa: E402

CLI = str(Path(sys.executable).parent / "lifecycle-sandbox")
TINY = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}}


_WRAPPER = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:])\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(done.returncode)\n"
)
"""Runs one command and reports its peak memory: a fresh parent per command, since a
process's children's peak is the largest of all its children so far."""


def command(*args: str) -> tuple[float, float, int, str]:
    """Run one CLI command on one core: (wall seconds, peak MB, exit code, stdout)."""
    pin = ["taskset", "-c", "0"] if _has_taskset() else []
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *pin, CLI, *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    seconds = time.perf_counter() - start
    peak_kb = int(done.stderr.strip().splitlines()[-1])
    return seconds, peak_kb / 1024, done.returncode, done.stdout


def _has_taskset() -> bool:
    return any((Path(d) / "taskset").exists() for d in os.environ.get("PATH", "").split(":"))


def best(repeat: int, *args: str) -> tuple[float, float, int, str]:
    runs = [command(*args) for _ in range(repeat)]
    return min(runs, key=lambda r: r[0])


def planted_found(report: dict[str, Any], planted: list[dense.Planted]) -> int:
    seen = {
        (f["id"], f["location"]["pointer"]) for case in report["cases"] for f in case["findings"]
    }
    return sum(1 for p in planted if (p.kind, p.pointer) in seen)


def hostile_documents(folder: Path) -> dict[str, Path]:
    bomb = ['a0: &a0 ["lol"]'] + [
        f"a{i}: &a{i} [{', '.join(f'*a{i - 1}' for _ in range(9))}]" for i in range(1, 10)
    ]
    files = {
        "alias bomb (9 levels of 9)": "openapi: 3.0.3\n" + "\n".join(bomb) + "\n",
        "nesting 50,000 deep": '{"openapi": "3.0.3", "x": ' + "[" * 50000 + "]" * 50000 + "}",
        "duplicate keys": "openapi: 3.0.3\npaths:\n  /a: {}\n  /a: {}\n",
    }
    paths = {}
    for index, (name, text) in enumerate(files.items()):
        path = folder / f"hostile{index}.{'json' if text.startswith('{') else 'yaml'}"
        path.write_text(text)
        paths[name] = path
    huge = folder / "huge.json"
    with huge.open("wb") as handle:
        handle.truncate(200 * 1024 * 1024)
    paths["a 200 MB file"] = huge
    binary = folder / "binary.yaml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" * 1000)
    paths["a binary file"] = binary
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=5_000_000, help="document size in bytes")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the fastest is reported")
    args = parser.parse_args()
    if args.size < 50_000 or args.repeat < 1:
        parser.error("--size must be at least 50000 and --repeat at least 1")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tiny = folder / "tiny.json"
        tiny.write_text(json.dumps(TINY))
        start_up, start_mb, _, _ = best(args.repeat, "contracts", "diff", str(tiny), str(tiny))
        print(
            f"start-up (contracts diff on two empty documents): {start_up:.2f} s, {start_mb:.0f} MB"
        )

        print("hostile inputs (exit 2 expected, within 2 s):")
        slowest = 0.0
        for name, path in hostile_documents(folder).items():
            seconds, _, code, _ = command("contracts", "diff", str(tiny), str(path))
            slowest = max(slowest, seconds)
            print(f"  {name:<28} exit {code} in {seconds:.2f} s")
        print(f"  target: refused within 2 s -> {'met' if slowest < 2 else 'MISSED'}")

        tree = synthetic.generate_document(args.size)
        tree_new, _ = synthetic.modify_document(tree)
        crowd = dense.generate(args.size)
        crowd_new, planted = dense.plant(crowd, every=20)
        files = {
            "tree-old.json": synthetic.dump(tree),
            "tree-new.json": synthetic.dump(tree_new),
            "tree-pact.json": json.dumps(synthetic.pact_for(tree)),
            "dense-old.json": synthetic.dump(crowd),
            "dense-new.json": synthetic.dump(crowd_new),
            "dense-pact.json": json.dumps(dense.form_pact(crowd)),
        }
        for name, text in files.items():
            (folder / name).write_text(text)
        for label, document in (("tree", tree), ("dense", crowd)):
            size = (folder / f"{label}-old.json").stat().st_size / 1e6
            schemas = len(document["components"]["schemas"])
            print(f"{label}: {size:.1f} MB, {schemas} schemas, {len(document['paths'])} paths")
            old, new = str(folder / f"{label}-old.json"), str(folder / f"{label}-new.json")
            pact, provider = (
                str(folder / f"{label}-pact.json"),
                ("synthetic" if label == "tree" else "dense"),
            )
            seconds, peak, code, out = best(
                args.repeat, "contracts", "diff", old, new, "--format", "json"
            )
            report = json.loads(out)
            findings = sum(len(c["findings"]) for c in report["cases"])
            line = f"  diff: {seconds:.2f} s, {peak:.0f} MB peak, {findings} findings, exit {code}"
            if label == "dense":
                found = planted_found(report, planted)
                line += f"; planted changes found: {found} of {len(planted)}"
                met = seconds < 5 and peak < 500 and found == len(planted)
                line += f" -> target {'met' if met else 'MISSED'}"
            print(line)
            seconds, peak, code, out = best(
                args.repeat,
                "contracts",
                "gate",
                "--provider",
                provider,
                "--spec",
                new,
                "--pacts",
                pact,
                "--old",
                old,
                "--format",
                "json",
            )
            counts = json.loads(out)["counts"]
            line = (
                f"  gate --old (both documents, {counts['passed'] + counts['failed']} cases): "
                f"{seconds:.2f} s, {peak:.0f} MB peak, {counts['failed']} failing, exit {code}"
            )
            if label == "dense":
                line += f" -> target {'met' if seconds < 5 and peak < 500 else 'MISSED'}"
            print(line)


if __name__ == "__main__":
    main()
