"""What the commands find: graded findings with stable identifiers and locations.

Every finding has an identifier from :data:`CATALOG` (stable across releases, so
CI filters and dashboards can rely on it), a :class:`Level`, a message, and a
:class:`Location`. ``diff`` findings describe a change between two documents;
``gate`` and ``verify`` findings describe why a pact interaction does or does
not hold.
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
class Location:
    """Where a finding applies.

    Attributes:
        path: The path template (``/salesOrders/{id}``), if any.
        method: Lower-case HTTP method, if any.
        status: Response status (``"201"``), if the finding is about a response.
        pointer: JSON pointer into the document the finding is about.
        field: The field, parameter or body property concerned (``lines[].sku``,
            ``header Idempotency-Key``), if any.
        document: ``"old"`` or ``"new"``: which document ``pointer`` is in.
    """

    path: str | None = None
    method: str | None = None
    status: str | None = None
    pointer: str | None = None
    field: str | None = None
    document: str = "new"

    def sort_key(self) -> tuple[str, ...]:
        """A total order: path, method, status, field, pointer, document.

        Returns:
            The key.
        """
        return (
            self.path or "",
            self.method or "",
            self.status or "",
            self.field or "",
            self.pointer or "",
            self.document,
        )

    def describe(self) -> str:
        """One line naming the place, e.g. ``POST /salesOrders 201 body.status``.

        Returns:
            The location as text, the pointer last.
        """
        parts = []
        if self.method and self.path:
            parts.append(f"{self.method.upper()} {self.path}")
        elif self.path:
            parts.append(self.path)
        if self.status:
            parts.append(f"response {self.status}")
        if self.field:
            parts.append(self.field)
        if self.pointer is not None:
            parts.append(f"({self.document} #{self.pointer})")
        return " ".join(parts)


@dataclass(frozen=True)
class Finding:
    """One graded observation.

    Attributes:
        location: Where it applies (first, so findings sort by place).
        id: A stable identifier from :data:`CATALOG`.
        level: Its level.
        message: A sentence for humans.
    """

    location: Location
    id: str
    level: Level
    message: str

    def sort_key(self) -> tuple[str, ...]:
        """Findings sort by location, then identifier, then message.

        Returns:
            The key.
        """
        return (*self.location.sort_key(), self.id, self.message)


def sort_findings(items: list[Finding] | set[Finding]) -> list[Finding]:
    """Deduplicate and sort findings deterministically.

    Args:
        items: Findings in any order.

    Returns:
        Unique findings in a stable order.
    """
    return sorted(set(items), key=Finding.sort_key)


@dataclass(frozen=True)
class Kind:
    """A kind of finding.

    Attributes:
        id: Stable identifier.
        level: Default level.
        summary: What it means.
    """

    id: str
    level: Level
    summary: str


_E, _W, _I = Level.ERROR, Level.WARNING, Level.INFO

_KINDS = [
    # -- diff: operations and paths
    Kind("path-removed", _E, "A path (with all its operations) was removed."),
    Kind("operation-removed", _E, "An operation was removed from a path that still exists."),
    Kind("operation-id-changed", _W, "An operation's operationId changed."),
    Kind("security-requirement-added", _E, "An operation now requires security it did not."),
    Kind("path-added", _I, "A path was added."),
    Kind("operation-added", _I, "An operation was added."),
    # -- diff: request
    Kind("request-parameter-added-required", _E, "A new required request parameter."),
    Kind("request-parameter-became-required", _E, "An optional request parameter became required."),
    Kind("request-parameter-added", _I, "A new optional request parameter."),
    Kind("request-parameter-removed", _W, "A request parameter is no longer documented."),
    Kind("request-body-became-required", _E, "The request body became required."),
    Kind("request-media-type-removed", _E, "A request content type is no longer accepted."),
    Kind("request-property-added-required", _E, "A new required request body property."),
    Kind("request-property-became-required", _E, "An optional request property became required."),
    Kind("request-property-added", _I, "A new optional request body property."),
    Kind("request-property-removed", _W, "A request body property is no longer documented."),
    Kind("request-type-narrowed", _E, "A request value accepts fewer types (incl. null)."),
    Kind("request-format-changed", _E, "A request value's format changed or was added."),
    Kind("request-enum-value-removed", _E, "A request enum no longer accepts a value."),
    Kind("request-enum-value-added", _I, "A request enum accepts a new value."),
    Kind("request-min-increased", _E, "A request minimum/minLength/minItems increased."),
    Kind("request-max-decreased", _E, "A request maximum/maxLength/maxItems decreased."),
    # -- diff: response
    Kind("response-status-removed", _E, "A documented response status was removed."),
    Kind("response-status-added", _I, "A response status was added."),
    Kind("response-media-type-removed", _E, "A response content type is no longer produced."),
    Kind("response-property-removed", _E, "A response property was removed."),
    Kind("response-property-became-optional", _E, "A required response property became optional."),
    Kind("response-property-became-nullable", _E, "A response value may now be null."),
    Kind("response-property-added", _I, "A response property was added."),
    Kind("response-type-changed", _E, "A response value's type changed (widened or different)."),
    Kind("response-type-narrowed", _I, "A response value's type set shrank."),
    Kind("response-format-changed", _E, "A response value's format changed."),
    Kind("response-enum-value-added", _W, "A response enum has a new value clients may not know."),
    Kind("response-enum-value-removed", _I, "A response enum value is no longer returned."),
    # -- gate: one pact interaction against a document
    Kind("pact-operation-missing", _E, "No operation matches the interaction's method and path."),
    Kind("pact-request-parameter-invalid", _E, "A request parameter is missing or invalid."),
    Kind("pact-request-body-invalid", _E, "The pact's request body does not validate."),
    Kind("pact-response-status-undocumented", _E, "The pact's response status is not documented."),
    Kind(
        "pact-response-status-default", _W, "The pact's response status is only covered by default."
    ),
    Kind(
        "pact-response-field-missing", _E, "A response field the pact relies on is not documented."
    ),
    Kind(
        "pact-response-type-mismatch", _E, "A response field the pact relies on has another type."
    ),
    Kind(
        "pact-response-value-not-in-enum",
        _E,
        "A response value the pact expects is not in the enum.",
    ),
    Kind("pact-response-field-optional", _W, "A response field the pact relies on is optional."),
    Kind("pact-response-field-nullable", _W, "A response field the pact relies on may be null."),
    Kind("pact-response-body-unverified", _W, "Part of the response body could not be checked."),
    Kind("pact-change-unused", _I, "The operation changed, but not in a way the pact relies on."),
    Kind("pact-interaction-skipped", _I, "A non-HTTP interaction (message) was not checked."),
    # -- verify: the real provider
    Kind("verify-failed", _E, "The provider's response did not match the pact."),
    Kind("verify-error", _E, "The verifier could not replay the interaction."),
]

CATALOG: dict[str, Kind] = {kind.id: kind for kind in _KINDS}
"""Every finding kind by identifier."""


def make(kind_id: str, message: str, location: Location, level: Level | None = None) -> Finding:
    """Build a finding of a catalogued kind.

    Args:
        kind_id: An identifier in :data:`CATALOG`.
        message: The sentence for humans.
        location: Where it applies.
        level: Overrides the kind's default level.

    Returns:
        The finding.
    """
    return Finding(location, kind_id, level or CATALOG[kind_id].level, message)


def worst(findings: list[Finding] | tuple[Finding, ...]) -> Level | None:
    """The highest level among findings.

    Args:
        findings: Any findings.

    Returns:
        The worst level, or ``None`` when there are none.
    """
    if not findings:
        return None
    return max((f.level for f in findings), key=lambda lvl: lvl.rank)
