"""Every kind of finding: its stable identifier, its level and a one-line example.

Identifiers are stable across releases, so CI filters and dashboards can rely on
them; ``docs/contracts.md`` lists them all (a test keeps it complete). Levels:
**error** breaks existing clients, **warning** may break them, **info** does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    """How bad a finding is for existing clients."""

    ERROR = "error"
    """Breaks existing clients."""
    WARNING = "warning"
    """May break existing clients."""
    INFO = "info"
    """Does not break existing clients."""

    @property
    def rank(self) -> int:
        """2 for error, 1 for warning, 0 for info."""
        return {"error": 2, "warning": 1, "info": 0}[self.value]


@dataclass(frozen=True)
class Kind:
    """A kind of finding.

    Attributes:
        id: Stable identifier.
        level: Default level.
        summary: What it means.
        example: A one-line example of a change of this kind.
        command: ``diff``, ``gate`` or ``verify``: the command that reports it.
    """

    id: str
    level: Level
    summary: str
    example: str = ""
    command: str = "diff"


_E, _W, _I = Level.ERROR, Level.WARNING, Level.INFO


def _gate(id_: str, level: Level, summary: str, example: str = "") -> Kind:
    return Kind(id_, level, summary, example, "gate")


_KINDS = [
    # -- diff: operations, paths and their lifecycle
    Kind(
        "path-removed", _E, "A path (with all its operations) was removed.", "/orders/{id} is gone"
    ),
    Kind(
        "operation-removed",
        _E,
        "An operation was removed from a path that still exists.",
        "DELETE /orders/{id} is gone, GET stays",
    ),
    Kind(
        "removed-before-sunset",
        _E,
        "A deprecated operation, parameter or property was removed before its x-sunset date.",
        "deprecated, x-sunset: 2027-06-30, removed in 2026",
    ),
    Kind(
        "removed-after-deprecation",
        _I,
        "Something deprecated (and past any x-sunset) was removed.",
        "deprecated: true in old, gone in new",
    ),
    Kind("deprecated", _I, "Something was deprecated.", "deprecated: true added"),
    Kind(
        "deprecated-without-sunset",
        _E,
        "Deprecated without an x-sunset date, while --deprecation-days asks for notice.",
        "deprecated: true, no x-sunset, --deprecation-days 90",
    ),
    Kind(
        "sunset-too-soon",
        _E,
        "Deprecated with an x-sunset nearer than --deprecation-days.",
        "x-sunset 30 days ahead, --deprecation-days 90",
    ),
    Kind("sunset-invalid", _E, "An x-sunset value is not a date.", "x-sunset: soon"),
    Kind(
        "sunset-removed",
        _E,
        "A deprecation lost its x-sunset date.",
        "x-sunset: 2027-01-01 dropped",
    ),
    Kind(
        "sunset-moved-earlier",
        _E,
        "An x-sunset date moved earlier.",
        "x-sunset 2027-06-30 -> 2027-01-31",
    ),
    Kind("reactivated", _I, "Something is no longer deprecated.", "deprecated: true dropped"),
    Kind(
        "stability-decreased",
        _E,
        "An operation's x-stability-level went down (stable > beta > alpha > draft).",
        "x-stability-level: stable -> beta",
    ),
    Kind(
        "stability-invalid",
        _E,
        "An x-stability-level is not one of draft, alpha, beta, stable.",
        "x-stability-level: production",
    ),
    Kind(
        "operation-id-changed", _W, "An operation's operationId changed.", "getOrder -> readOrder"
    ),
    Kind(
        "security-requirement-added",
        _E,
        "An operation now requires security it did not.",
        "security: [{oauth: []}] added",
    ),
    Kind(
        "security-scope-added",
        _E,
        "An operation's security now asks for a scope existing tokens may lack.",
        "oauth: [orders:read] -> [orders:read, orders:write]",
    ),
    Kind("path-added", _I, "A path was added.", "/refunds added"),
    Kind("operation-added", _I, "An operation was added.", "PATCH /orders/{id} added"),
    Kind("webhook-removed", _E, "A webhook (OpenAPI 3.1 webhooks) was removed.", "orderPaid gone"),
    # -- diff: request parameters
    Kind(
        "request-parameter-added-required",
        _E,
        "A new required request parameter.",
        "required query parameter region added",
    ),
    Kind(
        "request-parameter-became-required",
        _E,
        "An optional request parameter became required.",
        "query dryRun: required false -> true",
    ),
    Kind("request-parameter-added", _I, "A new optional request parameter.", "query limit added"),
    Kind(
        "request-parameter-removed",
        _W,
        "A request parameter is no longer documented.",
        "query expand removed",
    ),
    Kind(
        "request-parameter-style-changed",
        _E,
        "A parameter's serialisation (style or explode) changed.",
        "query ids: style form, explode true -> explode false",
    ),
    Kind(
        "request-parameter-default-changed",
        _E,
        "A parameter's default changed, so clients omitting it get other behaviour.",
        "query limit default 10 -> 100",
    ),
    # -- diff: request bodies
    Kind(
        "request-body-became-required",
        _E,
        "The request body became required (or a required one was added).",
        "requestBody.required: true",
    ),
    Kind(
        "request-body-removed",
        _E,
        "The operation no longer takes a request body.",
        "requestBody gone",
    ),
    Kind(
        "request-body-schema-added",
        _E,
        "A request media type that took anything now has a schema.",
        "application/json: {} -> {schema: Order}",
    ),
    Kind(
        "request-media-type-removed",
        _E,
        "A request content type is no longer accepted.",
        "application/xml dropped",
    ),
    Kind(
        "request-property-added-required",
        _E,
        "A new required request body property.",
        "subsidiary added to required",
    ),
    Kind(
        "request-property-became-required",
        _E,
        "An optional request property became required.",
        "note added to required",
    ),
    Kind("request-property-added", _I, "A new optional request body property.", "memo added"),
    Kind(
        "request-property-removed",
        _W,
        "A request body property is no longer documented.",
        "legacyCode removed from OrderInput",
    ),
    Kind(
        "request-property-became-read-only",
        _W,
        "A request property became readOnly: the server ignores what clients send.",
        "total: readOnly: true",
    ),
    # -- diff: values in requests (client writes: narrowing breaks)
    Kind(
        "request-type-narrowed",
        _E,
        "A request value accepts fewer types (incl. null).",
        "quantity: number -> integer",
    ),
    Kind(
        "request-format-changed",
        _E,
        "A request value's format changed or was added.",
        "sku: format uuid added",
    ),
    Kind(
        "request-became-enum",
        _E,
        "A request value that was free is now restricted to an enum (or a const).",
        "channel: string -> enum [web, partner]",
    ),
    Kind(
        "request-enum-value-removed",
        _E,
        "A request enum (or const) no longer accepts a value.",
        "channel: enum loses partner",
    ),
    Kind("request-enum-value-added", _I, "A request enum accepts a new value.", "channel: + api"),
    Kind(
        "request-extensible-enum-value-removed",
        _E,
        "An x-extensible-enum no longer lists a value clients may send.",
        "x-extensible-enum loses legacy",
    ),
    Kind(
        "request-min-increased",
        _E,
        "A request minimum, minLength, minItems (...) increased.",
        "sku: minLength 1 -> 3",
    ),
    Kind(
        "request-max-decreased",
        _E,
        "A request maximum, maxLength, maxItems (...) decreased.",
        "quantity: maximum 100 -> 10",
    ),
    Kind(
        "request-bound-added",
        _W,
        "A request value got a bound it did not have (values beyond it now fail).",
        "note: maxLength 500 added",
    ),
    Kind(
        "request-pattern-added",
        _E,
        "A request string must now match a pattern.",
        "sku: pattern ^[A-Z]+$ added",
    ),
    Kind(
        "request-pattern-changed",
        _W,
        "A request pattern changed (whether it still accepts old values is undecided).",
        "sku: ^[A-Z]+$ -> ^[A-Z0-9]+$",
    ),
    Kind(
        "request-multiple-of-changed",
        _E,
        "A request number must now be a multiple of a step old values need not meet.",
        "amount: multipleOf 0.01 added",
    ),
    Kind(
        "request-unique-items-added",
        _E,
        "A request array must now hold unique items.",
        "tags: uniqueItems true",
    ),
    Kind(
        "request-additional-properties-forbidden",
        _E,
        "A request object no longer accepts properties its schema does not name.",
        "additionalProperties: false",
    ),
    Kind(
        "request-default-changed",
        _W,
        "A request property's default changed: clients omitting it get other behaviour.",
        "currency default USD -> EUR",
    ),
    Kind(
        "request-keyword-added",
        _E,
        "A narrowing JSON Schema keyword was added (not, if/then/else, contains, "
        "dependentRequired, patternProperties, propertyNames, unevaluated*, content*, "
        "prefixItems).",
        "not: {required: [legacy]} added",
    ),
    Kind(
        "request-keyword-changed",
        _W,
        "A narrowing JSON Schema keyword changed.",
        "propertyNames pattern changed",
    ),
    Kind(
        "request-union-member-removed",
        _E,
        "A oneOf/anyOf alternative clients may send has no counterpart any more.",
        "payment: oneOf [Card, Iban] -> [Card]",
    ),
    Kind(
        "request-one-of-ambiguous",
        _E,
        "Values that were valid now match several members of a request oneOf, which rejects them.",
        "object -> oneOf [{required: [foo]}, {required: [bar]}]",
    ),
    Kind(
        "request-union-member-added", _I, "A request union accepts a new alternative.", "+ Wallet"
    ),
    Kind(
        "request-discriminator-mapping-removed",
        _W,
        "A request discriminator value is no longer mapped.",
        "mapping loses iban",
    ),
    Kind(
        "discriminator-property-changed",
        _W,
        "A discriminator's propertyName changed.",
        "propertyName: type -> kind",
    ),
    # -- diff: responses
    Kind(
        "response-status-removed",
        _E,
        "A documented success (2xx) response status was removed.",
        "201 gone from POST /orders",
    ),
    Kind(
        "response-error-status-removed",
        _I,
        "A documented non-success response status was removed.",
        "404 gone from GET /orders/{id}",
    ),
    Kind("response-status-added", _I, "A response status was added.", "409 added"),
    Kind(
        "response-media-type-removed",
        _E,
        "A response content type is no longer produced.",
        "application/json dropped",
    ),
    Kind(
        "response-body-schema-removed",
        _W,
        "A response media type no longer describes its body.",
        "application/json: {schema: Order} -> {}",
    ),
    Kind(
        "response-header-removed",
        _E,
        "A required response header was removed.",
        "X-Request-Id (required) gone",
    ),
    Kind(
        "response-optional-header-removed",
        _W,
        "An optional response header was removed.",
        "X-RateLimit-Remaining gone",
    ),
    Kind(
        "response-header-became-optional",
        _E,
        "A required response header became optional.",
        "Location: required true -> false",
    ),
    Kind("response-header-added", _I, "A response header was added.", "X-Trace added"),
    Kind(
        "response-property-removed",
        _E,
        "A required response property was removed.",
        "Order.status removed",
    ),
    Kind(
        "response-optional-property-removed",
        _W,
        "An optional response property was removed.",
        "Order.note removed",
    ),
    Kind(
        "response-property-became-optional",
        _E,
        "A required response property became optional.",
        "total dropped from required",
    ),
    Kind(
        "response-property-became-write-only",
        _E,
        "A response property became writeOnly, so it is no longer returned "
        "(warning when it was optional).",
        "secret: writeOnly: true",
    ),
    Kind(
        "response-property-became-nullable",
        _E,
        "A response value may now be null.",
        "id: nullable: true",
    ),
    Kind("response-property-added", _I, "A response property was added.", "memo added"),
    Kind(
        "response-type-changed",
        _E,
        "A response value's type changed or widened.",
        "total: integer -> number",
    ),
    Kind(
        "response-type-narrowed",
        _I,
        "A response value's type set shrank.",
        "integer|string -> integer",
    ),
    Kind(
        "response-format-changed",
        _E,
        "A response value's format changed or was dropped.",
        "placedAt: date-time -> date",
    ),
    Kind(
        "response-enum-value-added",
        _W,
        "A response enum has a new value clients may not know (or lost its enum).",
        "status: + archived",
    ),
    Kind(
        "response-const-changed",
        _E,
        "A response value that was a constant may now be something else.",
        "object: const charge -> const refund",
    ),
    Kind(
        "response-enum-value-removed", _I, "A response enum value is no longer returned.", "- open"
    ),
    Kind(
        "response-min-decreased",
        _E,
        "A response minimum, minLength, minItems (...) was lowered or dropped.",
        "items: minItems 1 -> 0",
    ),
    Kind(
        "response-max-increased",
        _E,
        "A response maximum, maxLength, maxItems (...) was raised or dropped.",
        "name: maxLength 40 -> 80",
    ),
    Kind(
        "response-pattern-removed",
        _W,
        "A response string no longer promises its pattern.",
        "id: pattern ^SO-[0-9]+$ dropped",
    ),
    Kind(
        "response-pattern-changed",
        _W,
        "A response pattern changed.",
        "id: ^SO-[0-9]+$ -> ^SO-[0-9A-F]+$",
    ),
    Kind(
        "response-multiple-of-changed",
        _W,
        "A response number no longer keeps to its multipleOf.",
        "amount: multipleOf 0.01 dropped",
    ),
    Kind(
        "response-unique-items-removed",
        _W,
        "A response array's items may now repeat.",
        "tags: uniqueItems dropped",
    ),
    Kind(
        "response-additional-properties-allowed",
        _W,
        "A response object may now hold properties its schema does not name.",
        "additionalProperties: false dropped",
    ),
    Kind("response-default-changed", _I, "A response value's default changed.", "default 0 -> 1"),
    Kind(
        "response-keyword-removed",
        _E,
        "A narrowing JSON Schema keyword was dropped from a response schema.",
        "if/then dropped",
    ),
    Kind(
        "response-keyword-changed",
        _W,
        "A narrowing JSON Schema keyword of a response schema changed.",
        "dependentRequired changed",
    ),
    Kind(
        "response-union-member-added",
        _E,
        "A response may now be a oneOf/anyOf alternative clients have not seen.",
        "customer: anyOf [string, Customer] -> + DeletedCustomer",
    ),
    Kind(
        "response-union-member-removed",
        _I,
        "A response union no longer returns an alternative.",
        "- LegacyCustomer",
    ),
    Kind(
        "response-discriminator-mapping-added",
        _W,
        "A response discriminator may return a value clients do not map.",
        "mapping + wallet",
    ),
    # -- gate: one pact interaction against a document
    _gate("pact-operation-missing", _E, "No operation matches the interaction's method and path."),
    _gate("pact-request-parameter-invalid", _E, "A request parameter is missing or invalid."),
    _gate("pact-request-body-invalid", _E, "The pact's request body does not validate."),
    _gate(
        "pact-request-body-unverified",
        _W,
        "The request body is in an encoding the gate cannot read (only JSON and "
        "form-urlencoded are validated).",
    ),
    _gate("pact-response-status-undocumented", _E, "The pact's response status is not documented."),
    _gate(
        "pact-response-status-default",
        _W,
        "The pact's response status is only covered by default.",
    ),
    _gate(
        "pact-response-field-missing",
        _E,
        "A response field the pact relies on is not documented.",
    ),
    _gate(
        "pact-response-type-mismatch",
        _E,
        "A response field the pact relies on has another type.",
    ),
    _gate(
        "pact-response-value-not-in-enum",
        _E,
        "A response value the pact expects is not in the enum.",
    ),
    _gate(
        "pact-response-value-invalid",
        _E,
        "The pact's example value no longer satisfies the schema's pattern, format, enum, "
        "bounds or const.",
    ),
    _gate("pact-response-field-optional", _W, "A response field the pact relies on is optional."),
    _gate("pact-response-field-nullable", _W, "A response field the pact relies on may be null."),
    _gate("pact-response-body-unverified", _W, "Part of the response body could not be checked."),
    _gate(
        "pact-change-unused",
        _I,
        "The operation changed, but not in a way the pact relies on.",
    ),
    _gate("pact-interaction-skipped", _I, "A non-HTTP interaction (message) was not checked."),
    # -- verify: the real provider
    Kind("verify-failed", _E, "The provider's response did not match the pact.", "", "verify"),
    Kind("verify-error", _E, "The verifier could not replay the interaction.", "", "verify"),
]

CATALOG: dict[str, Kind] = {kind.id: kind for kind in _KINDS}
"""Every finding kind by identifier."""


def markdown(command: str) -> str:
    """The catalogue of one command as a Markdown table (for ``docs/contracts.md``).

    Args:
        command: ``diff``, ``gate`` or ``verify``.

    Returns:
        The table, one row per kind in catalogue order.
    """
    rows = ["| id | level | meaning | example |", "| --- | --- | --- | --- |"]
    for kind in _KINDS:
        if kind.command == command:
            example = f"`{kind.example}`" if kind.example else ""
            rows.append(f"| `{kind.id}` | {kind.level.value} | {kind.summary} | {example} |")
    return "\n".join(rows) + "\n"


def refresh(path: str) -> bool:
    """Rewrite the generated tables between ``<!-- catalogue:COMMAND -->`` markers.

    Args:
        path: The Markdown file (``docs/contracts.md``).

    Returns:
        Whether the file changed.
    """
    from pathlib import Path

    file = Path(path)
    text = file.read_text(encoding="utf-8")
    updated = text
    for command in ("diff", "gate", "verify"):
        start, end = f"<!-- catalogue:{command} -->\n", f"<!-- /catalogue:{command} -->"
        if start in updated and end in updated:
            head, rest = updated.split(start, 1)
            _, tail = rest.split(end, 1)
            updated = head + start + markdown(command) + end + tail
    if updated != text:
        file.write_text(updated, encoding="utf-8")
    return updated != text


if __name__ == "__main__":
    import sys

    changed = refresh(sys.argv[1] if len(sys.argv) > 1 else "docs/contracts.md")
    print("updated" if changed else "up to date")
