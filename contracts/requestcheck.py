"""Gate, request side: is a pact's request still valid for the operation?

Path, query and header parameters are checked for presence and validated (after
turning their text into the schema's type); the body is validated against the
request body schema of the matching content type: JSON as it is, a form
(``application/x-www-form-urlencoded``) as the object its bracketed keys encode
(:mod:`contracts.formbody`); other encodings are reported as not checked.
"""

from __future__ import annotations

import json
from contextlib import suppress
from typing import Any

from contracts import findings as fd
from contracts.findings import Finding, Location
from contracts.formbody import coerce, decode, is_form, scalar
from contracts.openapi import Operation, Parameter
from contracts.pactfile import Interaction
from contracts.schema import SchemaReader, SchemaRef
from contracts.validation import DocumentCheck

_IGNORED_HEADERS = {"accept", "content-type", "authorization"}


def label(prefix: str, location: tuple[str | int, ...] | list[str | int]) -> str:
    """Name a location inside a body: ``body.lines[0].sku``.

    Args:
        prefix: ``body`` or a parameter name.
        location: Keys and indices.

    Returns:
        The label.
    """
    text = prefix
    for step in location:
        text += f"[{step}]" if isinstance(step, int) else f".{step}"
    return text


def media_match(documented: list[str], content_type: str | None, body: Any) -> str | None:
    """Pick the documented media type that a pact body is sent or received as.

    Args:
        documented: Media types of the request body or response.
        content_type: The pact's content type, if any.
        body: The pact body (used to assume JSON when no content type is given).

    Returns:
        The documented media type, or ``None`` when none fits.
    """
    wanted = (content_type or "").split(";")[0].strip().lower()
    if not wanted and isinstance(body, dict | list):
        wanted = "application/json"
    if not wanted:
        return documented[0] if documented else None
    major = wanted.split("/")[0]
    for candidate in documented:
        if candidate.split(";")[0].strip().lower() == wanted:
            return candidate
    for candidate in documented:
        lowered = candidate.lower()
        if lowered in (f"{major}/*", "*/*") or (wanted.endswith("+json") and "json" in lowered):
            return candidate
    return None


class RequestCheck(DocumentCheck):
    """Checks pact requests against one document."""

    def check(
        self, interaction: Interaction, operation: Operation, path_params: dict[str, str]
    ) -> list[Finding]:
        """All request-side problems of one interaction.

        Args:
            interaction: The pact interaction.
            operation: The operation its method and path matched.
            path_params: Path parameter values taken from the pact's path.

        Returns:
            Findings (empty when the request is still valid).
        """
        out: list[Finding] = []
        documented_query = set()
        for param in self.document.parameters(operation):
            if param.location == "query":
                documented_query.add(param.name)
            self._parameter(interaction, operation, param, path_params, out)
        for name in sorted(set(interaction.query) - documented_query):
            out.append(
                fd.make(
                    "pact-request-parameter-invalid",
                    f"the pact sends query parameter {name!r}, which is not documented",
                    Location(operation.path, operation.method, field=f"query {name}"),
                    level=fd.Level.WARNING,
                )
            )
        self._body(interaction, operation, out)
        return out

    def _parameter(
        self,
        interaction: Interaction,
        operation: Operation,
        param: Parameter,
        path_params: dict[str, str],
        out: list[Finding],
    ) -> None:
        where = Location(
            operation.path,
            operation.method,
            pointer=param.pointer,
            field=f"{param.location} {param.name}",
        )
        values: list[str] | None
        if param.location == "path":
            values = [path_params[param.name]] if param.name in path_params else None
        elif param.location == "query":
            values = interaction.query.get(param.name)
        elif param.location == "header":
            if param.name.lower() in _IGNORED_HEADERS:
                return
            values = interaction.request.header(param.name)
        else:
            values = interaction.request.header("cookie")
        if values is None:
            if param.required:
                out.append(
                    fd.make(
                        "pact-request-parameter-invalid",
                        f"required {param.location} parameter {param.name!r} is not sent "
                        "by the pact",
                        where,
                    )
                )
            return
        schema = param.node.get("schema")
        if param.location == "cookie" or not isinstance(schema, dict):
            return
        ref = SchemaRef(schema, param.pointer + "/schema")
        instance = _coerce(values, self.reader, ref)
        for error in self.validation.errors(ref, instance, "write"):
            out.append(
                fd.make(
                    "pact-request-parameter-invalid",
                    f"{param.location} parameter {param.name!r}: {error.message}",
                    where,
                )
            )

    def _body(self, interaction: Interaction, operation: Operation, out: list[Finding]) -> None:
        found = self.document.request_body(operation)
        request = interaction.request
        sends_body = request.has_body and request.body not in (None, "")
        where = Location(operation.path, operation.method, field="body")
        if found is None:
            if sends_body:
                out.append(
                    fd.make(
                        "pact-request-body-invalid",
                        "the pact sends a body, but the operation documents none",
                        where,
                        level=fd.Level.WARNING,
                    )
                )
            return
        node, pointer = found
        if not sends_body:
            if node.get("required"):
                out.append(
                    fd.make(
                        "pact-request-body-invalid",
                        "the request body is required, but the pact sends none",
                        Location(operation.path, operation.method, pointer=pointer, field="body"),
                    )
                )
            return
        media = {m: SchemaRef(s, p) for m, s, p in self.document.iter_media(node, pointer)}
        content = node.get("content") or {}
        chosen = media_match(sorted(str(m) for m in content), request.content_type, request.body)
        if chosen is None:
            out.append(
                fd.make(
                    "pact-request-body-invalid",
                    f"content type {request.content_type or 'application/json'!r} is not "
                    f"accepted (documented: {', '.join(sorted(map(str, content))) or 'none'})",
                    Location(operation.path, operation.method, pointer=pointer, field="body"),
                )
            )
            return
        schema = media.get(chosen)
        if schema is None:
            return
        body = request.body
        if is_form(chosen):
            if isinstance(body, str):
                body = coerce(decode(body), schema, self.reader)
        elif "json" in chosen.lower():
            if isinstance(body, str):
                with suppress(json.JSONDecodeError):
                    body = json.loads(body)
        else:
            out.append(
                fd.make(
                    "pact-request-body-unverified",
                    f"the body is sent as {chosen!r}; only JSON and form-urlencoded bodies are "
                    "validated",
                    Location(operation.path, operation.method, pointer=pointer, field="body"),
                )
            )
            return
        for error in self.validation.errors(schema, body, "write"):
            location = tuple(error.absolute_path)
            at = self.validation.schema_at(schema, location) or schema
            out.append(
                fd.make(
                    "pact-request-body-invalid",
                    f"{label('body', location)}: {error.message}",
                    Location(
                        operation.path,
                        operation.method,
                        pointer=self.validation.pointer_of(at),
                        field=label("body", location),
                    ),
                )
            )


def _coerce(values: list[str], reader: SchemaReader, ref: SchemaRef) -> Any:
    """Turn parameter text into the JSON value the schema describes."""
    facts = reader.facts(ref)
    types = facts.types or frozenset({"string"})
    if "array" in types:
        items = values if len(values) > 1 else values[0].split(",")
        item_facts = reader.facts(facts.items) if facts.items is not None else None
        item_types = (item_facts.types if item_facts else None) or frozenset({"string"})
        return [scalar(v, item_types) for v in items]
    return scalar(values[0], types)
