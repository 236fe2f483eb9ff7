"""An OpenAPI 3.0/3.1 document: its operations, and resolving its local ``$ref``s.

:mod:`contracts.loader` reads a document and checks every ``$ref`` in it
resolves, so later stages can follow references without error handling.
Resolution is cached by JSON pointer, so recursive and deeply chained schemas
cost one lookup per distinct reference.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from contracts import pointer as jp
from contracts.errors import ContractInputError

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Operation:
    """One operation of the document.

    Attributes:
        path: The path template, e.g. ``/salesOrders/{id}``.
        method: Lower-case HTTP method.
        pointer: JSON pointer to the operation object.
        node: The operation object.
        path_pointer: JSON pointer to the path item.
    """

    path: str
    method: str
    pointer: str
    node: dict[str, Any]
    path_pointer: str

    @property
    def operation_id(self) -> str | None:
        """The ``operationId``, if any."""
        value = self.node.get("operationId")
        return str(value) if value is not None else None

    @property
    def key(self) -> str:
        """``METHOD /path``, the operation's name in reports."""
        return f"{self.method.upper()} {self.path}"


@dataclass(frozen=True)
class Parameter:
    """A resolved parameter of an operation.

    Attributes:
        name: Parameter name (header names as written in the document).
        location: ``path``, ``query``, ``header`` or ``cookie``.
        node: The resolved parameter object.
        pointer: JSON pointer of the resolved parameter object.
    """

    name: str
    location: str
    node: dict[str, Any]
    pointer: str

    @property
    def required(self) -> bool:
        """Whether the parameter is required (path parameters always are)."""
        return self.location == "path" or bool(self.node.get("required", False))

    @property
    def ident(self) -> tuple[str, str]:
        """``(location, name)``, with header names lower-cased (they are case-insensitive)."""
        name = self.name.lower() if self.location == "header" else self.name
        return (self.location, name)


class OpenAPIDocument:
    """A loaded OpenAPI 3.0 or 3.1 document.

    Args:
        data: The parsed document.
        source: Where it came from (a file name), used in messages.
    """

    def __init__(self, data: dict[str, Any], source: str) -> None:
        self.data = data
        self.source = source
        self._cache: dict[str, tuple[Any, str]] = {}
        self._holds_refs: dict[int, bool] = {}
        version = str(data.get("openapi", ""))
        self.version = "3.1" if version.startswith(("3.1", "3.2")) else "3.0"

    # -- references -------------------------------------------------------------

    def get(self, pointer: str) -> Any:
        """Return the node at ``pointer`` (no ``$ref`` following).

        Args:
            pointer: A JSON pointer into this document.

        Returns:
            The node.

        Raises:
            ContractInputError: If nothing is there.
        """
        node: Any = self.data
        for token in jp.split(pointer):
            node = jp.child(node, token)
            if node is jp.MISSING:
                raise ContractInputError(
                    "nothing at this JSON pointer", file=self.source, pointer=pointer
                )
        return node

    def resolve(self, node: Any, pointer: str) -> tuple[Any, str]:
        """Follow ``$ref`` chains from a node.

        Args:
            node: A node that may be a ``{"$ref": ...}`` object.
            pointer: Where ``node`` sits in the document.

        Returns:
            The first node that is not a reference, and its pointer.

        Raises:
            ContractInputError: If a reference does not resolve or loops on itself.
        """
        seen: list[str] = []
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref_at = pointer
            target = self._ref_target(node["$ref"], ref_at)
            cached = self._cache.get(target)
            if cached is not None:
                return cached
            if target in seen:
                raise ContractInputError(
                    "this $ref chain refers back to itself without reaching a schema",
                    file=self.source,
                    pointer=jp.join(ref_at, "$ref"),
                    expected="a chain of $refs that ends in an object",
                    hint="point one of the $refs at a real definition",
                )
            seen.append(target)
            node, pointer = self.get(target), target
        for target in seen:
            self._cache[target] = (node, pointer)
        return node, pointer

    def _ref_target(self, ref: str, at: str) -> str:
        if not ref.startswith("#"):
            raise ContractInputError(
                f"external $ref {ref!r} is not supported",
                file=self.source,
                pointer=jp.join(at, "$ref"),
                expected="a local reference such as '#/components/schemas/Name'",
                hint="bundle the document into one file first (e.g. `redocly bundle`)",
            )
        return ref[1:]

    def check_references(self) -> None:
        """Check that every ``$ref`` in the document resolves.

        The references are found in the document's JSON text (one pass in C) and
        each distinct one is resolved once; only when one fails is the document
        walked, to name the first failing reference in document order (a ``$ref``
        key inside an example is data, not a reference, and is skipped there).

        Raises:
            ContractInputError: Naming the first reference (in document order) that
                does not resolve, or whose chain of references loops without
                reaching a definition.
        """
        text = _json_text(self.data)
        refs = set(_REF_IN_TEXT.findall(text)) if text is not None else None
        if refs is not None:
            try:
                for ref in sorted(refs):
                    self.resolve({"$ref": json.loads(f'"{ref}"')}, "")
                return
            except ContractInputError:
                pass  # find and name the first failing one below
        self._walk_references()

    def _walk_references(self) -> None:
        stack: list[tuple[Any, str]] = [(self.data, "")]
        checked: set[str] = set()
        while stack:
            node, at = stack.pop()
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str) and not _is_in_example(at) and ref not in checked:
                    self._check_reference(node, ref, at)
                    checked.add(ref)
                children = []
                for key, value in node.items():
                    if isinstance(value, dict | list):
                        children.append((value, at + "/" + jp.escape_token(key)))
                stack.extend(reversed(children))  # popped in document order
            else:
                for index in range(len(node) - 1, -1, -1):
                    value = node[index]
                    if isinstance(value, dict | list):
                        stack.append((value, f"{at}/{index}"))

    def holds_references(self, node: Any) -> bool:
        """Whether a subtree has a ``$ref`` anywhere in it (remembered per node).

        Asked only of subtrees that are written alike in both documents; serialising
        one in C and searching the text is faster than walking it in Python.

        Args:
            node: A node of this document.

        Returns:
            False for plain data, which compares fully by equality.
        """
        key = id(node)
        found = self._holds_refs.get(key)
        if found is None:
            if isinstance(node, dict) and "$ref" in node:
                found = True
            elif isinstance(node, dict) and not any(
                isinstance(v, dict) or (isinstance(v, list) and any(isinstance(x, dict) for x in v))
                for v in node.values()
            ):
                found = False  # a leaf schema: nothing below it to hold a reference
            else:
                text = _json_text(node)
                found = text is None or '"$ref"' in text
            self._holds_refs[key] = found
        return found

    def _check_reference(self, node: dict[str, Any], ref: str, at: str) -> None:
        target = self._ref_target(ref, at)
        try:
            self.get(target)
        except ContractInputError:
            raise ContractInputError(
                f"$ref {ref!r} does not resolve",
                file=self.source,
                pointer=jp.join(at, "$ref"),
                expected=f"a definition at {ref}",
                hint="fix the reference or add the missing definition",
            ) from None
        self.resolve(node, at)  # a chain that loops without reaching a definition

    # -- operations -------------------------------------------------------------

    @cached_property
    def operations(self) -> dict[tuple[str, str], Operation]:
        """Every operation keyed by ``(path template, method)``, in sorted order."""
        result: dict[tuple[str, str], Operation] = {}
        paths = self.data.get("paths") or {}
        for path in sorted(paths, key=str):
            item_pointer = jp.join("/paths", path)
            item, item_pointer = self.resolve(paths[path], item_pointer)
            if not isinstance(item, dict):
                continue
            for method in HTTP_METHODS:
                node = item.get(method)
                if isinstance(node, dict):
                    result[(str(path), method)] = Operation(
                        path=str(path),
                        method=method,
                        pointer=jp.join(item_pointer, method),
                        node=node,
                        path_pointer=item_pointer,
                    )
        return result

    @cached_property
    def webhooks(self) -> dict[tuple[str, str], Operation]:
        """OpenAPI 3.1 ``webhooks``: requests the API sends, keyed by ``(name, method)``.

        Their ``path`` is ``webhook:NAME``, so findings name them apart from paths.
        """
        result: dict[tuple[str, str], Operation] = {}
        hooks = self.data.get("webhooks") or {}
        if not isinstance(hooks, dict):
            return result
        for name in sorted(hooks, key=str):
            item, item_pointer = self.resolve(hooks[name], jp.join("/webhooks", name))
            if not isinstance(item, dict):
                continue
            for method in HTTP_METHODS:
                node = item.get(method)
                if isinstance(node, dict):
                    result[(str(name), method)] = Operation(
                        path=f"webhook:{name}",
                        method=method,
                        pointer=jp.join(item_pointer, method),
                        node=node,
                        path_pointer=item_pointer,
                    )
        return result

    @cached_property
    def path_templates(self) -> list[tuple[str, re.Pattern[str], int]]:
        """Path templates with their regexes, most specific first."""
        compiled = []
        for path in {p for p, _ in self.operations}:
            compiled.append((path, _template_regex(path), path.count("{")))
        compiled.sort(key=lambda item: (item[2], -len(item[0]), item[0]))
        return compiled

    @cached_property
    def server_prefixes(self) -> list[str]:
        """Path prefixes of the declared servers (``/v1`` for ``https://x/v1``), longest first."""
        prefixes = set()
        for server in self.data.get("servers") or []:
            url = str(server.get("url", "")) if isinstance(server, dict) else ""
            path = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/]*", "", url).rstrip("/")
            if path and "{" not in path:
                prefixes.add(path)
        return sorted(prefixes, key=lambda p: (-len(p), p))

    def match_path(self, concrete: str) -> tuple[str, dict[str, str]] | None:
        """Find the path template that a concrete request path matches.

        Literal segments win over templated ones, as OpenAPI requires. A path that
        includes a server's base path (``/v1/orders`` for server ``/v1``) also matches.

        Args:
            concrete: A request path such as ``/salesOrders/SO-1``.

        Returns:
            The template and the path parameters, or ``None``.
        """
        candidates = [concrete]
        for prefix in self.server_prefixes:
            if concrete.startswith(prefix + "/"):
                candidates.append(concrete[len(prefix) :])
        for candidate in candidates:
            for template, regex, _ in self.path_templates:
                found = regex.match(candidate)
                if found:
                    params = {
                        _group_name(template, name): value
                        for name, value in found.groupdict().items()
                    }
                    return template, params
        return None

    def parameters(self, operation: Operation) -> list[Parameter]:
        """The operation's parameters, path-level ones overridden by its own.

        Args:
            operation: The operation.

        Returns:
            Resolved parameters sorted by location and name.
        """
        merged: dict[tuple[str, str], Parameter] = {}
        path_item = self.get(operation.path_pointer)
        sources = [
            (path_item.get("parameters") or [], jp.join(operation.path_pointer, "parameters")),
            (operation.node.get("parameters") or [], jp.join(operation.pointer, "parameters")),
        ]
        for params, base in sources:
            for index, raw in enumerate(params):
                node, pointer = self.resolve(raw, jp.join(base, index))
                if not isinstance(node, dict) or "name" not in node or "in" not in node:
                    continue
                param = Parameter(str(node["name"]), str(node["in"]), node, pointer)
                merged[param.ident] = param
        return [merged[k] for k in sorted(merged)]

    def security(self, operation: Operation) -> list[dict[str, frozenset[str]]]:
        """The operation's effective security requirement.

        Args:
            operation: The operation.

        Returns:
            Alternatives (any one suffices), each mapping the schemes it needs to
            the scopes it asks of them. An empty list means no security; an empty
            mapping among them means anonymous access is allowed.
        """
        raw = operation.node.get("security", self.data.get("security")) or []
        result: dict[tuple[tuple[str, tuple[str, ...]], ...], dict[str, frozenset[str]]] = {}
        for alt in raw:
            if not isinstance(alt, dict):
                continue
            needs = {
                str(name): frozenset(str(s) for s in scopes if s is not None)
                if isinstance(scopes, list)
                else frozenset()
                for name, scopes in alt.items()
            }
            result[tuple(sorted((k, tuple(sorted(v))) for k, v in needs.items()))] = needs
        return [result[k] for k in sorted(result)]

    def responses(self, operation: Operation) -> dict[str, tuple[dict[str, Any], str]]:
        """The operation's responses, resolved, keyed by status code as a string.

        Args:
            operation: The operation.

        Returns:
            ``{status: (response object, pointer)}`` sorted by status.
        """
        raw = operation.node.get("responses") or {}
        result: dict[str, tuple[dict[str, Any], str]] = {}
        for status in sorted(raw, key=str):
            node, pointer = self.resolve(
                raw[status], jp.join(operation.pointer, "responses", status)
            )
            if isinstance(node, dict):
                result[str(status).upper()] = (node, pointer)
        return result

    def request_body(self, operation: Operation) -> tuple[dict[str, Any], str] | None:
        """The operation's resolved request body object, if any.

        Args:
            operation: The operation.

        Returns:
            ``(request body object, pointer)`` or ``None``.
        """
        raw = operation.node.get("requestBody")
        if raw is None:
            return None
        node, pointer = self.resolve(raw, jp.join(operation.pointer, "requestBody"))
        return (node, pointer) if isinstance(node, dict) else None

    def iter_media(
        self, container: dict[str, Any], container_pointer: str
    ) -> Iterator[tuple[str, Any, str]]:
        """Media types of a request body or response that declare a schema.

        Args:
            container: A request body or response object.
            container_pointer: Its pointer.

        Yields:
            ``(media type, schema node, schema pointer)`` sorted by media type.
        """
        content = container.get("content") or {}
        for media in sorted(content, key=str):
            media_obj = content[media]
            if isinstance(media_obj, dict) and "schema" in media_obj:
                yield (
                    str(media),
                    media_obj["schema"],
                    jp.join(container_pointer, "content", media, "schema"),
                )


_REF_IN_TEXT = re.compile(r'"\$ref":\s*"((?:[^"\\]|\\.)*)"')


def _json_text(node: Any) -> str | None:
    """The node as JSON text, or None when it holds what JSON cannot write (YAML dates)."""
    try:
        return json.dumps(node, default=str, check_circular=False)
    except (TypeError, ValueError):
        return None


def _is_in_example(pointer: str) -> bool:
    tokens = pointer.split("/")
    return "example" in tokens or "examples" in tokens


def _template_regex(path: str) -> re.Pattern[str]:
    out = []
    index = 0
    for part in re.split(r"(\{[^}/]+\})", path):
        if part.startswith("{") and part.endswith("}"):
            out.append(f"(?P<p{index}>[^/]+)")
            index += 1
        else:
            out.append(re.escape(part))
    return re.compile("^" + "".join(out) + "$")


def _group_name(template: str, group: str) -> str:
    names = re.findall(r"\{([^}/]+)\}", template)
    return str(names[int(group[1:])])
