"""``contracts diff``: graded backward-compatibility changes between two documents.

Operations are paired by path template (parameter names ignored, so
``/orders/{id}`` and ``/orders/{orderId}`` are the same path) and method; then
their lifecycle, security, parameters, request bodies, responses and response
headers are compared here, and every schema they use is registered as a root of
one :class:`contracts.schemadiff.SchemaGraph`. Once every root is in, the graph
settles and :mod:`contracts.reach` says, for each schema change, the first place
it shows (operation, status, field path) and every operation it reaches: a change
in a shared component is one finding, not one per path through it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from contracts import findings as fd
from contracts.attribution import Attribution, Root
from contracts.collector import collector_paused
from contracts.findings import Finding, Location
from contracts.lifecycle import Lifecycle, changes_between, removal_of
from contracts.openapi import OpenAPIDocument, Operation, Parameter
from contracts.schema import SchemaReader, SchemaRef
from contracts.schemadiff import Direction, SchemaGraph

_IGNORED_HEADERS = {"accept", "content-type", "authorization"}
_STABILITY = {"draft": 0, "alpha": 1, "beta": 2, "stable": 3}


def normalize_template(path: str) -> str:
    """The path with parameter names blanked: ``/orders/{}``.

    Args:
        path: A path template.

    Returns:
        The normalised template.
    """
    return re.sub(r"\{[^}/]*\}", "{}", path)


class DocumentDiff:
    """Computes the changes from an old to a new document.

    Args:
        old: The version clients were built against.
        new: The candidate version.
        lifecycle: Deprecation policy; by default today's date and no grace period.
    """

    def __init__(
        self, old: OpenAPIDocument, new: OpenAPIDocument, lifecycle: Lifecycle | None = None
    ) -> None:
        self.old = old
        self.new = new
        self.lifecycle = lifecycle or Lifecycle(today=dt.date.today())
        self.graph = SchemaGraph(SchemaReader(old), SchemaReader(new), self.lifecycle)
        self.findings: list[Finding] = []
        self.roots: list[Root] = []
        self.operations: list[str] = []
        self._operation_index: dict[tuple[str, str], int] = {}
        self._done = False
        self._by_operation: dict[tuple[str, str], list[Finding]] | None = None
        self.attribution = Attribution(self.graph, self.operations)

    def run(self) -> list[Finding]:
        """Compare the documents.

        Returns:
            Findings, sorted by location then identifier, without duplicates.
        """
        with collector_paused():
            self._compare()
            found = self.findings + self.attribution.findings(self.roots, grouped=True)
        return fd.sort_findings(found)

    def operation_changes(self, path: str, method: str) -> list[Finding]:
        """Every change that shows in one operation, each at its field path there.

        Args:
            path: The operation's path template (either document's spelling).
            method: Lower-case method.

        Returns:
            Operation-level findings of the operation and the schema changes its
            schemas reach, located in this operation.
        """
        self._compare()
        key = (normalize_template(path), method)
        index = self._operation_index.get(key)
        if index is None:
            return []
        if self._by_operation is None:
            self._by_operation = {}
            for finding in self.findings:
                place = (normalize_template(finding.location.path or ""), finding.location.method)
                self._by_operation.setdefault((place[0], place[1] or ""), []).append(finding)
        own = self._by_operation.get(key, [])
        roots = [r for r in self.roots if r.operation == index]
        return fd.sort_findings(own + self.attribution.findings(roots, grouped=False))

    # -- operations ------------------------------------------------------------------------

    def _compare(self) -> None:
        if self._done:
            return
        self._done = True
        with collector_paused():
            self._compare_operations()

    def _compare_operations(self) -> None:
        old_ops = {(normalize_template(p), m): op for (p, m), op in self.old.operations.items()}
        new_ops = {(normalize_template(p), m): op for (p, m), op in self.new.operations.items()}
        old_paths = {p for p, _ in old_ops}
        new_paths = {p for p, _ in new_ops}
        reported_paths: set[str] = set()
        for key in sorted(old_ops.keys() | new_ops.keys()):
            old_op, new_op = old_ops.get(key), new_ops.get(key)
            if new_op is None and old_op is not None:
                if key[0] not in new_paths:
                    if key[0] not in reported_paths:
                        reported_paths.add(key[0])
                        gone = [op for k, op in sorted(old_ops.items()) if k[0] == key[0]]
                        self._removed_path(gone)
                    continue
                self._removed_operation(old_op)
            elif old_op is None and new_op is not None:
                if key[0] not in old_paths:
                    if key[0] not in reported_paths:
                        reported_paths.add(key[0])
                        self._add(
                            "path-added",
                            f"path {new_op.path} was added",
                            Location(new_op.path, pointer=new_op.path_pointer),
                        )
                    continue
                self._add(
                    "operation-added",
                    f"operation {new_op.key} was added",
                    Location(new_op.path, new_op.method, pointer=new_op.pointer),
                )
            elif old_op is not None and new_op is not None:
                self._operation_index[key] = len(self.operations)
                self.operations.append(new_op.key)
                self._operation(old_op, new_op)
        self._webhooks()
        self.graph.settle()

    def _add(self, kind: str, message: str, location: Location) -> None:
        self.findings.append(fd.make(kind, message, location))

    def _removed_path(self, operations: list[Operation]) -> None:
        first = operations[0]
        where = Location(first.path, pointer=first.path_pointer, document="old")
        verdicts = [removal_of(f"operation {op.key}", op.node, self.lifecycle) for op in operations]
        early = [v for v in verdicts if v is not None and v.kind == "removed-before-sunset"]
        if early:
            self._add(early[0].kind, f"path {first.path}: {early[0].message}", where)
        elif all(v is not None for v in verdicts):
            self._add(
                "removed-after-deprecation",
                f"path {first.path} was removed after its operations were deprecated",
                where,
            )
        else:
            self._add("path-removed", f"path {first.path} was removed", where)

    def _removed_operation(self, op: Operation) -> None:
        where = Location(op.path, op.method, pointer=op.pointer, document="old")
        verdict = removal_of(f"operation {op.key}", op.node, self.lifecycle)
        if verdict is not None:
            self._add(verdict.kind, verdict.message, where)
        else:
            self._add(
                "operation-removed",
                f"operation {op.key} ({op.operation_id or 'no operationId'}) was removed",
                where,
            )

    def _operation(self, old: Operation, new: Operation) -> None:
        where = Location(new.path, new.method, pointer=new.pointer)
        if old.operation_id != new.operation_id:
            self._add(
                "operation-id-changed",
                f"operationId changed from {old.operation_id!r} to {new.operation_id!r}",
                Location(new.path, new.method, pointer=new.pointer + "/operationId"),
            )
        for verdict in changes_between(f"operation {new.key}", old.node, new.node, self.lifecycle):
            self._add(verdict.kind, verdict.message, where)
        levels = (old.node.get("x-stability-level"), new.node.get("x-stability-level"))
        for op, document, level in ((old, "old", levels[0]), (new, "new", levels[1])):
            if levels[0] == levels[1]:
                break  # unchanged: judged when it was introduced
            if level is not None and (not isinstance(level, str) or level not in _STABILITY):
                self._add(
                    "stability-invalid",
                    f"x-stability-level {level!r} in the {document} document is not one of "
                    f"{', '.join(_STABILITY)}",
                    Location(
                        op.path,
                        op.method,
                        pointer=op.pointer + "/x-stability-level",
                        document=document,
                    ),
                )
        before = _STABILITY.get(str(old.node.get("x-stability-level", "")))
        after = _STABILITY.get(str(new.node.get("x-stability-level", "")))
        if before is not None and after is not None and after < before:
            self._add(
                "stability-decreased",
                f"x-stability-level went from {old.node['x-stability-level']!r} to "
                f"{new.node['x-stability-level']!r}",
                where,
            )
        self._security(old, new, where)
        self._parameters(old, new)
        self._request_body(old, new)
        self._responses(old, new)

    def _security(self, old: Operation, new: Operation, where: Location) -> None:
        old_alts, new_alts = self.old.security(old), self.new.security(new)
        if not new_alts or {} in new_alts:
            return
        needed = " or ".join(_describe_security(a) for a in new_alts)
        if not old_alts or {} in old_alts:
            self._add("security-requirement-added", f"now requires {needed}", where)
            return
        for alt in old_alts:
            if any(_covers(candidate, alt) for candidate in new_alts):
                continue
            same_schemes = [c for c in new_alts if set(c) <= set(alt)]
            kind = "security-scope-added" if same_schemes else "security-requirement-added"
            self._add(kind, f"clients using {_describe_security(alt)} now need {needed}", where)

    def _webhooks(self) -> None:
        """Webhooks run the other way: the API writes the payload and the client reads
        it, so a payload compares like a response, and the client's reply like a request."""
        old_hooks, new_hooks = self.old.webhooks, self.new.webhooks
        for key in sorted(old_hooks.keys() - new_hooks.keys()):
            hook = old_hooks[key]
            self._add(
                "webhook-removed",
                f"webhook {key[0]!r} ({key[1].upper()}) was removed",
                Location(hook.path, hook.method, pointer=hook.pointer, document="old"),
            )
        for key in sorted(old_hooks.keys() & new_hooks.keys()):
            old, new = old_hooks[key], new_hooks[key]
            self._operation_index[(new.path, new.method)] = len(self.operations)
            self.operations.append(new.key)
            old_rb, new_rb = self.old.request_body(old), self.new.request_body(new)
            if old_rb is not None and new_rb is None:
                self._add(
                    "request-body-removed",
                    "the webhook no longer sends a payload",
                    Location(old.path, old.method, pointer=old_rb[1], field="body", document="old"),
                )
            elif old_rb is not None and new_rb is not None:
                self._media(old_rb, new_rb, "response", Location(new.path, new.method))
            old_resps, new_resps = self.old.responses(old), self.new.responses(new)
            for status in sorted(old_resps.keys() & new_resps.keys()):
                where = Location(new.path, new.method, status)
                self._media(old_resps[status], new_resps[status], "request", where)

    # -- parameters --------------------------------------------------------------------------

    def _param_key(self, op: Operation, param: Parameter) -> tuple[str, str]:
        if param.location == "path":
            names = re.findall(r"\{([^}/]+)\}", op.path)
            if param.name in names:
                return ("path", str(names.index(param.name)))
        return param.ident

    def _parameters(self, old: Operation, new: Operation) -> None:
        old_params = {self._param_key(old, p): p for p in self.old.parameters(old)}
        new_params = {self._param_key(new, p): p for p in self.new.parameters(new)}
        for key in sorted(old_params.keys() | new_params.keys()):
            if key[0] == "header" and key[1] in _IGNORED_HEADERS:
                continue
            op_, np_ = old_params.get(key), new_params.get(key)
            if np_ is None and op_ is not None:
                if op_.location != "path":
                    self._removed_parameter(old, op_)
                continue
            assert np_ is not None
            loc = Location(new.path, new.method, pointer=np_.pointer, field=f"{key[0]} {np_.name}")
            if op_ is None:
                kind, text = (
                    ("request-parameter-added-required", "new required")
                    if np_.required
                    else ("request-parameter-added", "new optional")
                )
                self._add(kind, f"{text} {np_.location} parameter {np_.name!r}", loc)
                continue
            if np_.required and not op_.required:
                self._add(
                    "request-parameter-became-required",
                    f"{np_.location} parameter {np_.name!r} became required",
                    loc,
                )
            if _serialisation(op_) != _serialisation(np_):
                self._add(
                    "request-parameter-style-changed",
                    f"{np_.location} parameter {np_.name!r} is serialised differently: "
                    f"{_style_text(op_)} -> {_style_text(np_)}",
                    loc,
                )
            what = f"{np_.location} parameter {np_.name!r}"
            for verdict in changes_between(what, op_.node, np_.node, self.lifecycle):
                self._add(verdict.kind, verdict.message, loc)
            if "schema" in op_.node and "schema" in np_.node:
                self._schema(
                    SchemaRef(op_.node["schema"], op_.pointer + "/schema"),
                    SchemaRef(np_.node["schema"], np_.pointer + "/schema"),
                    "request",
                    Location(new.path, new.method),
                    f"{np_.location} {np_.name}",
                    text=True,
                )

    def _removed_parameter(self, op: Operation, param: Parameter) -> None:
        where = Location(
            op.path,
            op.method,
            pointer=param.pointer,
            field=f"{param.location} {param.name}",
            document="old",
        )
        what = f"{param.location} parameter {param.name!r}"
        verdict = removal_of(what, param.node, self.lifecycle)
        if verdict is not None:
            self._add(verdict.kind, verdict.message, where)
        else:
            self._add("request-parameter-removed", f"{what} is no longer documented", where)

    # -- bodies ------------------------------------------------------------------------------

    def _request_body(self, old: Operation, new: Operation) -> None:
        old_rb, new_rb = self.old.request_body(old), self.new.request_body(new)
        if new_rb is None:
            if old_rb is not None:
                self._add(
                    "request-body-removed",
                    "the operation no longer takes a request body",
                    Location(old.path, old.method, pointer=old_rb[1], field="body", document="old"),
                )
            return
        new_body, new_ptr = new_rb
        old_required = bool(old_rb and old_rb[0].get("required", False))
        if new_body.get("required", False) and not old_required:
            self._add(
                "request-body-became-required",
                "the request body became required",
                Location(new.path, new.method, pointer=new_ptr + "/required", field="body"),
            )
        if old_rb is None:
            return
        self._media(old_rb, new_rb, "request", Location(new.path, new.method))

    def _responses(self, old: Operation, new: Operation) -> None:
        old_resps, new_resps = self.old.responses(old), self.new.responses(new)
        for status in sorted(old_resps.keys() | new_resps.keys()):
            if status not in new_resps:
                success = status.startswith("2")
                self._add(
                    "response-status-removed" if success else "response-error-status-removed",
                    f"response status {status} is no longer documented",
                    Location(
                        old.path, old.method, status, pointer=old_resps[status][1], document="old"
                    ),
                )
            elif status not in old_resps:
                self._add(
                    "response-status-added",
                    f"response status {status} was added",
                    Location(new.path, new.method, status, pointer=new_resps[status][1]),
                )
            else:
                where = Location(new.path, new.method, status)
                self._media(old_resps[status], new_resps[status], "response", where)
                self._headers(old_resps[status], new_resps[status], where)

    def _media(
        self,
        old: tuple[dict[str, Any], str],
        new: tuple[dict[str, Any], str],
        direction: Direction,
        where: Location,
    ) -> None:
        old_media = _media_of(old)
        new_media = _media_of(new)
        for media in sorted(old_media):
            old_schema, old_ptr = old_media[media]
            label = "body" if len(old_media) == 1 else f"body ({media})"
            at = Location(where.path, where.method, where.status, field=label)
            if media not in new_media:
                self._add(
                    f"{direction}-media-type-removed",
                    f"{direction} content type {media!r} is no longer documented",
                    Location(
                        where.path, where.method, where.status, pointer=old_ptr, document="old"
                    ),
                )
                continue
            new_schema, new_ptr = new_media[media]
            if old_schema is None and new_schema is not None and direction == "request":
                self._add(
                    "request-body-schema-added",
                    f"content type {media!r} took any body; now it has a schema",
                    Location(where.path, where.method, pointer=new_ptr, field=label),
                )
                continue
            if old_schema is not None and new_schema is None and direction == "response":
                self._add(
                    "response-body-schema-removed",
                    f"content type {media!r} no longer describes its body",
                    Location(
                        at.path, at.method, at.status, pointer=old_ptr, field=label, document="old"
                    ),
                )
                continue
            if old_schema is None or new_schema is None:
                continue
            self._schema(
                SchemaRef(old_schema, old_ptr),
                SchemaRef(new_schema, new_ptr),
                direction,
                where,
                label,
            )

    def _headers(
        self, old: tuple[dict[str, Any], str], new: tuple[dict[str, Any], str], where: Location
    ) -> None:
        old_headers = _headers_of(self.old, old)
        new_headers = _headers_of(self.new, new)
        for name in sorted(old_headers.keys() | new_headers.keys()):
            if name in _IGNORED_HEADERS:
                continue
            before, after = old_headers.get(name), new_headers.get(name)
            if after is None and before is not None:
                required = before[0].get("required") is True
                self._add(
                    "response-header-removed" if required else "response-optional-header-removed",
                    f"response header {before[2]!r} was removed",
                    Location(
                        where.path,
                        where.method,
                        where.status,
                        pointer=before[1],
                        field=f"header {before[2]}",
                        document="old",
                    ),
                )
                continue
            assert after is not None
            loc = Location(
                where.path, where.method, where.status, pointer=after[1], field=f"header {after[2]}"
            )
            if before is None:
                self._add("response-header-added", f"response header {after[2]!r} was added", loc)
                continue
            if before[0].get("required") is True and after[0].get("required") is not True:
                self._add(
                    "response-header-became-optional",
                    f"response header {after[2]!r} became optional",
                    loc,
                )
            if "schema" in before[0] and "schema" in after[0]:
                self._schema(
                    SchemaRef(before[0]["schema"], before[1] + "/schema"),
                    SchemaRef(after[0]["schema"], after[1] + "/schema"),
                    "response",
                    where,
                    f"header {after[2]}",
                )

    # -- schemas ----------------------------------------------------------------------------

    def _schema(
        self,
        old: SchemaRef,
        new: SchemaRef,
        direction: Direction,
        where: Location,
        label: str,
        *,
        text: bool = False,
    ) -> None:
        key = self.graph.add(old, new, direction, text=text)
        self.roots.append(Root(key, len(self.operations) - 1, where, label))


def _media_of(container: tuple[dict[str, Any], str]) -> dict[str, tuple[Any, str]]:
    node, pointer = container
    content = node.get("content") or {}
    result = {}
    for media in sorted(content, key=str):
        media_obj = content[media]
        if isinstance(media_obj, dict):
            at = f"{pointer}/content/{str(media).replace('~', '~0').replace('/', '~1')}"
            if "schema" in media_obj:
                result[str(media)] = (media_obj["schema"], at + "/schema")
            else:
                result[str(media)] = (None, at)
    return result


def _headers_of(
    document: OpenAPIDocument, container: tuple[dict[str, Any], str]
) -> dict[str, tuple[dict[str, Any], str, str]]:
    node, pointer = container
    headers = node.get("headers") or {}
    result: dict[str, tuple[dict[str, Any], str, str]] = {}
    if not isinstance(headers, dict):
        return result
    for name in sorted(headers, key=str):
        escaped = str(name).replace("~", "~0").replace("/", "~1")
        resolved, at = document.resolve(headers[name], f"{pointer}/headers/{escaped}")
        if isinstance(resolved, dict):
            result[str(name).lower()] = (resolved, at, str(name))
    return result


def _serialisation(param: Parameter) -> tuple[str, bool]:
    default_style = "form" if param.location in ("query", "cookie") else "simple"
    style = str(param.node.get("style", default_style))
    explode = param.node.get("explode", style == "form")
    return style, bool(explode)


def _style_text(param: Parameter) -> str:
    style, explode = _serialisation(param)
    return f"style {style}, explode {str(explode).lower()}"


def _covers(new: dict[str, frozenset[str]], old: dict[str, frozenset[str]]) -> bool:
    """Whether credentials that satisfy ``old`` satisfy ``new``."""
    return all(scheme in old and scopes <= old[scheme] for scheme, scopes in new.items())


def _describe_security(alt: dict[str, frozenset[str]]) -> str:
    parts = []
    for scheme in sorted(alt):
        scopes = sorted(alt[scheme])
        parts.append(f"{scheme}[{', '.join(scopes)}]" if scopes else scheme)
    return "+".join(parts) or "anonymous"


def diff_documents(
    old: OpenAPIDocument, new: OpenAPIDocument, lifecycle: Lifecycle | None = None
) -> list[Finding]:
    """Every backward-compatibility change from ``old`` to ``new``.

    Args:
        old: The version clients were built against.
        new: The candidate version.
        lifecycle: Deprecation policy (default: today, no grace period).

    Returns:
        Sorted findings.
    """
    return DocumentDiff(old, new, lifecycle).run()
