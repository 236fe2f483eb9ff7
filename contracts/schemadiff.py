"""Backward-compatibility changes between two versions of a set of schemas.

The comparison depends on the direction data flows: in a *request* the client
writes and the server reads, so a change breaks clients when a value valid
under the old schema is invalid under the new one; in a *response* the server
writes and the client reads, so it breaks them when the new schema allows a
value the old one did not (new types, nulls, enum values, looser bounds) or
stops promising a field.

Think of two street maps compared district by district, not route by route.
Each pair of schemas (an old pointer, a new pointer, a direction) is compared
exactly once: it gets its *own* changes and edges to the pairs below it
(properties, items, additional properties, union members). References are
never expanded, so a group of mutually referencing schemas costs one visit per
pair, and a change in a shared schema is recorded once, at the pair where it
lives. :mod:`contracts.diff` then walks the edges from each operation to say
where a change shows and which operations it reaches.

Unions are compared by what they accept. In a request every old alternative must
be accepted by some new one; in a response every new alternative must be
accepted by some old one. An alternative is matched first by the component it
names, then by its constant-valued properties (a discriminator), then by position,
then by type; if that candidate is incompatible, every other type-compatible
candidate is tried. Whether a pair is compatible (no error or warning in it or
below it) is a least fixed point over the graph, so recursive schemas settle
without a depth limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from contracts.findings import CATALOG, Level
from contracts.lifecycle import Lifecycle, on_change, on_removal
from contracts.schema import BOUND_KEYS_MAX, BOUND_KEYS_MIN, Facts, SchemaReader, SchemaRef

Direction = Literal["request", "response"]
PairKey = tuple[str, str, str, bool]
"""``(old key, new key, direction, text)``; ``text`` marks parameter values sent as text."""

_WIRE_TEXT = ("integer", "number", "boolean")


@dataclass(frozen=True)
class SchemaChange:
    """A change found at one pair of schemas.

    Attributes:
        kind: Finding identifier (see :data:`contracts.findings.CATALOG`).
        field: Steps from the pair's schema to the changed value: ``()`` for the
            schema itself, ``(name,)`` for one of its properties.
        message: What changed.
        pointer: Pointer of the changed schema.
        document: ``"old"`` or ``"new"``: which document ``pointer`` is in.
        level: Overrides the kind's default level.
    """

    kind: str
    field: tuple[str, ...]
    message: str
    pointer: str
    document: str = "new"
    level: Level | None = None

    @property
    def grade(self) -> Level:
        """The change's level."""
        return self.level or CATALOG[self.kind].level


def field_name(path: tuple[str, ...]) -> str:
    """Render a field path as ``lines[].sku``.

    Args:
        path: Steps: property names, ``[]`` into array items, ``*`` into
            additional properties; empty steps (union members) are skipped.

    Returns:
        The dotted name (``""`` for the schema itself).
    """
    text = ""
    for step in path:
        if not step:
            continue
        if step == "[]":
            text += "[]"
        else:
            text += ("." if text else "") + step
    return text


def _fmt(values: Any) -> str:
    return ", ".join(repr(v) for v in values)


@dataclass
class Slot:
    """One union member that must be accepted by some member on the other side.

    Attributes:
        label: The member's name in messages.
        member: The member.
        candidates: Pairs with the members that may accept it, best match first.
        primary: Whether the first candidate is this member's counterpart (same
            component, same constant properties or same position).
        pending: Further type-compatible members, compared only if no candidate fits.
    """

    label: str
    member: Facts
    candidates: list[PairKey]
    primary: bool
    pending: list[tuple[Facts, Facts]] = field(default_factory=list)


@dataclass
class Pair:
    """One old schema compared with one new schema, in one direction.

    Attributes:
        old: Facts of the old schema.
        new: Facts of the new schema.
        direction: ``request`` or ``response``.
        text: Whether the value travels as text (a parameter).
        changes: Changes found at this pair itself.
        edges: Pairs below that always apply (properties, items, ...), with the step.
        slots: Union members to be matched.
        bad: Whether this pair or anything below it has an error or a warning.
        chosen: The edges findings are reported through (set by :meth:`SchemaGraph.settle`).
    """

    old: Facts
    new: Facts
    direction: Direction
    text: bool
    changes: list[SchemaChange] = field(default_factory=list)
    edges: list[tuple[str, PairKey]] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)
    bad: bool = False
    chosen: list[tuple[str, PairKey]] = field(default_factory=list)

    @property
    def locally_bad(self) -> bool:
        """Whether a change at this pair itself is an error or a warning."""
        return any(c.grade != Level.INFO for c in self.changes)


class SchemaGraph:
    """Every schema pair reachable from the roots given, compared once each.

    Args:
        old: Reader for the old document.
        new: Reader for the new document.
        lifecycle: The deprecation policy (properties' ``x-sunset``).
    """

    def __init__(self, old: SchemaReader, new: SchemaReader, lifecycle: Lifecycle) -> None:
        self.old = old
        self.new = new
        self.lifecycle = lifecycle
        self.pairs: dict[PairKey, Pair] = {}
        self._todo: list[PairKey] = []

    # -- building ------------------------------------------------------------------------

    def add(self, old: SchemaRef, new: SchemaRef, direction: Direction, *, text: bool) -> PairKey:
        """Compare two schemas (and everything below them) once.

        Args:
            old: The schema in the old document.
            new: The schema in the new document.
            direction: ``request`` or ``response``.
            text: The value is a parameter or header, sent as text.

        Returns:
            The pair's key, a root for :mod:`contracts.diff`'s walks.
        """
        key = self._ensure(self.old.shape(old), self.new.shape(new), direction, text)
        while self._todo:
            self._build(self.pairs[self._todo.pop()])
        return key

    def _ensure(self, of: Facts, nf: Facts, direction: Direction, text: bool) -> PairKey:
        key = (of.key, nf.key, direction, text)
        if key not in self.pairs:
            self.pairs[key] = Pair(of, nf, direction, text)
            self._todo.append(key)
        return key

    def _build(self, pair: Pair) -> None:
        of, nf = pair.old, pair.new
        if of.alternatives or nf.alternatives:
            self._union(pair)
            return
        if pair.direction == "request":
            _request_values(pair)
        else:
            _response_values(pair)
        _discriminators(pair)
        self._properties(pair)
        child_text = pair.text
        if of.items is not None and nf.items is not None:
            child = self._ensure(
                self.old.shape(of.items), self.new.shape(nf.items), pair.direction, child_text
            )
            pair.edges.append(("[]", child))
        if isinstance(of.additional, SchemaRef) and isinstance(nf.additional, SchemaRef):
            child = self._ensure(
                self.old.shape(of.additional), self.new.shape(nf.additional), pair.direction, False
            )
            pair.edges.append(("*", child))

    def _properties(self, pair: Pair) -> None:
        of, nf, direction = pair.old, pair.new, pair.direction
        out = pair.changes
        for name in sorted(set(of.properties) | set(nf.properties)):
            old_ref, new_ref = of.properties.get(name), nf.properties.get(name)
            if new_ref is None and old_ref is not None:
                self._removed(pair, name, self.old.shape(old_ref))
                continue
            assert new_ref is not None
            new_facts = self.new.shape(new_ref)
            if old_ref is None:
                _added(name, nf, new_facts, direction, out)
                continue
            old_facts = self.old.shape(old_ref)
            self._property_flags(pair, name, old_facts, new_facts)
            child = self._ensure(old_facts, new_facts, direction, False)
            pair.edges.append((name, child))

    def _removed(self, pair: Pair, name: str, old_facts: Facts) -> None:
        direction = pair.direction
        skip = old_facts.read_only if direction == "request" else old_facts.write_only
        if skip:
            return
        verdict = on_removal(
            f"{direction} property {name!r}", old_facts.deprecated, old_facts.sunset, self.lifecycle
        )
        if verdict is not None:
            pair.changes.append(
                SchemaChange(verdict.kind, (name,), verdict.message, old_facts.pointer, "old")
            )
            return
        if direction == "request":
            kind, text = "request-property-removed", "is no longer documented"
        elif name in pair.old.required:
            kind, text = "response-property-removed", "was removed"
        else:
            kind, text = "response-optional-property-removed", "(optional) was removed"
        pair.changes.append(
            SchemaChange(
                kind, (name,), f"{direction} property {name!r} {text}", old_facts.pointer, "old"
            )
        )

    def _property_flags(self, pair: Pair, name: str, old: Facts, new: Facts) -> None:
        of, nf, out = pair.old, pair.new, pair.changes
        at = new.pointer
        if pair.direction == "request":
            if not new.read_only and name in nf.required and name not in of.required:
                out.append(
                    SchemaChange(
                        "request-property-became-required",
                        (name,),
                        f"request property {name!r} became required",
                        at,
                    )
                )
            if new.read_only and not old.read_only:
                out.append(
                    SchemaChange(
                        "request-property-became-read-only",
                        (name,),
                        f"request property {name!r} became read-only (the server ignores it)",
                        at,
                    )
                )
        else:
            if not new.write_only and name in of.required and name not in nf.required:
                out.append(
                    SchemaChange(
                        "response-property-became-optional",
                        (name,),
                        f"response property {name!r} became optional",
                        at,
                    )
                )
            if new.write_only and not old.write_only:
                out.append(
                    SchemaChange(
                        "response-property-became-write-only",
                        (name,),
                        f"response property {name!r} became write-only (no longer returned)",
                        at,
                        level=None if name in of.required else Level.WARNING,
                    )
                )
        for verdict in on_change(
            f"property {name!r}",
            old.deprecated,
            old.sunset,
            new.deprecated,
            new.sunset,
            self.lifecycle,
        ):
            out.append(SchemaChange(verdict.kind, (name,), verdict.message, at))

    def _union(self, pair: Pair) -> None:
        of, nf = pair.old, pair.new
        olds = self.old.members(of) if of.alternatives else [of]
        news = self.new.members(nf) if nf.alternatives else [nf]
        old_labels, new_labels = _labels(of, len(olds)), _labels(nf, len(news))
        old_tags = [_constant_tag(self.old, m) for m in olds]
        new_tags = [_constant_tag(self.new, m) for m in news]
        request = pair.direction == "request"
        covered, covering = (olds, news) if request else (news, olds)
        covered_labels, covering_labels = (
            (old_labels, new_labels) if request else (new_labels, old_labels)
        )
        covered_tags, covering_tags = (old_tags, new_tags) if request else (new_tags, old_tags)
        used: set[int] = set()
        for index, member in enumerate(covered):
            compatible = [i for i, c in enumerate(covering) if _types_meet(member, c)]
            label = covered_labels[index]
            if not compatible:
                pair.changes.append(_unmatched(pair.direction, Slot(label, member, [], False)))
                continue
            primary = _match(
                index, covered_labels, covering_labels, covered_tags, covering_tags, compatible
            )
            order = [primary] if primary is not None else compatible
            used.update(order)
            slot = Slot(
                label,
                member,
                [self._member_pair(pair, member, covering[i]) for i in order],
                primary is not None,
            )
            if primary is not None:
                slot.pending = [(member, covering[i]) for i in compatible if i != primary]
            pair.slots.append(slot)
        for index, member in enumerate(covering):
            if index in used:
                continue
            if request:
                kind, text = "request-union-member-added", "now also accepts"
            else:
                kind, text = "response-union-member-removed", "no longer returns"
            pair.changes.append(
                SchemaChange(
                    kind, (), f"{text} {covering_labels[index]}", member.pointer,
                    "new" if request else "old",
                )
            )
        _discriminators(pair)

    def _member_pair(self, pair: Pair, member: Facts, other: Facts) -> PairKey:
        if pair.direction == "request":
            return self._ensure(member, other, "request", pair.text)
        return self._ensure(other, member, "response", pair.text)

    # -- settling -------------------------------------------------------------------------

    def settle(self) -> None:
        """Decide which pairs are compatible, trying further union candidates as needed.

        Then choose, for every union member, the candidate findings are reported
        through: the first compatible one, or else the closest one.
        """
        while True:
            self._fixpoint()
            grown = False
            for pair in list(self.pairs.values()):
                for slot in pair.slots:
                    if slot.pending and all(self.pairs[k].bad for k in slot.candidates):
                        for member, other in slot.pending:
                            slot.candidates.append(self._member_pair(pair, member, other))
                        slot.pending = []
                        grown = True
            while self._todo:
                self._build(self.pairs[self._todo.pop()])
            if not grown:
                break
        for pair in self.pairs.values():
            pair.chosen = list(pair.edges)
            for slot in pair.slots:
                picked = self._pick(slot)
                if picked is not None:
                    pair.chosen.append(("", picked))
                else:
                    pair.changes.append(_unmatched(pair.direction, slot))

    def _pick(self, slot: Slot) -> PairKey | None:
        """The first compatible candidate, else the counterpart, else none."""
        for key in slot.candidates:
            if not self.pairs[key].bad:
                return key
        return slot.candidates[0] if slot.primary else None

    def _fixpoint(self) -> None:
        """Least fixed point of "bad": a pair is bad if it has an error or warning of
        its own, a bad child, or a union member that no candidate accepts."""
        parents: dict[PairKey, list[tuple[PairKey, int]]] = {}
        queue: list[PairKey] = []
        for key, pair in self.pairs.items():
            pair.bad = False
            for _, child in pair.edges:
                parents.setdefault(child, []).append((key, -1))
            for index, slot in enumerate(pair.slots):
                for child in slot.candidates:
                    parents.setdefault(child, []).append((key, index))
            if pair.locally_bad:
                queue.append(key)
        while queue:
            key = queue.pop()
            pair = self.pairs[key]
            if pair.bad:
                continue
            pair.bad = True
            for parent_key, slot_index in parents.get(key, ()):
                parent = self.pairs[parent_key]
                if parent.bad:
                    continue
                if slot_index < 0 or all(
                    self.pairs[k].bad for k in parent.slots[slot_index].candidates
                ):
                    queue.append(parent_key)

    def children(self, key: PairKey) -> Iterator[tuple[str, PairKey]]:
        """The edges findings are reported through.

        Args:
            key: A pair.

        Yields:
            ``(step, child)``.
        """
        yield from self.pairs[key].chosen


# -- the checks at one pair -----------------------------------------------------------------


def _unmatched(direction: Direction, slot: Slot) -> SchemaChange:
    """A union member nothing on the other side accepts."""
    if direction == "request":
        kind, text, document = "request-union-member-removed", "no longer accepts", "old"
    else:
        kind, text, document = "response-union-member-added", "may now return", "new"
    return SchemaChange(
        kind,
        (),
        f"{text} {slot.label} ({_types(slot.member)}); no alternative on the other side "
        "matches it",
        slot.member.pointer,
        document,
    )


def _request_values(pair: Pair) -> None:
    of, nf, out = pair.old, pair.new, pair.changes
    at = nf.pointer
    if of.types is None and nf.types is not None:
        lost = ["any type"]
    elif of.types is not None:
        lost = sorted(t for t in of.types if not _accepts(nf, t, pair.text))
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
                "request-format-changed", (), f"format changed from {of.format!r} to {nf.format!r}", at
            )
        )
    if nf.enum is not None:
        if of.enum is None:
            out.append(
                SchemaChange("request-became-enum", (), f"now restricted to {_fmt(nf.enum)}", at)
            )
        else:
            removed = [v for v in of.enum if not _in(v, nf.enum, pair.text)]
            if removed:
                out.append(
                    SchemaChange(
                        "request-enum-value-removed",
                        (),
                        f"enum value(s) {_fmt(removed)} no longer accepted",
                        at,
                    )
                )
            added = [v for v in nf.enum if not _in(v, of.enum, pair.text)]
            if added:
                out.append(
                    SchemaChange(
                        "request-enum-value-added", (), f"enum value(s) {_fmt(added)} added", at
                    )
                )
    if of.extensible_enum is not None and nf.extensible_enum is not None:
        removed = [v for v in of.extensible_enum if v not in nf.extensible_enum]
        if removed:
            out.append(
                SchemaChange(
                    "request-extensible-enum-value-removed",
                    (),
                    f"x-extensible-enum value(s) {_fmt(removed)} no longer accepted",
                    at,
                )
            )
    for key in BOUND_KEYS_MIN:
        new_value, old_value = nf.bounds.get(key), of.bounds.get(key)
        if new_value is None:
            continue
        if old_value is None:
            out.append(
                SchemaChange("request-bound-added", (), f"{key} {_num(new_value)} added", at)
            )
        elif new_value > old_value:
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
        if new_value is None:
            continue
        if old_value is None:
            out.append(
                SchemaChange("request-bound-added", (), f"{key} {_num(new_value)} added", at)
            )
        elif new_value < old_value:
            out.append(
                SchemaChange(
                    "request-max-decreased",
                    (),
                    f"{key} lowered from {_num(old_value)} to {_num(new_value)}",
                    at,
                )
            )
    if nf.pattern is not None and nf.pattern != of.pattern:
        if of.pattern is None:
            out.append(
                SchemaChange("request-pattern-added", (), f"must now match {nf.pattern!r}", at)
            )
        else:
            out.append(
                SchemaChange(
                    "request-pattern-changed",
                    (),
                    f"pattern changed from {of.pattern!r} to {nf.pattern!r}",
                    at,
                )
            )
    if nf.multiple_of is not None and not _divides(nf.multiple_of, of.multiple_of):
        out.append(
            SchemaChange(
                "request-multiple-of-changed",
                (),
                f"must now be a multiple of {_num(nf.multiple_of)} "
                f"(was {_num(of.multiple_of) if of.multiple_of else 'any number'})",
                at,
            )
        )
    if nf.unique_items and not of.unique_items:
        out.append(SchemaChange("request-unique-items-added", (), "items must now be unique", at))
    if nf.additional is False and of.additional is not False:
        out.append(
            SchemaChange(
                "request-additional-properties-forbidden",
                (),
                "properties the schema does not name are no longer accepted",
                at,
            )
        )
    if of.default != nf.default:
        before = repr(of.default[0]) if of.default else "none"
        after = repr(nf.default[0]) if nf.default else "none"
        kind = "request-parameter-default-changed" if pair.text else "request-default-changed"
        out.append(SchemaChange(kind, (), f"default changed from {before} to {after}", at))
    for keyword, value in sorted(nf.restricting.items()):
        old_value = of.restricting.get(keyword)
        if old_value is None:
            out.append(
                SchemaChange("request-keyword-added", (), f"{keyword} added: {_short(value)}", at)
            )
        elif old_value != value:
            out.append(
                SchemaChange(
                    "request-keyword-changed",
                    (),
                    f"{keyword} changed from {_short(old_value)} to {_short(value)}",
                    at,
                )
            )


def _response_values(pair: Pair) -> None:
    of, nf, out = pair.old, pair.new, pair.changes
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
                    "response-enum-value-added", (), "enum removed: any value may now be returned", at
                )
            )
        else:
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
    for key in BOUND_KEYS_MIN:
        old_value, new_value = of.bounds.get(key), nf.bounds.get(key)
        if old_value is not None and nf.enum is not None and _enum_within(nf.enum, key, old_value):
            continue
        if old_value is not None and (new_value is None or new_value < old_value):
            out.append(
                SchemaChange(
                    "response-min-decreased",
                    (),
                    f"{key} lowered from {_num(old_value)} to {_num(new_value)}",
                    at,
                )
            )
    for key in BOUND_KEYS_MAX:
        old_value, new_value = of.bounds.get(key), nf.bounds.get(key)
        if old_value is not None and nf.enum is not None and _enum_within(nf.enum, key, old_value):
            continue
        if old_value is not None and (new_value is None or new_value > old_value):
            out.append(
                SchemaChange(
                    "response-max-increased",
                    (),
                    f"{key} raised from {_num(old_value)} to {_num(new_value)}",
                    at,
                )
            )
    if (
        of.pattern is not None
        and nf.pattern != of.pattern
        and not (nf.enum is not None and _enum_matches(nf.enum, of.pattern))
    ):
        kind = "response-pattern-removed" if nf.pattern is None else "response-pattern-changed"
        out.append(
            SchemaChange(
                kind, (), f"pattern changed from {of.pattern!r} to {nf.pattern!r}", at
            )
        )
    if of.multiple_of is not None and not _divides(of.multiple_of, nf.multiple_of):
        out.append(
            SchemaChange(
                "response-multiple-of-changed",
                (),
                f"no longer always a multiple of {_num(of.multiple_of)}",
                at,
            )
        )
    if of.unique_items and not nf.unique_items:
        out.append(
            SchemaChange("response-unique-items-removed", (), "items may now repeat", at)
        )
    if of.additional is False and nf.additional is not False:
        out.append(
            SchemaChange(
                "response-additional-properties-allowed",
                (),
                "may now contain properties the schema does not name",
                at,
            )
        )
    if of.default != nf.default:
        before = repr(of.default[0]) if of.default else "none"
        after = repr(nf.default[0]) if nf.default else "none"
        out.append(
            SchemaChange(
                "response-default-changed", (), f"default changed from {before} to {after}", at
            )
        )
    for keyword, value in sorted(of.restricting.items()):
        new_value = nf.restricting.get(keyword)
        if new_value is None:
            out.append(
                SchemaChange(
                    "response-keyword-removed", (), f"{keyword} removed (was {_short(value)})", at
                )
            )
        elif new_value != value:
            out.append(
                SchemaChange(
                    "response-keyword-changed",
                    (),
                    f"{keyword} changed from {_short(value)} to {_short(new_value)}",
                    at,
                )
            )


def _discriminators(pair: Pair) -> None:
    old, new = pair.old.discriminator, pair.new.discriminator
    if old is None or new is None:
        return
    at = pair.new.pointer
    if old[0] != new[0]:
        pair.changes.append(
            SchemaChange(
                "discriminator-property-changed",
                (),
                f"discriminator property changed from {old[0]!r} to {new[0]!r}",
                at,
            )
        )
    if pair.direction == "request":
        removed = sorted(set(old[1]) - set(new[1]))
        if removed:
            pair.changes.append(
                SchemaChange(
                    "request-discriminator-mapping-removed",
                    (),
                    f"discriminator value(s) {_fmt(removed)} no longer mapped",
                    at,
                )
            )
    else:
        added = sorted(set(new[1]) - set(old[1]))
        if added:
            pair.changes.append(
                SchemaChange(
                    "response-discriminator-mapping-added",
                    (),
                    f"discriminator value(s) {_fmt(added)} may now be returned",
                    at,
                )
            )


def _added(name: str, nf: Facts, facts: Facts, direction: Direction, out: list[SchemaChange]) -> None:
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
    out.append(SchemaChange(kind, (name,), f"{text} {name!r}", facts.pointer))


# -- helpers --------------------------------------------------------------------------------


def _accepts(new: Facts, json_type: str, text: bool) -> bool:
    """Whether ``new`` takes a value of ``json_type``; as text, a number is also a string."""
    if new.allows_type(json_type):
        return True
    if not text or new.types is None:
        return False
    if json_type in _WIRE_TEXT and "string" in new.types:
        return True
    return json_type == "integer" and "number" in new.types


def _in(value: Any, values: tuple[Any, ...], text: bool) -> bool:
    if value in values:
        return True
    return text and str(value) in {str(v) for v in values}


def _enum_within(values: tuple[Any, ...], key: str, bound: float) -> bool:
    """Whether every enum value keeps to an old bound (an enum replacing a bound)."""
    for value in values:
        if value is None:
            continue
        if key in ("minLength", "maxLength"):
            if not isinstance(value, str):
                return False
            size: float = len(value)
        elif key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                return False
            size = value
        else:
            return False
        if key.startswith("min") and size < bound or key == "exclusiveMinimum" and size <= bound:
            return False
        if key.startswith("max") and size > bound or key == "exclusiveMaximum" and size >= bound:
            return False
    return True


def _enum_matches(values: tuple[Any, ...], pattern: str) -> bool:
    """Whether every enum value matches an old pattern (an enum replacing a pattern)."""
    try:
        compiled = re.compile(pattern)
    except re.error:
        return False
    return all(v is None or (isinstance(v, str) and compiled.search(v)) for v in values)


def _divides(step: float, of: float | None) -> bool:
    """Whether every multiple of ``of`` is a multiple of ``step`` (``of`` None: any number)."""
    if of is None:
        return False
    ratio = of / step
    return abs(ratio - round(ratio)) < 1e-9


def _types(facts: Facts) -> str:
    return ", ".join(sorted(facts.types)) if facts.types else "any type"


def _types_meet(a: Facts, b: Facts) -> bool:
    if a.types is None or b.types is None:
        return True
    if a.types & b.types:
        return True
    return bool({"integer", "number"} <= (a.types | b.types) and "number" in (a.types | b.types))


def _labels(union: Facts, count: int) -> list[str]:
    """Names of a union's members (their components), or of a plain schema."""
    if not union.alternatives:
        return [_component_of(union.pointer) or "the schema"]
    labels = []
    for index, ref in enumerate(union.alternatives[:count]):
        labels.append(ref.component or f"{union.union}[{index}]")
    return labels


def _component_of(pointer: str) -> str | None:
    prefix = "/components/schemas/"
    if pointer.startswith(prefix) and "/" not in pointer[len(prefix) :]:
        return pointer[len(prefix) :].replace("~1", "/").replace("~0", "~")
    return None


def _named(label: str) -> bool:
    return "[" not in label and label != "the schema"


def _match(
    index: int,
    labels: list[str],
    other_labels: list[str],
    tags: list[str],
    other_tags: list[str],
    compatible: list[int],
) -> int | None:
    """The member on the other side that member ``index`` most likely became."""
    label = labels[index]
    if _named(label):
        for i in compatible:
            if other_labels[i] == label:
                return i
    if tags[index]:
        for i in compatible:
            if other_tags[i] == tags[index]:
                return i
    if len(labels) == len(other_labels) and index in compatible:
        return index
    if len(compatible) == 1 and not (_named(label) and _named(other_labels[compatible[0]])):
        return compatible[0]
    return None


def _constant_tag(reader: SchemaReader, member: Facts) -> str:
    """A member's constant-valued properties as text: a discriminator in all but name."""
    parts = []
    for name in sorted(member.properties):
        facts = reader.shape(member.properties[name])
        if facts.enum is not None and len(facts.enum) == 1:
            parts.append(f"{name}={facts.enum[0]!r}")
    return "&".join(parts)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _num(value: float | None) -> str:
    if value is None:
        return "none"
    return str(int(value)) if value == int(value) else str(value)
