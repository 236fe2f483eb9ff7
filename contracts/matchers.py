"""Pact matching rules: what a pact actually relies on in a body.

A pact's example body is only an example: a ``type`` matcher says "any value of
this type", ``regex`` "any string matching", ``integer``/``decimal``/``number``
"any such number", and no matcher means "exactly this value". Matchers on an
object or array (``like``/``eachLike``) cascade to everything inside as type
matching. :class:`MatchingRules` finds the rule that governs a concrete JSON
location and :class:`Expectation` says which values satisfy it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

WILDCARD = "*"

Token = str | int

_TOKEN = re.compile(r"\.([^.\[\]]+)|\[\*\]|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


def parse_path(path: str) -> tuple[Token, ...]:
    """Parse a Pact matching-rule path such as ``$.lines[*].sku``.

    Args:
        path: The rule path (``$`` is the root; plain names are header names).

    Returns:
        Tokens: names, indices and :data:`WILDCARD`.
    """
    if not path.startswith("$"):
        return (path,)
    tokens: list[Token] = []
    position = 1
    while position < len(path):
        found = _TOKEN.match(path, position)
        if found is None:
            tokens.append(path[position:])
            break
        name, index, quoted, dquoted = found.groups()
        if name is not None:
            tokens.append(name)
        elif index is not None:
            tokens.append(int(index))
        elif quoted is not None or dquoted is not None:
            tokens.append(quoted if quoted is not None else dquoted)
        else:
            tokens.append(WILDCARD)
        position = found.end()
    return tuple(tokens)


def json_type(value: Any) -> str:
    """The JSON type name of a Python value.

    Args:
        value: A parsed JSON value.

    Returns:
        ``null``, ``boolean``, ``integer``, ``number``, ``string``, ``array`` or ``object``.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


@dataclass(frozen=True)
class Rule:
    """Matchers that apply at one rule path.

    Attributes:
        path: The rule path as written in the pact.
        tokens: The parsed path.
        matchers: The matcher objects (``{"match": "type", ...}``).
    """

    path: str
    tokens: tuple[Token, ...]
    matchers: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Expectation:
    """What the pact accepts at one location.

    Attributes:
        kind: ``equality`` (no matcher: exactly the example), ``type``, ``regex``,
            ``integer``, ``decimal``, ``number``, ``boolean``, ``null``,
            ``include`` or another Pact matcher name.
        example: The example value.
        regex: The regex, for ``regex`` matchers.
        rule: The rule path that applies, if any.
    """

    kind: str
    example: Any
    regex: str | None = None
    rule: str | None = None

    @property
    def exact(self) -> bool:
        """Whether only the example value itself is accepted."""
        return self.kind == "equality"

    def accepts(self, value: Any) -> bool:
        """Whether the pact would accept ``value`` here.

        Args:
            value: A candidate value (e.g. one of an enum's values).

        Returns:
            True when the value satisfies the matcher.
        """
        if self.kind == "equality":
            return bool(value == self.example and json_type(value) == json_type(self.example))
        if self.kind == "regex" and self.regex is not None:
            return isinstance(value, str) and re.fullmatch(self.regex, value) is not None
        if self.kind == "include":
            return isinstance(value, str) and str(self.example) in value
        if self.kind == "integer":
            return json_type(value) == "integer"
        if self.kind in ("decimal", "number"):
            return json_type(value) in ("integer", "number")
        if self.kind == "boolean":
            return isinstance(value, bool)
        if self.kind == "null":
            return value is None
        if self.kind in ("date", "time", "datetime", "timestamp"):
            return isinstance(value, str)
        example_type = json_type(self.example)
        if example_type in ("integer", "number"):
            return json_type(value) in ("integer", "number")
        return json_type(value) == example_type


@dataclass(frozen=True)
class MatchingRules:
    """The matching rules of one category (``body`` or ``header``) of a request or response.

    Attributes:
        rules: The rules.
    """

    rules: tuple[Rule, ...] = field(default_factory=tuple)

    @staticmethod
    def from_pact(raw: Any) -> dict[str, MatchingRules]:
        """Read a ``matchingRules`` object (V2 flat or V3/V4 by category).

        Args:
            raw: The ``matchingRules`` value of a request or response.

        Returns:
            Rules by category (``body``, ``header``, ``query``, ``path``).
        """
        if not isinstance(raw, dict):
            return {}
        grouped: dict[str, list[Rule]] = {}
        if any(key.startswith("$") for key in raw):  # V2: {"$.body.x": {"match": ...}}
            for path, matcher in raw.items():
                tokens = parse_path(path)
                if not tokens or not isinstance(matcher, dict):
                    continue
                category = {"headers": "header"}.get(str(tokens[0]), str(tokens[0]))
                rest = tokens[1:]
                grouped.setdefault(category, []).append(Rule(path, rest, (matcher,)))
        else:
            for category, entries in raw.items():
                if not isinstance(entries, dict):
                    continue
                for path, spec in entries.items():
                    matchers = spec.get("matchers", []) if isinstance(spec, dict) else spec
                    if isinstance(matchers, list):
                        found = tuple(m for m in matchers if isinstance(m, dict))
                        grouped.setdefault(category, []).append(Rule(path, parse_path(path), found))
        return {name: MatchingRules(tuple(rules)) for name, rules in sorted(grouped.items())}

    def expectation(self, location: tuple[Token, ...], example: Any) -> Expectation:
        """What the pact accepts at a concrete location.

        Args:
            location: Keys and indices from the body root (``("lines", 0, "sku")``).
            example: The example value there.

        Returns:
            The expectation: the most specific rule at the location itself, or a
            cascading ``type`` matcher from an enclosing object or array, or
            equality.
        """
        best: tuple[int, int, Rule] | None = None
        for rule in self.rules:
            weight = _weight(rule.tokens, location)
            if weight and (best is None or (len(rule.tokens), weight) > best[:2]):
                best = (len(rule.tokens), weight, rule)
        if best is None:
            return Expectation("equality", example)
        length, _, rule = best
        matcher = rule.matchers[0] if rule.matchers else {"match": "type"}
        kind = str(matcher.get("match", "type"))
        if length < len(location):
            if kind == "type" or "min" in matcher or "max" in matcher:
                return Expectation("type", example, rule=rule.path)
            return Expectation("equality", example)
        if kind == "regex":
            return Expectation(
                "regex", example, regex=str(matcher.get("regex", "")), rule=rule.path
            )
        if kind in ("include",):
            return Expectation("include", matcher.get("value", example), rule=rule.path)
        return Expectation(kind, example, rule=rule.path)


def _weight(rule: tuple[Token, ...], location: tuple[Token, ...]) -> int:
    """How well a rule path matches a prefix of the location (0: not at all)."""
    if len(rule) > len(location):
        return 0
    weight = 1
    for want, have in zip(rule, location, strict=False):
        if want == WILDCARD:
            weight *= 1
        elif want == have or (isinstance(have, int) and str(have) == str(want)):
            weight *= 2
        else:
            return 0
    return weight
