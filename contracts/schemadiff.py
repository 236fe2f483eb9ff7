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

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from contracts.catalogue import Level
from contracts.lifecycle import Lifecycle, on_change, on_removal
from contracts.schema import Facts, SchemaReader, SchemaRef
from contracts.schemachange import SchemaChange, field_name
from contracts.schemarules import (
    added_property,
    dependent_required_rules,
    discriminator_rules,
    request_rules,
    response_rules,
)
from contracts.unions import Tags, match, member_labels, named, types_meet, types_text

__all__ = ["Direction", "PairKey", "SchemaChange", "SchemaGraph", "field_name"]

Direction = Literal["request", "response"]
PairKey = tuple[str, str, str, bool]
"""``(old key, new key, direction, text)``; ``text`` marks parameter values sent as text."""

_OTHER: dict[Direction, Direction] = {"request": "response", "response": "request"}


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
        exclusive: The other side is a request ``oneOf``: a value two members accept
            is rejected, so the member must fit exactly one.
    """

    label: str
    member: Facts
    candidates: list[PairKey]
    primary: bool
    pending: list[tuple[Facts, Facts]] = field(default_factory=list)
    exclusive: bool = False


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
        ambiguous: Labels of members already flagged as matching several ``oneOf`` members.
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
    ambiguous: set[str] = field(default_factory=set)

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
        same = _written_alike(of, nf)
        if same and not (
            self.old.document.holds_references(of.node)
            or self.new.document.holds_references(nf.node)
        ):
            return  # the same plain data on both sides: nothing here or below can differ
        if of.alternatives or nf.alternatives:
            self._union(pair)
            return
        if not same or "allOf" in (of.node or {}):
            request = pair.direction == "request"
            if request:
                pair.changes.extend(request_rules(of, nf, pair.text))
            else:
                pair.changes.extend(response_rules(of, nf))
            pair.changes.extend(dependent_required_rules(of, nf, request))
            pair.changes.extend(discriminator_rules(of, nf, request))
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
        for step in sorted(set(of.subschemas) & set(nf.subschemas)):
            # Under ``not`` a narrower schema rejects less: compare the other way round.
            direction = pair.direction if step != "{not}" else _OTHER[pair.direction]
            child = self._ensure(
                self.old.shape(of.subschemas[step]),
                self.new.shape(nf.subschemas[step]),
                direction,
                False,
            )
            pair.edges.append((step, child))

    def _properties(self, pair: Pair) -> None:
        of, nf, direction = pair.old, pair.new, pair.direction
        out = pair.changes
        for name in sorted(set(of.properties) | set(nf.properties)):
            old_ref, new_ref = of.properties.get(name), nf.properties.get(name)
            if new_ref is None and old_ref is not None:
                self._removed(pair, name, self.old.shape(old_ref))
                continue
            assert new_ref is not None
            if (
                old_ref is not None
                and (name in of.required) == (name in nf.required)
                and self._plain_alike(old_ref, new_ref)
            ):
                continue
            new_facts = self.new.shape(new_ref)
            if old_ref is None:
                change = added_property(name, nf, new_facts, direction == "request")
                if change is not None:
                    out.append(change)
                continue
            old_facts = self.old.shape(old_ref)
            self._property_flags(pair, name, old_facts, new_facts)
            child = self._ensure(old_facts, new_facts, direction, False)
            pair.edges.append((name, child))

    def _plain_alike(self, old: SchemaRef, new: SchemaRef) -> bool:
        """Whether two schemas are the same plain data (no ``$ref`` in or below them),
        so nothing in them can differ; cheap, and most properties of a diff are so."""
        return (
            old.node == new.node
            and not self.old.document.holds_references(old.node)
            and not self.new.document.holds_references(new.node)
        )

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
        old_labels, new_labels = member_labels(of, len(olds)), member_labels(nf, len(news))
        old_tags = Tags(self.old, olds)
        new_tags = Tags(self.new, news)
        request = pair.direction == "request"
        covered, covering = (olds, news) if request else (news, olds)
        covered_labels, covering_labels = (
            (old_labels, new_labels) if request else (new_labels, old_labels)
        )
        covered_tags, covering_tags = (old_tags, new_tags) if request else (new_tags, old_tags)
        # A named member with no namesake is not taken over by a member that has one.
        names = {label for label in covered_labels if named(label)}
        claimed = {i for i, label in enumerate(covering_labels) if label in names}
        # Wrapped into a oneOf: a value two members accept is now refused. (Between two
        # oneOfs, overlaps may be old news, which comparing across documents cannot tell.)
        exclusive = request and nf.union == "oneOf" and of.union != "oneOf"
        used: set[int] = set()
        for index, member in enumerate(covered):
            label = covered_labels[index]
            compatible = [i for i, c in enumerate(covering) if types_meet(member, c)]
            if named(label) and label not in covering_labels:
                compatible = [i for i in compatible if i not in claimed]
            if not compatible:
                pair.changes.append(_unmatched(pair.direction, Slot(label, member, [], False)))
                continue
            primary = match(
                index, covered_labels, covering_labels, covered_tags, covering_tags, compatible
            )
            # oneOf rejects a value two members accept: compare with every member then.
            order = [primary] if primary is not None and not exclusive else compatible
            if primary is not None and exclusive:
                order = [primary, *(i for i in compatible if i != primary)]
            used.update([primary] if primary is not None else compatible)
            slot = Slot(
                label,
                member,
                [self._member_pair(pair, member, covering[i]) for i in order],
                primary is not None,
                exclusive=exclusive,
            )
            if primary is not None and not exclusive:
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
                    kind,
                    (),
                    f"{text} {covering_labels[index]}",
                    member.pointer,
                    "new" if request else "old",
                )
            )
        pair.changes.extend(discriminator_rules(of, nf, request))

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
            if not grown and not self._ambiguities():
                break
        for pair in self.pairs.values():
            pair.chosen = list(pair.edges)
            for slot in pair.slots:
                picked = self._pick(slot)
                if picked is not None:
                    pair.chosen.append(("", picked))
                else:
                    pair.changes.append(_unmatched(pair.direction, slot))

    def _ambiguities(self) -> bool:
        """Flag request members that several members of a new ``oneOf`` accept.

        Returns:
            Whether any was flagged (the fixed point is then computed again).
        """
        flagged = False
        for pair in self.pairs.values():
            for slot in pair.slots:
                if not slot.exclusive or slot.label in pair.ambiguous:
                    continue
                fits = [k for k in slot.candidates if not self.pairs[k].bad]
                if len(fits) < 2:
                    continue
                pair.ambiguous.add(slot.label)
                pair.changes.append(
                    SchemaChange(
                        "request-one-of-ambiguous",
                        (),
                        f"values of {slot.label} now match {len(fits)} oneOf alternatives, "
                        "and oneOf accepts a value only when exactly one matches",
                        pair.new.pointer,
                    )
                )
                flagged = True
        return flagged

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


# -- union members -------------------------------------------------------------------------


def _written_alike(old: Facts, new: Facts) -> bool:
    """Whether two schemas are written the same (references inside may still differ)."""
    return (
        old.node is not None
        and old.key == old.pointer
        and new.key == new.pointer
        and old.node == new.node
    )


def _unmatched(direction: Direction, slot: Slot) -> SchemaChange:
    """A union member nothing on the other side accepts."""
    if direction == "request":
        kind, text, document = "request-union-member-removed", "no longer accepts", "old"
    else:
        kind, text, document = "response-union-member-added", "may now return", "new"
    return SchemaChange(
        kind,
        (),
        f"{text} {slot.label} ({types_text(slot.member)}); no alternative on the other side "
        "matches it",
        slot.member.pointer,
        document,
    )
