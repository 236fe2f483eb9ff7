"""How long ``contracts diff`` and ``contracts gate`` take on a large document.

Generates a ~5 MB OpenAPI document (thousands of schemas, deep and recursive
``$ref``s) and a modified copy, writes them as JSON, and times, on one core:
loading both, diffing them, and gating a pact against the new one.

Run: ``python benchmarks/gate.py [--size BYTES] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from contracts.diff import diff_documents  # noqa: E402
from contracts.gate import run_gate  # noqa: E402
from contracts.loader import load_document  # noqa: E402
from contracts.pactfile import load_pacts  # noqa: E402
from contracts.synthetic import dump, generate_document, modify_document, pact_for  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=5_000_000, help="target document size")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best is reported")
    args = parser.parse_args()
    sys.setrecursionlimit(20000)
    document = generate_document(args.size)
    modified, _ = modify_document(document)
    with tempfile.TemporaryDirectory() as tmp:
        old_file, new_file, pact_file = (Path(tmp) / n for n in ("old.json", "new.json", "p.json"))
        old_file.write_text(dump(document))
        new_file.write_text(dump(modified))
        pact_file.write_text(json.dumps(pact_for(document)))
        size_mb = old_file.stat().st_size / 1e6
        schemas = len(document["components"]["schemas"])
        best_diff = best_gate = float("inf")
        changes = broken = 0
        for _ in range(args.repeat):
            start = time.perf_counter()
            old, new = load_document(old_file), load_document(new_file)
            changes = len(diff_documents(old, new))
            best_diff = min(best_diff, time.perf_counter() - start)
            start = time.perf_counter()
            report = run_gate(load_document(new_file), load_pacts([pact_file]), "synthetic")
            broken = report.counts()["failed"]
            best_gate = min(best_gate, time.perf_counter() - start)
    print(f"document: {size_mb:.1f} MB, {schemas} schemas, {len(document['paths'])} paths")
    print(f"diff (load both + compare): {best_diff:.2f} s, {changes} changes")
    print(f"gate (load + {len(report.cases)} interactions): {best_gate:.2f} s, {broken} broken")
    print(f"target: diff under 5 s -> {'met' if best_diff < 5 else 'MISSED'}")


if __name__ == "__main__":
    main()
