"""Backward-compatibility changes between two versions of one schema.

The comparison depends on the direction data flows: in a *request* the client
writes and the server reads, so narrowing what is accepted breaks clients; in a
*response* the server writes and the client reads, so widening what may come
back (new types, nulls, enum values) or removing promised fields breaks them.

Results are cached per pair of schema pointers and direction, and a pair that is
already being compared higher up the stack (a recursive schema) contributes
nothing the second time, so the cost is linear in the number of schema pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from contracts.schema import BOUND_KEYS_MAX, BOUND_KEYS_MIN, Facts, SchemaReader, SchemaRef

Direction = Literal["request", "response"]


@dataclass(frozen=True)
class SchemaChange:
    """A change found inside a schema, relative to the schema compared.

    Attributes:
        kind: Finding identifier (see :data:`contracts.findings.CATALOG`).
        field: Path from the compared schema to the changed value; ``[]`` steps
            into array items, ``*`` into additional properties.
        message: What changed.
        pointer: Pointer of the changed schema.
        document: ``"old"`` or ``"new"``: which document ``pointer`` is in.
    """

    kind: str
    field: tuple[str, ...]
    message: str
    pointer: str
    document: str = "new"


def field_name(path: tuple[str, ...]) -> str:
    """Render a field path as ``lines[].sku``.

    Args:
        path: Steps as produced in :attr:`SchemaChange.field`.

    Returns:
        The dotted name (``""`` for the schema itself).
    """
    text = ""
    for step in path:
        if step == "[]":
            text += "[]"
        else:
            text += ("." if text else "") + step
    return text


def _fmt(values: Any) -> str:
    return ", ".join(repr(v) for v in values)


class SchemaDiffer:
    """Compares schemas of an old and a new document.

    Args:
        old: Reader for the old document.
        new: Reader for the new document.
    """

    def __init__(self, old: SchemaReader, new: SchemaReader) -> None:
        self.old = old
        self.new = new
        self._cache: dict[tuple[str, str, str], list[SchemaChange]] = {}
        self._active: set[tuple[str, str, str]] = set()

    def compare(self, old: SchemaRef, new: SchemaRef, direction: Direction) -> list[SchemaChange]:
        """All changes from ``old`` to ``new`` that matter in ``direction``.

        Args:
            old: The schema in the old document.
            new: The schema in the new document.
            direction: ``"request"`` or ``"response"``.

        Returns:
            Changes, relative to the compared schemas.
        """
        of, nf = self.old.facts(old), self.new.facts(new)
        key = (of.pointer, nf.pointer, direction)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if key in self._active:
            return []
        self._active.add(key)
        try:
            changes: list[SchemaChange] = []
            if direction == "request":
                self._request_values(of, nf, changes)
            else:
                self._response_values(of, nf, changes)
            self._properties(of, nf, direction, changes)
            if of.items is not None and nf.items is not None:
                for change in self.compare(of.items, nf.items, direction):
                    changes.append(_under("[]", change))
            if isinstance(of.additional, SchemaRef) and isinstance(nf.additional, SchemaRef):
                for change in self.compare(of.additional, nf.additional, direction):
                    changes.append(_under("*", change))
        finally:
            self._active.discard(key)
        self._cache[key] = changes
        return changes

    def _properties(
        self, of: Facts, nf: Facts, direction: Direction, out: list[SchemaChange]
    ) -> None:
        for name in sorted(set(of.properties) | set(nf.properties)):
            old_ref, new_ref = of.properties.get(name), nf.properties.get(name)
            if new_ref is None and old_ref is not None:
                old_facts = self.old.facts(old_ref)
                if direction == "request" and not old_facts.read_only:
                    out.append(
                        SchemaChange(
                            "request-property-removed",
                            (name,),
                            f"request property {name!r} is no longer documented",
                            old_ref.pointer,
                            "old",
                        )
                    )
                elif direction == "response" and not old_facts.write_only:
                    out.append(
                        SchemaChange(
                            "response-property-removed",
                            (name,),
                            f"response property {name!r} was removed",
                            old_ref.pointer,
                            "old",
                        )
                    )
                continue
            assert new_ref is not None
            new_facts = self.new.facts(new_ref)
            if old_ref is None:
                self._added(name, nf, new_ref, new_facts, direction, out)
                continue
            if (
                direction == "request"
                and not new_facts.read_only
                and name in nf.required
                and name not in of.required
            ):
                out.append(
                    SchemaChange(
                        "request-property-became-required",
                        (name,),
                        f"request property {name!r} became required",
                        new_ref.pointer,
                    )
                )
            elif (
                direction == "response"
                and not new_facts.write_only
                and name in of.required
                and name not in nf.required
            ):
                out.append(
                    SchemaChange(
                        "response-property-became-optional",
                        (name,),
                        f"response property {name!r} became optional",
                        new_ref.pointer,
                    )
                )
            for change in self.compare(old_ref, new_ref, direction):
                out.append(_under(name, change))

    @staticmethod
    def _added(
        name: str,
        nf: Facts,
        ref: SchemaRef,
        facts: Facts,
        direction: Direction,
        out: list[SchemaChange],
    ) -> None:
        if direction == "request":
            if facts.read_only:
                return
            if name in nf.required:
                kind, text = "request-property-added-required", "new required request property"
            else:
                kind, text = "request-property-added", "new optional request property"
        else:
            if facts.write_only:
                return
            kind, text = "response-property-added", "new response property"
        out.append(SchemaChange(kind, (name,), f"{text} {name!r}", ref.pointer))

    @staticmethod
    def _request_values(of: Facts, nf: Facts, out: list[SchemaChange]) -> None:
        at = nf.pointer
        if of.types is None and nf.types is not None:
            lost = ["any type"]
        elif of.types is not None:
            lost = sorted(t for t in of.types if not nf.allows_type(t))
        else:
            lost = []
        if lost:
            new_types = sorted(nf.types or [])
            out.append(
                SchemaChange(
                    "request-type-narrowed",
                    (),
                    f"no longer accepts {', '.join(lost)} (now {', '.join(new_types)})",
                    at,
                )
            )
        if nf.format is not None and nf.format != of.format:
            out.append(
                SchemaChange(
                    "request-format-changed",
                    (),
                    f"format changed from {of.format!r} to {nf.format!r}",
                    at,
                )
            )
        if nf.enum is not None:
            if of.enum is None:
                removed: list[Any] = ["any value outside the new enum"]
                removed_text = f"now restricted to {_fmt(nf.enum)}"
            else:
                removed = [v for v in of.enum if v not in nf.enum]
                removed_text = f"enum value(s) {_fmt(removed)} no longer accepted"
            if removed:
                out.append(SchemaChange("request-enum-value-removed", (), removed_text, at))
            added = [v for v in nf.enum if of.enum is not None and v not in of.enum]
            if added:
                out.append(
                    SchemaChange(
                        "request-enum-value-added", (), f"enum value(s) {_fmt(added)} added", at
                    )
                )
        for key in BOUND_KEYS_MIN:
            new_value, old_value = nf.bounds.get(key), of.bounds.get(key)
            if new_value is not None and (old_value is None or new_value > old_value):
                out.append(
                    SchemaChange(
                        "request-min-increased",
                        (),
                        f"{key} raised from {_num(old_value)} to {_num(new_value)}",
                        at,
                    )
                )
        for key in BOUND_KEYS_MAX:
            new_value, old_value = nf.bounds.get(key), of.bounds.get(key)
            if new_value is not None and (old_value is None or new_value < old_value):
                out.append(
                    SchemaChange(
                        "request-max-decreased",
                        (),
                        f"{key} lowered from {_num(old_value)} to {_num(new_value)}",
                        at,
                    )
                )

    @staticmethod
    def _response_values(of: Facts, nf: Facts, out: list[SchemaChange]) -> None:
        at = nf.pointer
        if of.types is not None:
            if nf.types is None:
                out.append(
                    SchemaChange(
                        "response-type-changed",
                        (),
                        f"type no longer declared (was {', '.join(sorted(of.types))})",
                        at,
                    )
                )
            else:
                added = sorted(t for t in nf.types if not of.allows_type(t))
                if "null" in added:
                    out.append(
                        SchemaChange("response-property-became-nullable", (), "may now be null", at)
                    )
                    added.remove("null")
                if added:
                    out.append(
                        SchemaChange(
                            "response-type-changed",
                            (),
                            f"type changed from {', '.join(sorted(of.types))} "
                            f"to {', '.join(sorted(nf.types))}",
                            at,
                        )
                    )
                elif nf.types < of.types:
                    out.append(
                        SchemaChange(
                            "response-type-narrowed",
                            (),
                            f"type narrowed to {', '.join(sorted(nf.types))}",
                            at,
                        )
                    )
        if of.format is not None and nf.format != of.format:
            out.append(
                SchemaChange(
                    "response-format-changed",
                    (),
                    f"format changed from {of.format!r} to {nf.format!r}",
                    at,
                )
            )
        if of.enum is not None:
            if nf.enum is None:
                out.append(
                    SchemaChange(
                        "response-enum-value-added",
                        (),
                        "enum removed: any value may now be returned",
                        at,
                    )
                )
                return
            added = [v for v in nf.enum if v not in of.enum]
            removed = [v for v in of.enum if v not in nf.enum]
            if added:
                out.append(
                    SchemaChange(
                        "response-enum-value-added",
                        (),
                        f"new enum value(s) {_fmt(added)} may be returned",
                        at,
                    )
                )
            if removed:
                out.append(
                    SchemaChange(
                        "response-enum-value-removed",
                        (),
                        f"enum value(s) {_fmt(removed)} no longer returned",
                        at,
                    )
                )


def _num(value: float | None) -> str:
    if value is None:
        return "none"
    return str(int(value)) if value == int(value) else str(value)


def _under(step: str, change: SchemaChange) -> SchemaChange:
    return SchemaChange(
        change.kind, (step, *change.field), change.message, change.pointer, change.document
    )
