"""A flattened view of an OpenAPI schema, for comparing and walking schemas.

OpenAPI 3.0 (``nullable``) and 3.1 (type arrays, ``null``) are read into one
model, :class:`Facts`, where ``null`` is just another type, and ``allOf`` parts
are merged into it. Unions (``oneOf``/``anyOf``) are read two ways:

- :meth:`SchemaReader.shape` keeps the alternatives apart
  (:attr:`Facts.alternatives`), which is what ``diff`` needs to compare one
  alternative with another;
- :meth:`SchemaReader.facts` also folds them into one client's-eye view (a
  property exists if some alternative has it; it is required only if every
  alternative requires it), which is what the gate's walk over an example needs.

Both are cached by JSON pointer; recursion through composition is cut, so
recursive schemas are safe.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from contracts import pointer as jp
from contracts.openapi import OpenAPIDocument

BOUND_KEYS_MIN = (
    "minimum",
    "exclusiveMinimum",
    "minLength",
    "minItems",
    "minProperties",
    "minContains",
)
BOUND_KEYS_MAX = (
    "maximum",
    "exclusiveMaximum",
    "maxLength",
    "maxItems",
    "maxProperties",
    "maxContains",
)
JSON_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")
SUBSCHEMA_KEYWORDS = (
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
)
"""Keywords whose value is one schema that narrows like the schema itself."""
SUBSCHEMA_MAPS = ("patternProperties", "dependentSchemas")
"""Keywords whose value maps names to schemas that narrow like the schema itself."""
TRAVERSED = frozenset(
    (*SUBSCHEMA_KEYWORDS, "not", *SUBSCHEMA_MAPS, "prefixItems", "dependentRequired")
)
"""Keywords compared inside (as edges, or structurally), never as text."""
RESTRICTING_KEYWORDS = (
    "not",
    "if",
    "then",
    "else",
    "contains",
    "dependentRequired",
    "dependentSchemas",
    "dependencies",
    "patternProperties",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "prefixItems",
    "contentSchema",
    "contentMediaType",
    "contentEncoding",
)
"""JSON Schema keywords that only ever narrow what is valid, compared as written."""

_SCHEMAS_PREFIX = "#/components/schemas/"
_BOUND_SET = frozenset((*BOUND_KEYS_MIN, *BOUND_KEYS_MAX))
_RESTRICTING_SET = frozenset(RESTRICTING_KEYWORDS)
_SUBSCHEMA_SET = frozenset((*SUBSCHEMA_KEYWORDS, "not"))
_RARE_SET = _RESTRICTING_SET | _SUBSCHEMA_SET | frozenset(SUBSCHEMA_MAPS)
_VALUE_SET = _BOUND_SET | frozenset(
    (
        "format",
        "enum",
        "const",
        "x-extensible-enum",
        "pattern",
        "multipleOf",
        "uniqueItems",
        "default",
        "readOnly",
        "writeOnly",
        "deprecated",
        "x-sunset",
        "discriminator",
    )
)


class SchemaRef(NamedTuple):
    """An unresolved schema node and where it sits (a named tuple: made by the thousand).

    Attributes:
        node: The schema (possibly a ``$ref``).
        pointer: Its JSON pointer.
    """

    node: Any
    pointer: str

    @property
    def component(self) -> str | None:
        """The component schema name when the node is ``$ref: '#/components/schemas/X'``."""
        if isinstance(self.node, dict):
            ref = self.node.get("$ref")
            if isinstance(ref, str) and ref.startswith(_SCHEMAS_PREFIX):
                return jp.unescape_token(ref[len(_SCHEMAS_PREFIX) :])
        return None


@dataclass
class Facts:
    """What a schema promises, flattened.

    Attributes:
        pointer: Pointer of the resolved schema (where findings point).
        key: Identity for caches and pairing; the pointer, except for a union
            alternative merged with its parent's constraints (``alt&parent``).
        types: Allowed JSON types (``integer`` implies nothing about ``number``);
            ``None`` means any type.
        format: The ``format``, if any.
        enum: Allowed values, if restricted (``const`` is a one-value enum).
        extensible_enum: ``x-extensible-enum`` values, if any.
        properties: Declared properties.
        required: Required property names.
        additional: ``False`` when extra properties are forbidden, a schema when
            they are described, ``True`` otherwise.
        items: Schema of array items, if any.
        bounds: Numeric, length, item-count bounds present on the schema.
        pattern: The ``pattern``, if any.
        multiple_of: The ``multipleOf``, if any.
        unique_items: ``uniqueItems``.
        default: ``(value,)`` when a ``default`` is declared, else ``()``.
        read_only: ``readOnly``.
        write_only: ``writeOnly``.
        deprecated: ``deprecated``.
        sunset: The ``x-sunset`` text, if any.
        discriminator: ``(propertyName, {value: target})``, if any.
        restricting: Other narrowing keywords, as canonical JSON text.
        subschemas: Schemas inside narrowing keywords, by step (``{then}``,
            ``{patternProperties ^x-}``, ``{prefixItems 0}``); ``{not}`` narrows the
            other way.
        dependent_required: ``dependentRequired``: property -> properties it requires.
        alternatives: ``oneOf``/``anyOf`` members (only in :meth:`SchemaReader.shape`).
        union: ``"oneOf"`` or ``"anyOf"`` when ``alternatives`` is set.
        composed: Whether ``oneOf``/``anyOf`` took part (facts are approximate).
        node: The schema object as written (no ``allOf`` merged), for quick equality.
    """

    pointer: str
    key: str = ""
    types: frozenset[str] | None = None
    format: str | None = None
    enum: tuple[Any, ...] | None = None
    extensible_enum: tuple[Any, ...] | None = None
    properties: dict[str, SchemaRef] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    additional: bool | SchemaRef = True
    items: SchemaRef | None = None
    bounds: dict[str, float] = field(default_factory=dict)
    pattern: str | None = None
    multiple_of: float | None = None
    unique_items: bool = False
    default: tuple[Any, ...] = ()
    read_only: bool = False
    write_only: bool = False
    deprecated: bool = False
    sunset: str | None = None
    discriminator: tuple[str, dict[str, str]] | None = None
    restricting: dict[str, str] = field(default_factory=dict)
    subschemas: dict[str, SchemaRef] = field(default_factory=dict)
    dependent_required: dict[str, frozenset[str]] = field(default_factory=dict)
    alternatives: tuple[SchemaRef, ...] = ()
    union: str | None = None
    composed: bool = False
    node: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.key:
            self.key = self.pointer

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

    @property
    def constrains_values(self) -> bool:
        """Whether anything beyond the type restricts the value (for merging unions)."""
        return bool(
            self.properties
            or self.required
            or self.enum is not None
            or self.bounds
            or self.pattern is not None
            or self.format is not None
            or self.items is not None
            or self.additional is not True
            or self.restricting
            or self.multiple_of is not None
        )


class SchemaReader:
    """Computes and caches :class:`Facts` for schemas of one document.

    Args:
        document: The document the schemas belong to.
    """

    def __init__(self, document: OpenAPIDocument) -> None:
        self.document = document
        self._facts: dict[str, Facts] = {}
        self._shapes: dict[str, Facts] = {}
        self._members: dict[str, list[Facts]] = {}
        self._active: set[str] = set()

    def facts(self, ref: SchemaRef) -> Facts:
        """Flatten the schema at ``ref``, unions folded into one view.

        Args:
            ref: The schema and its pointer.

        Returns:
            The (cached) facts.
        """
        node, pointer = self.document.resolve(ref.node, ref.pointer)
        cached = self._facts.get(pointer)
        if cached is not None:
            return cached
        if ("f" + pointer) in self._active or not isinstance(node, dict):
            return Facts(pointer=pointer)
        self._active.add("f" + pointer)
        try:
            result = self._shape(node, pointer, fold=True)
        finally:
            self._active.discard("f" + pointer)
        self._facts[pointer] = result
        return result

    def shape(self, ref: SchemaRef) -> Facts:
        """Flatten the schema at ``ref``, keeping ``oneOf``/``anyOf`` alternatives apart.

        Args:
            ref: The schema and its pointer.

        Returns:
            The (cached) facts, with :attr:`Facts.alternatives` set for unions.
        """
        node, pointer = self.document.resolve(ref.node, ref.pointer)
        cached = self._shapes.get(pointer)
        if cached is not None:
            return cached
        if ("s" + pointer) in self._active or not isinstance(node, dict):
            return Facts(pointer=pointer)
        self._active.add("s" + pointer)
        try:
            result = self._shape(node, pointer, fold=False)
        finally:
            self._active.discard("s" + pointer)
        self._shapes[pointer] = result
        return result

    def members(self, union: Facts) -> list[Facts]:
        """The alternatives of a union, each with the union's own constraints applied.

        ``{type: object, required: [id], oneOf: [A, B]}`` means ``base and (A or
        B)``, that is ``(base and A) or (base and B)``: each member carries the
        base's constraints, so members compare with whole schemas on the other side.

        Args:
            union: Facts from :meth:`shape` with alternatives.

        Returns:
            One facts object per alternative, in document order.
        """
        cached = self._members.get(union.key)
        if cached is not None:
            return cached
        base: Facts | None = None
        result = []
        for ref in union.alternatives:
            member = self.shape(ref)
            if union.constrains_values or (union.types is not None and member.types is None):
                if base is None:
                    base = replace(union, alternatives=(), union=None)
                merged = _merge_all(member, base)
                member = replace(
                    merged,
                    key=f"{member.key}&{union.key}",
                    alternatives=member.alternatives,
                    union=member.union,
                )
            result.append(member)
        self._members[union.key] = result
        return result

    def _shape(self, node: dict[str, Any], pointer: str, *, fold: bool) -> Facts:
        read = self.facts if fold else self.shape
        own = _own(node, pointer)
        for index, part in enumerate(node.get("allOf") or []):
            part_facts = read(SchemaRef(part, jp.join(pointer, "allOf", index)))
            own = _merge_all(own, part_facts)
        alternatives: list[SchemaRef] = []
        union = None
        for keyword in ("oneOf", "anyOf"):
            parts = node.get(keyword)
            if isinstance(parts, list) and parts:
                union = union or keyword
                alternatives.extend(
                    SchemaRef(part, jp.join(pointer, keyword, index))
                    for index, part in enumerate(parts)
                )
        if not alternatives:
            return own
        if fold:
            folded = _merge_any(pointer, [self.facts(ref) for ref in alternatives])
            own = _merge_all(own, folded)
        else:
            own.alternatives, own.union = tuple(alternatives), union  # not cached yet
        own.composed = True
        return own


def _own(node: dict[str, Any], pointer: str) -> Facts:
    """The facts one schema object states itself (no ``allOf``, no union members).

    Called once per schema object of each document (tens of thousands on a large
    one): the keywords most schemas lack are found with one set intersection.
    """
    facts = Facts(pointer=pointer, node=node)
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
    if types and (node.get("nullable") is True or None in (node.get("enum") or (1,))):
        types.add("null")
    facts.types = frozenset(types) if types else None
    props = node.get("properties")
    if isinstance(props, dict):
        base = pointer + "/properties/"
        facts.properties = {
            str(name): SchemaRef(
                value,
                base + (jp.escape_token(name) if "/" in name or "~" in name else name)
                if isinstance(name, str)
                else base + str(name),
            )
            for name, value in props.items()
        }
    required = node.get("required")
    if isinstance(required, list):
        facts.required = frozenset(str(n) for n in required)
    additional = node.get("additionalProperties", True)
    if additional is False:
        facts.additional = False
    elif isinstance(additional, dict):
        facts.additional = SchemaRef(additional, pointer + "/additionalProperties")
    items = node.get("items")
    if isinstance(items, dict):
        facts.items = SchemaRef(items, pointer + "/items")
    present = _VALUE_SET.intersection(node)
    if present:
        _values(node, present, facts)
    if _RARE_SET.isdisjoint(node):
        return facts  # the common case: none of the rarer keywords below
    for keyword in _RESTRICTING_SET.intersection(node):
        facts.restricting[keyword] = json.dumps(node[keyword], sort_keys=True, default=str)
    for keyword in _SUBSCHEMA_SET.intersection(node):
        if isinstance(node[keyword], dict):
            facts.subschemas[f"{{{keyword}}}"] = SchemaRef(node[keyword], jp.join(pointer, keyword))
    for keyword in SUBSCHEMA_MAPS:
        value = node.get(keyword)
        if isinstance(value, dict):
            for name, sub in value.items():
                if isinstance(sub, dict):
                    facts.subschemas[f"{{{keyword} {name}}}"] = SchemaRef(
                        sub, jp.join(pointer, keyword, str(name))
                    )
    if isinstance(node.get("prefixItems"), list):
        for index, sub in enumerate(node["prefixItems"]):
            if isinstance(sub, dict):
                facts.subschemas[f"{{prefixItems {index}}}"] = SchemaRef(
                    sub, jp.join(pointer, "prefixItems", index)
                )
    dependent = node.get("dependentRequired")
    if isinstance(dependent, dict):
        facts.dependent_required = {
            str(k): frozenset(str(x) for x in v)
            for k, v in dependent.items()
            if isinstance(v, list)
        }
    return facts


def _values(node: dict[str, Any], present: frozenset[str], facts: Facts) -> None:
    """The value keywords of a schema (formats, enums, bounds, flags, lifecycle)."""
    if isinstance(node.get("format"), str):
        facts.format = node["format"]
    if isinstance(node.get("enum"), list):
        facts.enum = tuple(node["enum"])
    elif "const" in present:
        facts.enum = (node["const"],)
    if isinstance(node.get("x-extensible-enum"), list):
        facts.extensible_enum = tuple(node["x-extensible-enum"])
    for key in _BOUND_SET.intersection(present):
        value = node[key]
        if isinstance(value, int | float) and not isinstance(value, bool):
            facts.bounds[key] = float(value)
    if isinstance(node.get("pattern"), str) and node["pattern"]:
        facts.pattern = node["pattern"]  # an empty pattern matches everything
    multiple = node.get("multipleOf")
    if isinstance(multiple, int | float) and not isinstance(multiple, bool) and multiple > 0:
        facts.multiple_of = float(multiple)
    facts.unique_items = node.get("uniqueItems") is True
    if "default" in present:
        facts.default = (node["default"],)
    facts.read_only = node.get("readOnly") is True
    facts.write_only = node.get("writeOnly") is True
    facts.deprecated = node.get("deprecated") is True
    sunset = node.get("x-sunset")
    if sunset is not None:
        facts.sunset = str(sunset)
    discriminator = node.get("discriminator")
    if isinstance(discriminator, dict) and isinstance(discriminator.get("propertyName"), str):
        mapping = discriminator.get("mapping")
        facts.discriminator = (
            discriminator["propertyName"],
            {str(k): str(v) for k, v in mapping.items()} if isinstance(mapping, dict) else {},
        )


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
        extensible_enum=base.extensible_enum or other.extensible_enum,
        properties=properties,
        required=base.required | other.required,
        additional=additional,
        items=base.items or other.items,
        bounds=bounds,
        pattern=base.pattern or other.pattern,
        multiple_of=base.multiple_of or other.multiple_of,
        unique_items=base.unique_items or other.unique_items,
        default=base.default or other.default,
        read_only=base.read_only or other.read_only,
        write_only=base.write_only or other.write_only,
        deprecated=base.deprecated or other.deprecated,
        sunset=base.sunset or other.sunset,
        discriminator=base.discriminator or other.discriminator,
        restricting={**other.restricting, **base.restricting},
        subschemas={**other.subschemas, **base.subschemas},
        dependent_required={**other.dependent_required, **base.dependent_required},
        alternatives=base.alternatives or other.alternatives,
        union=base.union or other.union,
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
