"""The rules applied to one pair of schemas: what narrowed, what widened, and which way breaks.

Each function looks at the flattened facts of an old and a new schema and returns
the changes found at that pair alone (the graph in :mod:`contracts.schemadiff`
takes care of properties, items and union members below it). A request rule fires
when a value the old schema accepted may be refused now; a response rule when
the new schema may return a value the old one never did. The identifiers and
their levels are in :mod:`contracts.catalogue`; ``docs/contracts.md`` lists them.
"""

from __future__ import annotations

import re
from typing import Any

from contracts.schema import BOUND_KEYS_MAX, BOUND_KEYS_MIN, TRAVERSED, Facts
from contracts.schemachange import SchemaChange

_WIRE_TEXT = ("integer", "number", "boolean")


def request_rules(old: Facts, new: Facts, text: bool) -> list[SchemaChange]:
    """Changes that may refuse a value clients send.

    Args:
        old: The old schema.
        new: The new schema.
        text: The value travels as text (a parameter): ``42`` is also a string.

    Returns:
        The changes, in a fixed order.
    """
    out: list[SchemaChange] = []
    at = new.pointer

    def add(kind: str, message: str) -> None:
        out.append(SchemaChange(kind, (), message, at))

    lost = _lost_types(old, new, text)
    if lost:
        add(
            "request-type-narrowed",
            f"no longer accepts {', '.join(lost)} (now {', '.join(sorted(new.types or []))})",
        )
    if new.format is not None and new.format != old.format:
        add("request-format-changed", f"format changed from {old.format!r} to {new.format!r}")
    if new.enum is not None:
        if old.enum is None:
            add("request-became-enum", f"now restricted to {_fmt(new.enum)}")
        else:
            removed = [v for v in old.enum if not _in(v, new.enum, text)]
            added = [v for v in new.enum if not _in(v, old.enum, text)]
            if removed:
                add(
                    "request-enum-value-removed",
                    f"enum value(s) {_fmt(removed)} no longer accepted",
                )
            if added:
                add("request-enum-value-added", f"enum value(s) {_fmt(added)} added")
    if old.extensible_enum is not None and new.extensible_enum is not None:
        removed = [v for v in old.extensible_enum if v not in new.extensible_enum]
        if removed:
            add(
                "request-extensible-enum-value-removed",
                f"x-extensible-enum value(s) {_fmt(removed)} no longer accepted",
            )
    for key in (*BOUND_KEYS_MIN, *BOUND_KEYS_MAX):
        before, after = old.bounds.get(key), new.bounds.get(key)
        if after is None:
            continue
        if before is None:
            add("request-bound-added", f"{key} {_num(after)} added")
        elif key in BOUND_KEYS_MIN and after > before:
            add("request-min-increased", f"{key} raised from {_num(before)} to {_num(after)}")
        elif key in BOUND_KEYS_MAX and after < before:
            add("request-max-decreased", f"{key} lowered from {_num(before)} to {_num(after)}")
    if new.pattern is not None and new.pattern != old.pattern:
        if old.pattern is None:
            add("request-pattern-added", f"must now match {new.pattern!r}")
        else:
            add(
                "request-pattern-changed",
                f"pattern changed from {old.pattern!r} to {new.pattern!r}",
            )
    if new.multiple_of is not None and not _divides(new.multiple_of, old.multiple_of):
        was = _num(old.multiple_of) if old.multiple_of else "any number"
        add(
            "request-multiple-of-changed",
            f"must now be a multiple of {_num(new.multiple_of)} (was {was})",
        )
    if new.unique_items and not old.unique_items:
        add("request-unique-items-added", "items must now be unique")
    if new.additional is False and old.additional is not False:
        add(
            "request-additional-properties-forbidden",
            "properties the schema does not name are no longer accepted",
        )
    if old.default != new.default:
        kind = "request-parameter-default-changed" if text else "request-default-changed"
        add(kind, f"default changed from {_default(old)} to {_default(new)}")
    for keyword, value in sorted(new.restricting.items()):
        before_text = old.restricting.get(keyword)
        if before_text is None:
            add("request-keyword-added", f"{keyword} added: {_short(value)}")
        elif before_text != value and keyword not in TRAVERSED:
            add(
                "request-keyword-changed",
                f"{keyword} changed from {_short(before_text)} to {_short(value)}",
            )
    return out


def response_rules(old: Facts, new: Facts) -> list[SchemaChange]:
    """Changes that may return a value clients have not seen.

    Args:
        old: The old schema.
        new: The new schema.

    Returns:
        The changes, in a fixed order.
    """
    out: list[SchemaChange] = []
    at = new.pointer

    def add(kind: str, message: str) -> None:
        out.append(SchemaChange(kind, (), message, at))

    if old.types is not None:
        if new.types is None:
            add(
                "response-type-changed",
                f"type no longer declared (was {', '.join(sorted(old.types))})",
            )
        else:
            added = sorted(t for t in new.types if not old.allows_type(t))
            if "null" in added:
                add("response-property-became-nullable", "may now be null")
                added.remove("null")
            if added:
                add(
                    "response-type-changed",
                    f"type changed from {', '.join(sorted(old.types))} "
                    f"to {', '.join(sorted(new.types))}",
                )
            elif new.types != old.types:
                add("response-type-narrowed", f"type narrowed to {', '.join(sorted(new.types))}")
    if old.format is not None and new.format != old.format:
        add("response-format-changed", f"format changed from {old.format!r} to {new.format!r}")
    if old.enum is not None:
        _response_enum(old, new, add)
    for key in (*BOUND_KEYS_MIN, *BOUND_KEYS_MAX):
        before, after = old.bounds.get(key), new.bounds.get(key)
        if before is None or (new.enum is not None and _enum_within(new.enum, key, before)):
            continue
        if key in BOUND_KEYS_MIN and (after is None or after < before):
            add("response-min-decreased", f"{key} lowered from {_num(before)} to {_num(after)}")
        elif key in BOUND_KEYS_MAX and (after is None or after > before):
            add("response-max-increased", f"{key} raised from {_num(before)} to {_num(after)}")
    if (
        old.pattern is not None
        and new.pattern != old.pattern
        and not (new.enum is not None and _enum_matches(new.enum, old.pattern))
    ):
        kind = "response-pattern-removed" if new.pattern is None else "response-pattern-changed"
        add(kind, f"pattern changed from {old.pattern!r} to {new.pattern!r}")
    if old.multiple_of is not None and not _divides(old.multiple_of, new.multiple_of):
        add(
            "response-multiple-of-changed",
            f"no longer always a multiple of {_num(old.multiple_of)}",
        )
    if old.unique_items and not new.unique_items:
        add("response-unique-items-removed", "items may now repeat")
    if old.additional is False and new.additional is not False:
        add(
            "response-additional-properties-allowed",
            "may now contain properties the schema does not name",
        )
    if old.default != new.default:
        add("response-default-changed", f"default changed from {_default(old)} to {_default(new)}")
    for keyword, value in sorted(old.restricting.items()):
        after_text = new.restricting.get(keyword)
        if after_text is None:
            add("response-keyword-removed", f"{keyword} removed (was {_short(value)})")
        elif after_text != value and keyword not in TRAVERSED:
            add(
                "response-keyword-changed",
                f"{keyword} changed from {_short(value)} to {_short(after_text)}",
            )
    return out


def _response_enum(old: Facts, new: Facts, add: Any) -> None:
    assert old.enum is not None
    if new.enum is None:
        add("response-enum-value-added", "enum removed: any value may now be returned")
        return
    added = [v for v in new.enum if v not in old.enum]
    removed = [v for v in old.enum if v not in new.enum]
    if len(old.enum) == 1 and added:
        add("response-const-changed", f"the constant {old.enum[0]!r} may now be {_fmt(added)}")
    elif added:
        add("response-enum-value-added", f"new enum value(s) {_fmt(added)} may be returned")
    if removed:
        add("response-enum-value-removed", f"enum value(s) {_fmt(removed)} no longer returned")


def dependent_required_rules(old: Facts, new: Facts, request: bool) -> list[SchemaChange]:
    """``dependentRequired`` compared entry by entry: a request breaks when a property
    requires more companions, a response when it promises fewer.

    Args:
        old: The old schema.
        new: The new schema.
        request: The direction is a request.

    Returns:
        The changes.
    """
    out: list[SchemaChange] = []
    if not (old.restricting.get("dependentRequired") and new.restricting.get("dependentRequired")):
        return out
    narrow, wide = (old, new) if request else (new, old)
    for name in sorted(wide.dependent_required):
        extra = sorted(
            wide.dependent_required[name] - narrow.dependent_required.get(name, frozenset())
        )
        if not extra:
            continue
        if request:
            kind, text = "request-keyword-added", f"'{name}' now also requires {_fmt(extra)}"
        else:
            kind, text = "response-keyword-removed", f"'{name}' no longer comes with {_fmt(extra)}"
        out.append(SchemaChange(kind, (), f"dependentRequired: {text}", new.pointer))
    return out


def discriminator_rules(old: Facts, new: Facts, request: bool) -> list[SchemaChange]:
    """A discriminator's property and mapping.

    Args:
        old: The old schema.
        new: The new schema.
        request: The direction is a request.

    Returns:
        The changes.
    """
    out: list[SchemaChange] = []
    at = new.pointer
    before, after = old.discriminator, new.discriminator
    if before is None or after is None:
        return out
    if before[0] != after[0]:
        out.append(
            SchemaChange(
                "discriminator-property-changed",
                (),
                f"discriminator property changed from {before[0]!r} to {after[0]!r}",
                at,
            )
        )
    if request:
        removed = sorted(set(before[1]) - set(after[1]))
        if removed:
            out.append(
                SchemaChange(
                    "request-discriminator-mapping-removed",
                    (),
                    f"discriminator value(s) {_fmt(removed)} no longer mapped",
                    at,
                )
            )
    else:
        added = sorted(set(after[1]) - set(before[1]))
        if added:
            out.append(
                SchemaChange(
                    "response-discriminator-mapping-added",
                    (),
                    f"discriminator value(s) {_fmt(added)} may now be returned",
                    at,
                )
            )
    return out


def added_property(name: str, parent: Facts, facts: Facts, request: bool) -> SchemaChange | None:
    """The change for a property only the new schema declares.

    Args:
        name: The property.
        parent: The new object schema.
        facts: The property's schema.
        request: The direction is a request.

    Returns:
        The change, or ``None`` for a property that does not travel this way.
    """
    if request:
        if facts.read_only:
            return None
        if name in parent.required:
            kind, text = "request-property-added-required", "new required request property"
        else:
            kind, text = "request-property-added", "new optional request property"
    else:
        if facts.write_only:
            return None
        kind, text = "response-property-added", "new response property"
    return SchemaChange(kind, (name,), f"{text} {name!r}", facts.pointer)


# -- helpers --------------------------------------------------------------------------------


def _lost_types(old: Facts, new: Facts, text: bool) -> list[str]:
    if old.types is None:
        return ["any type"] if new.types is not None else []
    return sorted(t for t in old.types if not _accepts(new, t, text))


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


def _divides(step: float, of: float | None) -> bool:
    """Whether every multiple of ``of`` is a multiple of ``step`` (``of`` None: any number)."""
    if of is None:
        return False
    ratio = of / step
    return abs(ratio - round(ratio)) < 1e-9


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
        too_small = size < bound or (key == "exclusiveMinimum" and size == bound)
        too_large = size > bound or (key == "exclusiveMaximum" and size == bound)
        if (key.startswith(("min", "exclusiveMin")) and too_small) or (
            key.startswith(("max", "exclusiveMax")) and too_large
        ):
            return False
    return True


def _enum_matches(values: tuple[Any, ...], pattern: str) -> bool:
    """Whether every enum value matches an old pattern (an enum replacing a pattern)."""
    try:
        compiled = re.compile(pattern)
    except re.error:
        return False
    return all(v is None or (isinstance(v, str) and compiled.search(v)) for v in values)


def _default(facts: Facts) -> str:
    return repr(facts.default[0]) if facts.default else "none"


def _fmt(values: Any) -> str:
    return ", ".join(repr(v) for v in values)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _num(value: float | None) -> str:
    if value is None:
        return "none"
    return str(int(value)) if value == int(value) else str(value)
