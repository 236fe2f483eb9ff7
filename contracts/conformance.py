"""Does one exchange with a vendor agree with the vendor's document?

An exchange is what the simulator and the mocks see: an operation, its flat
parameters, the idempotency key sent, and the status and body that came back.
``Conformance`` puts it on the wire the way the document says (``contracts.binding``)
and checks both halves, like a customs officer holding a parcel against its
declaration: the address (path parameters), the label (query), the contents (the
request body), the key only where the operation accepts one, and the answer's
status and body. Each problem is one sentence naming the operation and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from contracts import pointer as jp
from contracts.binding import IDEMPOTENCY_KEY, Route, Routes
from contracts.loader import load_document
from contracts.openapi import OpenAPIDocument, Operation
from contracts.schema import SchemaRef
from contracts.validation import Validation

__all__ = ["Conformance"]

JSON = "application/json"


class Conformance:
    """Checks exchanges of one vendor against its document.

    Args:
        document: The vendor's OpenAPI document.
    """

    def __init__(self, document: OpenAPIDocument) -> None:
        self.document = document
        self.routes = Routes(document)
        self.validation = Validation(document)
        self._operations: dict[str, Operation] = {
            op.operation_id: op for op in document.operations.values() if op.operation_id
        }

    @classmethod
    def load(cls, path: str | Path) -> Conformance:
        """The conformance of the document at ``path``."""
        return cls(load_document(path))

    def operation_ids(self) -> set[str]:
        """Every operationId the document has."""
        return set(self._operations)

    def request_problems(
        self, operation: str, params: Mapping[str, Any], key: str | None = None
    ) -> list[str]:
        """What in a request does not agree with the document (empty if it all does)."""
        op = self._operations.get(operation)
        if op is None:
            return [f"{operation}: no such operationId in {self.document.source}"]
        route = self.routes[operation]
        missing = [name for name in route.path_fields if name not in params]
        if missing:
            return [f"{operation}: path needs {', '.join(missing)}"]
        request = route.request(params)
        problems: list[str] = []
        declared = {p.ident: p for p in self.document.parameters(op)}
        for param in declared.values():
            where, name = param.location, param.name
            if where == "path":
                value: Any = params[name]
            elif where == "query":
                if name not in request.query:
                    if param.required:
                        problems.append(f"{operation}: query parameter {name} is required")
                    continue
                value = route.params({}, {name: request.query[name]}, None)[name]
            elif where == "header" and name.lower() == IDEMPOTENCY_KEY.lower() and key is not None:
                value = key
            else:
                continue
            problems += self._errors(operation, f"{where} {name}", _schema(param), value, "write")
        unknown = sorted(set(request.query) - {n for (w, n) in declared if w == "query"})
        if unknown and not route.body:
            problems.append(f"{operation}: takes no {', '.join(unknown)} (not in the document)")
        if key is not None and ("header", IDEMPOTENCY_KEY.lower()) not in declared:
            problems.append(f"{operation}: sends an Idempotency-Key the document does not take")
        body = self.document.request_body(op)
        if body is not None:
            schema = _media_schema(body)
            if schema is None:
                problems.append(f"{operation}: request body has no {JSON} schema")
            elif request.body or body[0].get("required"):
                problems += self._errors(operation, "request body", schema, request.body, "write")
        return problems

    def response_problems(self, operation: str, status: int, body: Any) -> list[str]:
        """What in a response does not agree with the document (empty if it all does)."""
        op = self._operations.get(operation)
        if op is None:
            return [f"{operation}: no such operationId in {self.document.source}"]
        responses = self.document.responses(op)
        found = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
        found = found or responses.get("DEFAULT")
        if found is None:
            documented = ", ".join(responses) or "none"
            return [f"{operation}: answered {status}, documented: {documented}"]
        schema = _media_schema(found)
        if schema is None:
            return []
        return self._errors(operation, f"{status} response", schema, body, "read")

    def route(self, operation: str) -> Route:
        """The HTTP route of ``operation``."""
        return self.routes[operation]

    def _errors(
        self, operation: str, where: str, schema: SchemaRef, value: Any, mode: Any
    ) -> list[str]:
        return [
            f"{operation}: {where}{_at(error)}: {error.message}"
            for error in self.validation.errors(schema, value, mode)
        ]


def _schema(param: Any) -> SchemaRef:
    return SchemaRef(param.node.get("schema", {}), jp.join(param.pointer, "schema"))


def _media_schema(container: tuple[dict[str, Any], str]) -> SchemaRef | None:
    node, pointer = container
    media = (node.get("content") or {}).get(JSON)
    if not isinstance(media, dict) or "schema" not in media:
        return None
    return SchemaRef(media["schema"], jp.join(pointer, "content", JSON, "schema"))


def _at(error: Any) -> str:
    path = "/".join(str(p) for p in error.absolute_path)
    return f" at {path}" if path else ""
