"""What the commands find: graded findings with stable identifiers and locations.

Every finding has an identifier from :data:`CATALOG` (stable across releases, so
CI filters and dashboards can rely on it), a :class:`Level`, a message, and a
:class:`Location`. ``diff`` findings describe a change between two documents;
``gate`` and ``verify`` findings describe why a pact interaction does or does
not hold.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.catalogue import CATALOG, Level

__all__ = ["CATALOG", "Finding", "Level", "Location", "make", "sort_findings", "worst"]


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
        reaches: The operations (``GET /path``) a change in a shared schema reaches,
            when it reaches more than one; the location names the first place it shows.
    """

    location: Location
    id: str
    level: Level
    message: str
    reaches: tuple[str, ...] = ()

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


def make(
    kind_id: str,
    message: str,
    location: Location,
    level: Level | None = None,
    reaches: tuple[str, ...] = (),
) -> Finding:
    """Build a finding of a catalogued kind.

    Args:
        kind_id: An identifier in :data:`CATALOG`.
        message: The sentence for humans.
        location: Where it applies.
        level: Overrides the kind's default level.
        reaches: The operations a shared-schema change reaches (see :class:`Finding`).

    Returns:
        The finding.
    """
    return Finding(location, kind_id, level or CATALOG[kind_id].level, message, reaches)


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
