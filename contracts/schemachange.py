"""A change found at one pair of schemas, and how its field path is written."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.catalogue import CATALOG, Level


@dataclass(frozen=True)
class SchemaChange:
    """A change found at one pair of schemas.

    Attributes:
        kind: Finding identifier (see :data:`contracts.catalogue.CATALOG`).
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
            additional properties, ``{then}``-style steps into narrowing keywords;
            empty steps (union members) are skipped.

    Returns:
        The dotted name (``""`` for the schema itself).
    """
    text = ""
    for step in path:
        if not step:
            continue
        if step == "[]" or step.startswith("{"):
            text += step
        else:
            text += ("." if text else "") + step
    return text
