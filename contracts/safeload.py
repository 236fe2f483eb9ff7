"""Reading YAML and JSON that a stranger wrote: bounded, strict, and exact about lines.

A vendor's OpenAPI document in a pull request, a pact file or a scenario can be
hostile or just broken, and a CI job must never stall on it. Think of a customs
desk: the parcel is weighed before it is opened (size, binary content), and once
opened it is counted rather than unpacked (an alias bomb is small on disk and
huge once its aliases are expanded). Everything refused is refused with the line
it was found on:

- a file over ``max_bytes`` (stat, before reading), or one that is not text;
- YAML whose anchors, expanded, would add more than ``max_alias_nodes`` nodes,
  or whose aliases refer back to themselves;
- nesting deeper than ``max_depth`` levels;
- a mapping key written twice (YAML and JSON: the last one would silently win).

Counting happens on PyYAML's node graph, where an alias is one shared node, so
the check costs one pass over the distinct nodes, whatever the bomb expands to.
"""

from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

__all__ = ["DEFAULT_LIMITS", "Limits", "Parsed", "UnsafeInput", "parse", "read_text"]

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Limits:
    """How much a document may ask of the reader.

    Attributes:
        max_bytes: Largest file read, in bytes.
        max_alias_nodes: Nodes that expanding YAML aliases may add in all.
        max_depth: Deepest nesting of mappings and sequences.
    """

    max_bytes: int = 64 * 1024 * 1024
    max_alias_nodes: int = 100_000
    max_depth: int = 256


DEFAULT_LIMITS = Limits()
"""The limits used unless a caller passes its own."""


class UnsafeInput(Exception):
    """A document the reader refuses; callers add the file name to the message.

    Attributes:
        problem: What is wrong.
        line: 1-based line, when known.
        column: 1-based column, when known.
        expected: What was expected instead.
        hint: What to do.
    """

    def __init__(
        self,
        problem: str,
        *,
        line: int | None = None,
        column: int | None = None,
        expected: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.problem = problem
        self.line = line
        self.column = column
        self.expected = expected
        self.hint = hint
        super().__init__(problem)

    @property
    def where(self) -> str:
        """``line 3, column 7``, ``line 3`` or ``""``."""
        if self.line is None:
            return ""
        return f"line {self.line}" + (f", column {self.column}" if self.column else "")


@dataclass(frozen=True)
class Parsed:
    """A parsed document.

    Attributes:
        data: The plain Python value (dicts, lists, scalars).
        root: PyYAML's root node, for callers that map fields to lines (YAML only).
    """

    data: Any
    root: yaml.Node | None = None


def read_text(path: Path, limits: Limits = DEFAULT_LIMITS) -> str:
    """Read a text file within the size limit.

    Args:
        path: The file.
        limits: The limits (``max_bytes`` applies here).

    Returns:
        The text, decoded as UTF-8 (a byte-order mark is dropped).

    Raises:
        FileNotFoundError: If there is no such file.
        UnsafeInput: If the file is too large, binary, or not UTF-8.
        OSError: If it cannot be read.
    """
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise UnsafeInput(
            f"the file is {_mb(size)}, over the {_mb(limits.max_bytes)} limit",
            expected=f"a document of at most {_mb(limits.max_bytes)}",
            hint="if the file is genuine, raise the limit (contracts commands take --max-size)",
        )
    raw = path.read_bytes()
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise UnsafeInput(
            "the file is binary (it contains NUL bytes)",
            line=line,
            expected="a YAML or JSON text file",
            hint="check that the path names the document, not an archive or image",
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UnsafeInput(
            f"the file is not UTF-8 text (byte {exc.start})",
            line=line,
            expected="a UTF-8 encoded YAML or JSON file",
            hint="re-save the file as UTF-8",
        ) from None


def parse(text: str, *, json_first: bool, limits: Limits = DEFAULT_LIMITS) -> Parsed:
    """Parse YAML or JSON text with the checks of this module.

    Args:
        text: The document.
        json_first: Read it as JSON (``.json`` files, or text starting with ``{``).
        limits: The limits.

    Returns:
        The parsed document.

    Raises:
        UnsafeInput: On a syntax error, an alias bomb, deep nesting or a duplicate key.
    """
    if json_first:
        return Parsed(_parse_json(text, limits))
    return _parse_yaml(text, limits)


# -- JSON ------------------------------------------------------------------------------


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


def _parse_json(text: str, limits: Limits) -> Any:
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise UnsafeInput(
            f"JSON syntax error: {exc.msg}",
            line=exc.lineno,
            column=exc.colno,
            expected="a valid JSON document",
            hint="fix the syntax error",
        ) from None
    except _DuplicateKey as dup:
        raise UnsafeInput(
            f"the key {dup.key!r} is written twice in one object",
            line=_json_duplicate_line(text, dup.key),
            expected="each key once per object (JSON readers disagree on which one wins)",
            hint="remove or rename one of them",
        ) from None
    except RecursionError:
        # The C decoder nests within the interpreter's recursion limit (about 1,000
        # levels); past it, the document is too deep for any reader of ours too.
        raise UnsafeInput(
            "the document nests deeper than the JSON reader allows (about 1,000 levels)",
            expected="objects and arrays nested a few dozen levels deep, as API documents are",
            hint="flatten the document",
        ) from None
    return data


def _json_duplicate_line(text: str, key: str) -> int | None:
    """The line of the second ``key`` in the first object that repeats it.

    Only called after a duplicate was detected, so the slower pure-Python scanner
    (which says where each object starts) costs nothing on the common path.
    """
    decoder: Any = json.decoder  # the pure-Python parts, untyped in typeshed
    scanner: Any = importlib.import_module("json.scanner")
    object_parser = decoder.JSONObject
    found: list[int] = []
    quoted = re.compile(re.escape(json.dumps(key)) + r"\s*:")

    def parse_object(state: tuple[str, int], *args: Any) -> Any:
        pairs, end = object_parser(state, *args)
        if not found and [k for k, _ in pairs].count(key) > 1:
            hits = [m.start() for m in quoted.finditer(text, state[1], end)]
            if len(hits) > 1:
                found.append(text.count("\n", 0, hits[1]) + 1)
        return pairs, end

    context = SimpleNamespace(
        parse_object=parse_object,
        parse_array=decoder.JSONArray,
        parse_string=decoder.scanstring,
        strict=True,
        object_hook=None,
        object_pairs_hook=list,
        parse_float=float,
        parse_int=int,
        parse_constant=float,
        memo={},
    )
    scan = scanner.py_make_scanner(context)
    try:
        scan(text, len(text) - len(text.lstrip()))
    except (ValueError, RecursionError, StopIteration):
        return None
    return found[0] if found else None


def _too_deep(line: int | None, limits: Limits) -> UnsafeInput:
    return UnsafeInput(
        f"the document nests deeper than {limits.max_depth} levels",
        line=line,
        expected=f"mappings and lists nested at most {limits.max_depth} levels deep",
        hint="flatten the document; real API descriptions nest a few dozen levels",
    )


# -- YAML ------------------------------------------------------------------------------


class _StrictLoader(_Base):  # type: ignore[misc]
    """PyYAML's safe loader that counts before it builds, and refuses duplicate keys."""

    limits = DEFAULT_LIMITS
    root: yaml.Node | None = None

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        _check_graph(node, self.limits)
        self.root = node
        return self.construct_document(node)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Any:
        seen: dict[tuple[str, Any], yaml.Node] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                continue
            ident = (key_node.tag, key_node.value)
            if ident in seen:
                raise UnsafeInput(
                    f"the key {key_node.value!r} is written twice in one mapping "
                    f"(first on line {seen[ident].start_mark.line + 1})",
                    line=key_node.start_mark.line + 1,
                    column=key_node.start_mark.column + 1,
                    expected="each key once per mapping (the last one would silently win)",
                    hint="remove or rename one of them",
                )
            seen[ident] = key_node
        return super().construct_mapping(node, deep=deep)


def _parse_yaml(text: str, limits: Limits) -> Parsed:
    loader = _StrictLoader(text)
    loader.limits = limits
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "not valid YAML"
        if "nesting depth" in problem:
            raise _too_deep(mark.line + 1 if mark else None, limits) from None
        raise UnsafeInput(
            f"YAML syntax error: {problem}",
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
            expected="a valid YAML document",
            hint="check the indentation and quoting on that line and the one before",
        ) from None
    except yaml.YAMLError as exc:
        raise UnsafeInput(f"YAML syntax error: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise _too_deep(None, limits) from None
    finally:
        loader.dispose()
    return Parsed(data, loader.root)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_graph(root: yaml.Node, limits: Limits) -> None:
    """Measure the node graph as if aliases were expanded, without expanding them.

    ``size`` is the node count of a node's expanded subtree and ``height`` its
    nesting depth, each computed once per distinct node (post-order, iterative).
    A node reached again while on the stack is an alias of its own ancestor.
    """
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    uses: dict[int, int] = {}
    nodes: dict[int, yaml.Node] = {}
    on_stack: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_stack.discard(key)
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            height[key] = 1 + max((height[id(k)] for k in kids), default=0)
            if height[key] > limits.max_depth:
                raise _too_deep(node.start_mark.line + 1, limits)
            continue
        uses[key] = uses.get(key, 0) + 1
        if key in size:
            continue
        if key in on_stack:
            raise UnsafeInput(
                "an alias refers to the anchor that contains it (a recursive document)",
                line=node.start_mark.line + 1,
                expected="aliases that refer to anchors outside themselves",
                hint="replace the recursive alias with the data it stands for",
            )
        nodes[key] = node
        on_stack.add(key)
        stack.append((node, True))
        stack.extend((kid, False) for kid in reversed(_children(node)))
    added = size[id(root)] - len(size)
    if added > limits.max_alias_nodes:
        worst = max(nodes, key=lambda k: (uses[k] - 1) * size[k])
        node = nodes[worst]
        raise UnsafeInput(
            f"YAML aliases expand the document by {added:,} nodes (budget "
            f"{limits.max_alias_nodes:,}); the anchor at line {node.start_mark.line + 1} "
            f"alone is used {uses[worst]:,} times",
            line=node.start_mark.line + 1,
            expected="a document whose anchors and aliases repeat a modest amount of data",
            hint="this looks like an alias bomb; write the data out, or check where the file "
            "came from",
        )


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB" if size >= 1024 * 1024 else f"{size:,} bytes"
