"""Where each field of an operation travels in HTTP: path, query or JSON body.

The orchestrator and the vendor models speak in operations with flat parameters
(``getCustomerField({"externalId": "ACC-1", "field": "name"})``); HTTP speaks in
methods, paths, query strings and bodies. A ``Route`` is the translation for one
operation, read off its vendor's OpenAPI document, like the address format a
courier uses: the path's template names the fields that go in the address, the
document's query parameters those that go on the label, everything else goes in
the parcel. ``Routes`` holds every route of a document and finds the one a request
is for. The live runtime builds requests with it, the mocks read them back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import quote, urlsplit

from contracts.openapi import OpenAPIDocument

__all__ = ["HttpRequest", "Route", "Routes"]

IDEMPOTENCY_KEY = "Idempotency-Key"
"""The header a write's idempotency key travels in."""
CORRELATION_ID = "X-Correlation-Id"
"""The header naming the business story (the deal) a request belongs to."""

_TEMPLATE_FIELD = re.compile(r"{([^{}]+)}")


class HttpRequest(NamedTuple):
    """One request as it goes on the wire (relative to the vendor's base URL)."""

    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any] | None


class Route(NamedTuple):
    """How one operation's parameters map onto HTTP.

    Attributes:
        operation: The operationId.
        method: Upper-case HTTP method.
        template: The path template, e.g. ``/salesOrders/{id}/cancel``.
        path_fields: Fields that fill the template, in order.
        query_fields: Field -> JSON type (``integer``, ``number``, ``boolean``,
            ``string``) of the query parameters the document declares.
        body: Whether the operation takes a JSON body (the remaining fields).
        pattern: The template as a regular expression with one group per field.
    """

    operation: str
    method: str
    template: str
    path_fields: tuple[str, ...]
    query_fields: Mapping[str, str]
    body: bool
    pattern: re.Pattern[str]

    def request(self, params: Mapping[str, Any]) -> HttpRequest:
        """The request that carries ``params``.

        Raises:
            KeyError: A field the path needs is missing from ``params``.
        """
        path = self.template
        for name in self.path_fields:
            path = path.replace(f"{{{name}}}", quote(str(params[name]), safe=""))
        rest = {k: v for k, v in params.items() if k not in self.path_fields}
        if self.body:
            query = {k: _text(rest.pop(k)) for k in list(rest) if k in self.query_fields}
            return HttpRequest(self.method, path, query, rest)
        return HttpRequest(self.method, path, {k: _text(v) for k, v in rest.items()}, None)

    def params(
        self,
        path_values: Mapping[str, str],
        query: Mapping[str, str],
        body: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        """The flat parameters a request carried (query values typed by the document)."""
        found: dict[str, Any] = dict(body or {})
        for name, value in query.items():
            found[name] = _typed(value, self.query_fields.get(name, "string"))
        found.update(path_values)
        return found


class Routes:
    """Every route of one vendor document, by operation and by request (paths
    relative to ``base_path``).

    Args:
        document: The vendor's OpenAPI document.
    """

    def __init__(self, document: OpenAPIDocument) -> None:
        servers = document.data.get("servers") or [{"url": "/"}]
        self.base_path = urlsplit(str(servers[0].get("url", "/"))).path.rstrip("/")
        """The path of the document's first server: where the routes start."""
        self.by_operation: dict[str, Route] = {}
        for (template, method), operation in document.operations.items():
            op_id = operation.operation_id
            if op_id is None:
                continue
            parameters = document.parameters(operation)
            query = {
                p.name: str((p.node.get("schema") or {}).get("type", "string"))
                for p in parameters
                if p.location == "query"
            }
            self.by_operation[op_id] = Route(
                op_id,
                method.upper(),
                template,
                tuple(_TEMPLATE_FIELD.findall(template)),
                query,
                document.request_body(operation) is not None,
                _pattern(template),
            )
        # Literal segments first: /customers/merges before /customers/{id}.
        self._ordered = sorted(
            self.by_operation.values(), key=lambda r: (r.template.count("{"), r.template)
        )

    def __getitem__(self, operation: str) -> Route:
        return self.by_operation[operation]

    def __iter__(self) -> Any:
        return iter(self.by_operation.values())

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route a request is for, with its path fields; None if there is none.

        ``path`` is the decoded path (as ASGI and httpx give it), relative to
        ``base_path``; a field holding a ``/`` cannot be matched.
        """
        method = method.upper()
        for route in self._ordered:
            if route.method != method:
                continue
            found = route.pattern.match(path)
            if found:
                # ``path`` is decoded already (ASGI, httpx): not unquoted twice
                values = {
                    route.path_fields[int(group[1:])]: value
                    for group, value in found.groupdict().items()
                }
                return route, values
        return None

    def allowed(self, path: str) -> list[str]:
        """The methods some route accepts at ``path`` (for a 405's ``Allow``)."""
        return sorted({r.method for r in self._ordered if r.pattern.match(path)})


def _pattern(template: str) -> re.Pattern[str]:
    """``/a/{x}/b`` as ``^/a/(?P<_0>[^/]+)/b$``: groups numbered by field position."""
    parts = _TEMPLATE_FIELD.split(template)  # literal, field, literal, ...
    regex = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<_{i // 2}>[^/]+)" for i, part in enumerate(parts)
    )
    return re.compile(f"^{regex}$")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _typed(value: str, kind: str) -> Any:
    """A query string value as the document's type says (left as text if it is not)."""
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError:
        return value
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value
