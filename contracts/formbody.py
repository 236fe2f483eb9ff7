"""Form-encoded bodies (``application/x-www-form-urlencoded``) read as the JSON they stand for.

Stripe-style APIs take their requests as forms with bracketed keys:
``amount=2000&metadata[order]=42&items[0][price]=p_1&expand[]=customer``. A pact
stores that text as it was sent; to validate it against the request schema the
gate rebuilds the object it encodes (nested mappings for ``a[b]``, lists for
``a[]``, ``a[0]`` and repeated keys) and turns each text leaf into the type the
schema gives it at that place (``"2000"`` becomes ``2000`` where an integer is
expected, ``"true"`` a boolean), as a server would when it parses the form.
"""

from __future__ import annotations

import re
from contextlib import suppress
from typing import Any
from urllib.parse import parse_qsl

from contracts.schema import Facts, SchemaReader, SchemaRef

FORM_MEDIA = "application/x-www-form-urlencoded"
_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def is_form(media: str) -> bool:
    """Whether a media type is a URL-encoded form.

    Args:
        media: A media type, parameters allowed.

    Returns:
        True for ``application/x-www-form-urlencoded``.
    """
    return media.split(";")[0].strip().lower() == FORM_MEDIA


def decode(text: str) -> Any:
    """Rebuild the nested object a bracketed form encodes; leaves stay text.

    Args:
        text: The form body, e.g. ``a=1&b[c]=2&d[]=x&d[]=y``.

    Returns:
        The object (a mapping); a key given twice becomes a list.
    """
    root: dict[str, Any] = {}
    for raw_key, value in parse_qsl(text, keep_blank_values=True):
        match = _KEY.match(raw_key)
        steps = [raw_key] if match is None else [match.group(1), *_brackets(match.group(2))]
        _put(root, steps, value)
    return _listify(root)


def _brackets(text: str) -> list[str]:
    return re.findall(r"\[([^\[\]]*)\]", text)


def _put(node: dict[str, Any], steps: list[str], value: str) -> None:
    for index, step in enumerate(steps):
        last = index == len(steps) - 1
        if step == "":
            step = str(len(node))  # ``a[]`` appends
        if last:
            if step in node:
                existing = node[step]
                node[step] = [*existing, value] if isinstance(existing, list) else [existing, value]
            else:
                node[step] = value
            return
        child = node.get(step)
        if not isinstance(child, dict):
            child = {}
            node[step] = child
        node = child


def _listify(node: Any) -> Any:
    """Mappings whose keys are 0, 1, 2, ... become lists (``a[0]``, ``a[]``)."""
    if isinstance(node, dict):
        converted = {k: _listify(v) for k, v in node.items()}
        keys = list(converted)
        if (
            keys
            and all(k.isdigit() for k in keys)
            and sorted(map(int, keys)) == list(range(len(keys)))
        ):
            return [converted[str(i)] for i in range(len(keys))]
        return converted
    if isinstance(node, list):
        return [_listify(v) for v in node]
    return node


def coerce(value: Any, ref: SchemaRef | None, reader: SchemaReader) -> Any:
    """Give text leaves the types the schema expects where they stand.

    Args:
        value: The decoded form (or a part of it).
        ref: The schema for ``value``; ``None`` leaves it as text.
        reader: Reads the document's schemas.

    Returns:
        The value with numbers, booleans and lists where the schema has them.
    """
    if ref is None:
        return value
    facts = reader.facts(ref)
    if isinstance(value, dict):
        return {k: coerce(v, _property(facts, k), reader) for k, v in value.items()}
    if isinstance(value, list):
        return [coerce(v, facts.items, reader) for v in value]
    if isinstance(value, str):
        types = facts.types or frozenset({"string"})
        if "array" in types and "string" not in types:
            return [coerce(value, facts.items, reader)]
        return scalar(value, types)
    return value


def _property(facts: Facts, name: str) -> SchemaRef | None:
    found = facts.properties.get(name)
    if found is None and isinstance(facts.additional, SchemaRef):
        return facts.additional
    return found


def scalar(text: str, types: frozenset[str]) -> Any:
    """Turn one text value into the first type it can be, in the schema's order of preference.

    Args:
        text: The value as sent.
        types: The JSON types the schema allows.

    Returns:
        An int, float, bool or the text itself.
    """
    if "integer" in types:
        with suppress(ValueError):  # not an integer: try the next type
            return int(text)
    if "number" in types:
        with suppress(ValueError):
            return float(text)
    if "boolean" in types and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if "null" in types and text == "":
        return None
    return text
