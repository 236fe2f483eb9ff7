"""A flattened view of an OpenAPI schema, for comparing and walking schemas.

OpenAPI 3.0 (``nullable``) and 3.1 (type arrays, ``null``) are read into one
model: :class:`Facts`, where ``null`` is just another type. ``allOf`` parts are
merged; ``oneOf``/``anyOf`` alternatives are combined the way a client sees them
(a property exists if some alternative has it; it is required only if every
alternative requires it). Facts are cached by JSON pointer and recursion through
composition is cut, so recursive schemas are safe.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from contracts import pointer as jp
from contracts.openapi import OpenAPIDocument

BOUND_KEYS_MIN = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
BOUND_KEYS_MAX = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
JSON_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")


@dataclass(frozen=True)
class SchemaRef:
    """An unresolved schema node and where it sits.

    Attributes:
        node: The schema (possibly a ``$ref``).
        pointer: Its JSON pointer.
    """

    node: Any
    pointer: str


@dataclass
class Facts:
    """What a schema promises, flattened.

    Attributes:
        pointer: Pointer of the resolved schema.
        types: Allowed JSON types (``integer`` implies nothing about ``number``);
            ``None`` means any type.
        format: The ``format``, if any.
        enum: Allowed values, if restricted.
        properties: Declared properties.
        required: Required property names.
        additional: ``False`` when extra properties are forbidden, a schema when
            they are described, ``True`` otherwise.
        items: Schema of array items, if any.
        bounds: Numeric, length, item-count bounds present on the schema.
        pattern: The ``pattern``, if any.
        read_only: ``readOnly``.
        write_only: ``writeOnly``.
        composed: Whether ``oneOf``/``anyOf`` took part (facts are approximate).
    """

    pointer: str
    types: frozenset[str] | None = None
    format: str | None = None
    enum: tuple[Any, ...] | None = None
    properties: dict[str, SchemaRef] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    additional: bool | SchemaRef = True
    items: SchemaRef | None = None
    bounds: dict[str, float] = field(default_factory=dict)
    pattern: str | None = None
    read_only: bool = False
    write_only: bool = False
    composed: bool = False

    def allows_type(self, json_type: str) -> bool:
        """Whether a value of ``json_type`` can be valid here.

        Args:
            json_type: One of :data:`JSON_TYPES`.

        Returns:
            True if the type (or, for integers, ``number``) is allowed.
        """
        if self.types is None:
            return True
        if json_type in self.types:
            return True
        return json_type == "integer" and "number" in self.types


class SchemaReader:
    """Computes and caches :class:`Facts` for schemas of one document.

    Args:
        document: The document the schemas belong to.
    """

    def __init__(self, document: OpenAPIDocument) -> None:
        self.document = document
        self._cache: dict[str, Facts] = {}
        self._active: set[str] = set()

    def facts(self, ref: SchemaRef) -> Facts:
        """Flatten the schema at ``ref``.

        Args:
            ref: The schema and its pointer.

        Returns:
            The (cached) facts.
        """
        node, pointer = self.document.resolve(ref.node, ref.pointer)
        cached = self._cache.get(pointer)
        if cached is not None:
            return cached
        if pointer in self._active or not isinstance(node, dict):
            return Facts(pointer=pointer)
        self._active.add(pointer)
        try:
            result = self._compute(node, pointer)
        finally:
            self._active.discard(pointer)
        self._cache[pointer] = result
        return result

    def _compute(self, node: dict[str, Any], pointer: str) -> Facts:
        own = self._own(node, pointer)
        for index, part in enumerate(node.get("allOf") or []):
            own = _merge_all(own, self.facts(SchemaRef(part, jp.join(pointer, "allOf", index))))
        alternatives = []
        for keyword in ("oneOf", "anyOf"):
            for index, part in enumerate(node.get(keyword) or []):
                alternatives.append(self.facts(SchemaRef(part, jp.join(pointer, keyword, index))))
        if alternatives:
            own = _merge_all(own, _merge_any(pointer, alternatives))
            own.composed = True
        return own

    def _own(self, node: dict[str, Any], pointer: str) -> Facts:
        facts = Facts(pointer=pointer)
        raw_type = node.get("type")
        if isinstance(raw_type, str):
            types = {raw_type}
        elif isinstance(raw_type, list):
            types = {str(t) for t in raw_type}
        elif "properties" in node or "additionalProperties" in node:
            types = {"object"}
        elif "items" in node:
            types = {"array"}
        else:
            types = set()
        if types and (node.get("nullable") is True or None in (node.get("enum") or [1])):
            types.add("null")
        facts.types = frozenset(types) if types else None
        if isinstance(node.get("format"), str):
            facts.format = node["format"]
        if isinstance(node.get("enum"), list):
            facts.enum = tuple(node["enum"])
        elif "const" in node:
            facts.enum = (node["const"],)
        props = node.get("properties")
        if isinstance(props, dict):
            base = jp.join(pointer, "properties")
            facts.properties = {
                str(name): SchemaRef(value, jp.join(base, name)) for name, value in props.items()
            }
        if isinstance(node.get("required"), list):
            facts.required = frozenset(str(n) for n in node["required"])
        additional = node.get("additionalProperties", True)
        if additional is False:
            facts.additional = False
        elif isinstance(additional, dict):
            facts.additional = SchemaRef(additional, jp.join(pointer, "additionalProperties"))
        if isinstance(node.get("items"), dict):
            facts.items = SchemaRef(node["items"], jp.join(pointer, "items"))
        for key in (*BOUND_KEYS_MIN, *BOUND_KEYS_MAX):
            value = node.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                facts.bounds[key] = float(value)
        if isinstance(node.get("pattern"), str):
            facts.pattern = node["pattern"]
        facts.read_only = node.get("readOnly") is True
        facts.write_only = node.get("writeOnly") is True
        return facts


def _merge_all(base: Facts, other: Facts) -> Facts:
    """Both schemas apply (``allOf``)."""
    if base.types is None:
        types = other.types
    elif other.types is None:
        types = base.types
    else:
        types = base.types & other.types
        if "integer" in base.types and "number" in other.types:
            types |= {"integer"}
        if "number" in base.types and "integer" in other.types:
            types |= {"integer"}
    properties = dict(other.properties)
    properties.update(base.properties)
    enum = base.enum
    if enum is None:
        enum = other.enum
    elif other.enum is not None:
        enum = tuple(v for v in enum if v in other.enum)
    bounds = dict(other.bounds)
    bounds.update(base.bounds)
    additional: bool | SchemaRef
    if base.additional is False or other.additional is False:
        additional = False
    elif isinstance(base.additional, SchemaRef):
        additional = base.additional
    else:
        additional = other.additional
    return replace(
        base,
        types=frozenset(types) if types is not None else None,
        format=base.format or other.format,
        enum=enum,
        properties=properties,
        required=base.required | other.required,
        additional=additional,
        items=base.items or other.items,
        bounds=bounds,
        pattern=base.pattern or other.pattern,
        read_only=base.read_only or other.read_only,
        write_only=base.write_only or other.write_only,
        composed=base.composed or other.composed,
    )


def _merge_any(pointer: str, alternatives: list[Facts]) -> Facts:
    """One of the schemas applies (``oneOf``/``anyOf``): what a client can rely on."""
    types: set[str] | None = set()
    properties: dict[str, SchemaRef] = {}
    required: frozenset[str] | None = None
    enum: list[Any] | None = []
    for alt in alternatives:
        if alt.types is None or types is None:
            types = None
        else:
            types |= alt.types
        for name, ref in alt.properties.items():
            properties.setdefault(name, ref)
        required = alt.required if required is None else required & alt.required
        if alt.enum is None or enum is None:
            enum = None
        else:
            enum.extend(v for v in alt.enum if v not in enum)
    items = next((alt.items for alt in alternatives if alt.items is not None), None)
    return Facts(
        pointer=pointer,
        types=frozenset(types) if types is not None else None,
        enum=tuple(enum) if enum is not None else None,
        properties=properties,
        required=required or frozenset(),
        items=items,
        composed=True,
    )
