"""Gate, response side: does the documented response still give the pact what it relies on?

Two passes over the pact's example response body:

1. ``jsonschema`` validates the example against the documented schema, and each
   error is judged by the pact's matcher at that place: a wrong *type* always
   breaks; an enum, pattern or format violation breaks only when no value the
   documented schema allows would satisfy the matcher (an exact value, a regex);
   otherwise the example itself no longer validating (a value outside a new
   pattern, format, enum, bound or const) still fails, as the provider could not
   return it; a missing *required* property does not matter (the pact does not
   use it). For a ``oneOf``/``anyOf``, the member that came closest is judged.
2. A walk checks that every field the example contains is documented (a
   renamed field is still valid JSON Schema when extra properties are allowed),
   and warns when it is optional or nullable.
"""

from __future__ import annotations

from typing import Any

from contracts import findings as fd
from contracts.findings import Finding, Location
from contracts.matchers import Expectation, MatchingRules, Token, json_type
from contracts.openapi import Operation
from contracts.pactfile import Interaction
from contracts.requestcheck import label, media_match
from contracts.schema import Facts, SchemaRef
from contracts.validation import DocumentCheck

_IGNORED = {
    "required",
    "additionalProperties",
    "unevaluatedProperties",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "uniqueItems",
    "contains",
    "dependentRequired",
}
_VALUE_KEYWORDS = {
    "enum",
    "const",
    "pattern",
    "format",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
}


class ResponseCheck(DocumentCheck):
    """Checks pact responses against one document."""

    def check(self, interaction: Interaction, operation: Operation) -> list[Finding]:
        """All response-side problems of one interaction.

        Args:
            interaction: The pact interaction.
            operation: The operation its method and path matched.

        Returns:
            Findings (empty when the documented response satisfies the pact).
        """
        out: list[Finding] = []
        status = str(interaction.status)
        responses = self.document.responses(operation)
        base = Location(operation.path, operation.method, status)
        chosen = next(
            (key for key in (status, f"{status[0]}XX", "DEFAULT") if key in responses), None
        )
        if chosen is None:
            documented = ", ".join(responses) or "none"
            out.append(
                fd.make(
                    "pact-response-status-undocumented",
                    f"the pact expects status {status}, which is not documented "
                    f"(documented: {documented})",
                    Location(operation.path, operation.method, status, operation.pointer),
                )
            )
            return out
        node, pointer = responses[chosen]
        if chosen == "DEFAULT":
            out.append(
                fd.make(
                    "pact-response-status-default",
                    f"status {status} is only covered by the 'default' response",
                    Location(operation.path, operation.method, status, pointer),
                )
            )
        response = interaction.response
        if not response.has_body or response.body in (None, ""):
            return out
        media = {m: SchemaRef(s, p) for m, s, p in self.document.iter_media(node, pointer)}
        content = node.get("content") or {}
        picked = media_match(sorted(map(str, content)), response.content_type, response.body)
        if picked is None:
            out.append(
                fd.make(
                    "pact-response-body-unverified",
                    f"the pact expects a {response.content_type or 'JSON'} body, but the "
                    f"response documents {', '.join(sorted(map(str, content))) or 'no content'}",
                    Location(operation.path, operation.method, status, pointer, "body"),
                )
            )
            return out
        schema = media.get(picked)
        if schema is None:
            return out
        self._validate(response.body, response.body_rules, schema, base, out)
        self._walk(response.body, (), schema, response.body_rules, base, out)
        return out

    def _validate(
        self,
        body: Any,
        rules: MatchingRules,
        schema: SchemaRef,
        base: Location,
        out: list[Finding],
    ) -> None:
        for error in self.validation.errors(schema, body, "read"):
            self._judge(error, rules, schema, base, out)

    def _judge(
        self,
        error: Any,
        rules: MatchingRules,
        schema: SchemaRef,
        base: Location,
        out: list[Finding],
    ) -> None:
        """Decide whether one validation error breaks what the pact relies on."""
        keyword = str(error.validator)
        if keyword in _IGNORED:
            return
        if keyword in ("oneOf", "anyOf") and error.context:
            # Judge the alternative that came closest, as a client would read it.
            by_branch: dict[Any, list[Any]] = {}
            for sub in error.context:
                by_branch.setdefault(sub.relative_schema_path[0], []).append(sub)
            closest = min(by_branch.values(), key=len)
            for sub in closest:
                self._judge(sub, rules, schema, base, out)
            return
        location: tuple[Token, ...] = tuple(error.absolute_path)
        expectation = rules.expectation(location, error.instance)
        at = self.validation.schema_at(schema, location) or schema
        name = label("body", location)
        where = Location(base.path, base.method, base.status, self.validation.pointer_of(at), name)
        if keyword == "type":
            out.append(
                fd.make(
                    "pact-response-type-mismatch",
                    f"{name}: the pact relies on {_describe(expectation)}, "
                    f"but the schema says {error.message}",
                    where,
                )
            )
        elif keyword in ("enum", "const"):
            allowed = list(error.validator_value) if keyword == "enum" else [error.validator_value]
            if not any(expectation.accepts(value) for value in allowed):
                out.append(
                    fd.make(
                        "pact-response-value-not-in-enum",
                        f"{name}: the pact relies on {_describe(expectation)}, but the "
                        f"schema only allows {', '.join(repr(v) for v in allowed)}",
                        where,
                    )
                )
            else:
                out.append(_invalid_example(name, expectation, error.message, where))
        elif keyword in _VALUE_KEYWORDS:
            if expectation.exact:
                out.append(
                    fd.make(
                        "pact-response-type-mismatch",
                        f"{name}: the pact relies on exactly {expectation.example!r}, "
                        f"but the schema rejects it: {error.message}",
                        where,
                    )
                )
            else:
                out.append(_invalid_example(name, expectation, error.message, where))
        else:
            out.append(
                fd.make(
                    "pact-response-body-unverified",
                    f"{name}: the example does not validate ({keyword}): {error.message}",
                    where,
                )
            )

    def _walk(
        self,
        value: Any,
        location: tuple[Token, ...],
        schema: SchemaRef,
        rules: MatchingRules,
        base: Location,
        out: list[Finding],
    ) -> None:
        facts = self._facts_for(schema, value)
        if isinstance(value, list) and facts.items is not None:
            for index, item in enumerate(value):
                self._walk(item, (*location, index), facts.items, rules, base, out)
            return
        if not isinstance(value, dict):
            return
        free_form = not facts.properties and not isinstance(facts.additional, SchemaRef)
        for key in sorted(value):
            here = (*location, key)
            name = label("body", here)
            prop = facts.properties.get(key)
            if prop is None:
                if isinstance(facts.additional, SchemaRef):
                    self._walk(value[key], here, facts.additional, rules, base, out)
                elif not free_form:
                    out.append(
                        fd.make(
                            "pact-response-field-missing",
                            f"{name}: the pact relies on field {key!r}, which the response "
                            f"schema does not document (documented: "
                            f"{', '.join(sorted(facts.properties))})",
                            Location(base.path, base.method, base.status, facts.pointer, name),
                        )
                    )
                continue
            prop_facts = self.reader.facts(prop)
            where = Location(base.path, base.method, base.status, prop_facts.pointer, name)
            if key not in facts.required and not facts.composed:
                out.append(
                    fd.make(
                        "pact-response-field-optional",
                        f"{name}: the pact relies on field {key!r}, which the response "
                        "schema marks optional",
                        where,
                    )
                )
            if value[key] is not None and prop_facts.types and "null" in prop_facts.types:
                out.append(
                    fd.make(
                        "pact-response-field-nullable",
                        f"{name}: the pact relies on a {json_type(value[key])}, but the schema "
                        "allows null",
                        where,
                    )
                )
            self._walk(value[key], here, prop, rules, base, out)

    def _facts_for(self, schema: SchemaRef, value: Any) -> Facts:
        """The schema as it applies to ``value``: for a union, the member the value fits.

        A union's folded view says a field exists if any member has it; walking the
        member the example actually matches says exactly what that member promises.
        """
        shape = self.reader.shape(schema)
        if not shape.alternatives:
            return self.reader.facts(schema)
        for ref, member in zip(shape.alternatives, self.reader.members(shape), strict=True):
            if not member.alternatives and not self.validation.errors(ref, value, "read"):
                return member
        return self.reader.facts(schema)


def _invalid_example(name: str, expectation: Expectation, message: str, where: Location) -> Finding:
    return fd.make(
        "pact-response-value-invalid",
        f"{name}: the pact's example {expectation.example!r} no longer satisfies the "
        f"schema ({message}); the provider cannot return it any more",
        where,
    )


def _describe(expectation: Expectation) -> str:
    example = expectation.example
    if expectation.kind == "equality":
        return f"exactly {example!r}"
    if expectation.kind == "regex":
        return f"a string matching {expectation.regex!r} (example {example!r})"
    if expectation.kind == "type":
        return f"any {json_type(example)} (example {example!r})"
    return f"a {expectation.kind} value (example {example!r})"
