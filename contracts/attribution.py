"""Where a schema change shows, and which operations it reaches.

A change found at a pair of schemas is reported once: at the shallowest place it
shows (an operation, a status, a field path: :func:`contracts.reach.shortest_paths`
from every use of a schema at once), with every operation that reaches it
(:func:`contracts.reach.reach_sets`). The gate asks the other question, "what does
this one operation see?", and gets each change at its field path there.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts import findings as fd
from contracts import reach
from contracts.findings import Finding, Location
from contracts.schemadiff import PairKey, SchemaChange, SchemaGraph, field_name


@dataclass(frozen=True)
class Root:
    """Where a compared schema is used: the start of field paths.

    Attributes:
        key: The schema pair.
        operation: Index of the operation in :attr:`DocumentDiff.operations`.
        where: Path, method and (for responses) status.
        label: ``body``, ``body (application/xml)``, ``query limit``, ``header X-Id``.
    """

    key: PairKey
    operation: int
    where: Location
    label: str


class Attribution:
    """Turns the changes of a settled :class:`SchemaGraph` into located findings.

    Args:
        graph: The settled graph.
        operations: Operation names (``GET /path``) by index, as roots refer to them.
    """

    def __init__(self, graph: SchemaGraph, operations: list[str]) -> None:
        self.graph = graph
        self.operations = operations
        self._changed: list[PairKey] | None = None
        self._edges: dict[PairKey, list[tuple[str, PairKey]]] = {}
        self._bits: dict[PairKey, int] | None = None

    def _prepare(self) -> list[PairKey]:
        """Once: the pairs with changes, and the edges of the pairs that lead to them
        (a walk never needs to enter a part of the graph where nothing changed)."""
        if self._changed is None:
            pairs = self.graph.pairs
            self._changed = [key for key, pair in pairs.items() if pair.changes]
            parents: dict[PairKey, list[PairKey]] = {}
            for key, pair in pairs.items():
                for _, child in pair.chosen:
                    parents.setdefault(child, []).append(key)
            useful = reach.backward_closure(self._changed, lambda k: parents.get(k, ()))
            self._edges = {
                key: [(step, child) for step, child in pairs[key].chosen if child in useful]
                for key in useful
            }
        return self._changed

    def findings(self, roots: list[Root], *, grouped: bool) -> list[Finding]:
        """Findings for the schema changes reachable from ``roots``.

        Args:
            roots: Where schemas are used.
            grouped: One finding per change, at the shallowest place it shows, with
                the operations it reaches (``diff``); otherwise one per change as
                seen from these roots (the gate's view of one operation).

        Returns:
            The findings.
        """
        changed = self._prepare()
        if not changed or not roots:
            return []
        pairs = self.graph.pairs
        edges = self._edges
        roots_used = [r for r in roots if r.key in edges]
        targets = None
        if not grouped and self._bits is not None:
            # The operations each change reaches are known: stop once all are found.
            mask = 0
            for root in roots_used:
                mask |= 1 << root.operation
            targets = {key for key in changed if self._bits.get(key, 0) & mask}
            if not targets:
                return []
        found = reach.shortest_paths(
            [r.key for r in roots_used], lambda k: edges[k], targets=targets
        )
        bits: dict[PairKey, int] = {}
        if grouped:
            seeds: dict[PairKey, int] = {}
            for root in roots:
                seeds[root.key] = seeds.get(root.key, 0) | (1 << root.operation)
            bits = reach.reach_sets(set(found), lambda k: edges[k], seeds)
            self._bits = bits
        best: dict[tuple[str, str, str, str], tuple[tuple[int, int], Finding, int]] = {}
        for key in changed:
            if key not in found:
                continue
            root = roots_used[found[key][0]]
            path = reach.path_to(key, found)
            for change in pairs[key].changes:
                finding = _finding(change, root, path)
                ident = (change.kind, change.message, change.pointer, change.document)
                rank = (len(path), found[key][0])
                previous = best.get(ident)
                reached = bits.get(key, 0)
                if previous is None or rank < previous[0]:
                    best[ident] = (rank, finding, reached | (previous[2] if previous else 0))
                else:
                    best[ident] = (previous[0], previous[1], previous[2] | reached)
        result = []
        for _, finding, reached in best.values():
            operations = _operations(reached, self.operations)
            if len(operations) > 1:
                finding = Finding(
                    finding.location, finding.id, finding.level, finding.message, operations
                )
            result.append(finding)
        return result


def _finding(change: SchemaChange, root: Root, path: tuple[str, ...]) -> Finding:
    name = field_name((*path, *change.field))
    sep = "" if name.startswith("[]") else "."
    label = f"{root.label}{sep}{name}" if name else root.label
    return fd.make(
        change.kind,
        f"{label}: {change.message}",
        Location(
            root.where.path,
            root.where.method,
            root.where.status,
            pointer=change.pointer,
            field=label,
            document=change.document,
        ),
        level=change.level,
    )


def _operations(bits: int, names: list[str]) -> tuple[str, ...]:
    found = []
    index = 0
    while bits:
        if bits & 1:
            found.append(names[index])
        bits >>= 1
        index += 1
    return tuple(found)
