"""``contracts diff``: graded backward-compatibility changes between two documents.

Operations are paired by path template (parameter names ignored, so
``/orders/{id}`` and ``/orders/{orderId}`` are the same path) and method; then
parameters, request bodies, responses and security of each pair are compared,
and schemas through :class:`contracts.schemadiff.SchemaDiffer`.
"""

from __future__ import annotations

import re
from typing import Any

from contracts import findings as fd
from contracts.findings import Finding, Location
from contracts.openapi import OpenAPIDocument, Operation, Parameter
from contracts.schema import SchemaReader, SchemaRef
from contracts.schemadiff import Direction, SchemaDiffer, field_name

_IGNORED_HEADERS = {"accept", "content-type", "authorization"}


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
    """

    def __init__(self, old: OpenAPIDocument, new: OpenAPIDocument) -> None:
        self.old = old
        self.new = new
        self.schemas = SchemaDiffer(SchemaReader(old), SchemaReader(new))
        self.findings: list[Finding] = []

    def run(self) -> list[Finding]:
        """Compare the documents.

        Returns:
            Findings, sorted by location then identifier, without duplicates.
        """
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
                        self._add(
                            "path-removed",
                            f"path {old_op.path} was removed",
                            Location(old_op.path, pointer=old_op.path_pointer, document="old"),
                        )
                    continue
                self._add(
                    "operation-removed",
                    f"operation {old_op.key} ({old_op.operation_id or 'no operationId'}) "
                    "was removed",
                    Location(old_op.path, old_op.method, pointer=old_op.pointer, document="old"),
                )
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
                self._operation(old_op, new_op)
        return fd.sort_findings(self.findings)

    def _add(self, kind: str, message: str, location: Location) -> None:
        self.findings.append(fd.make(kind, message, location))

    def _operation(self, old: Operation, new: Operation) -> None:
        where = Location(new.path, new.method, pointer=new.pointer)
        if old.operation_id != new.operation_id:
            self._add(
                "operation-id-changed",
                f"operationId changed from {old.operation_id!r} to {new.operation_id!r}",
                Location(new.path, new.method, pointer=new.pointer + "/operationId"),
            )
        self._security(old, new, where)
        self._parameters(old, new)
        self._request_body(old, new)
        self._responses(old, new)

    def _security(self, old: Operation, new: Operation, where: Location) -> None:
        old_alts, new_alts = self.old.security(old), self.new.security(new)
        if not new_alts or frozenset() in new_alts:
            return
        if not old_alts or frozenset() in old_alts:
            needed = " or ".join("+".join(sorted(a)) for a in new_alts)
            self._add("security-requirement-added", f"now requires {needed}", where)
            return
        for alt in old_alts:
            if not any(candidate <= alt for candidate in new_alts):
                needed = " or ".join("+".join(sorted(a)) for a in new_alts)
                self._add(
                    "security-requirement-added",
                    f"clients using {'+'.join(sorted(alt))} now need {needed}",
                    where,
                )

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
                    self._add(
                        "request-parameter-removed",
                        f"{op_.location} parameter {op_.name!r} is no longer documented",
                        Location(
                            old.path,
                            old.method,
                            pointer=op_.pointer,
                            field=f"{op_.location} {op_.name}",
                            document="old",
                        ),
                    )
                continue
            assert np_ is not None
            loc = Location(new.path, new.method, pointer=np_.pointer, field=f"{key[0]} {np_.name}")
            if op_ is None:
                if np_.required:
                    self._add(
                        "request-parameter-added-required",
                        f"new required {np_.location} parameter {np_.name!r}",
                        loc,
                    )
                else:
                    self._add(
                        "request-parameter-added",
                        f"new optional {np_.location} parameter {np_.name!r}",
                        loc,
                    )
                continue
            if np_.required and not op_.required:
                self._add(
                    "request-parameter-became-required",
                    f"{np_.location} parameter {np_.name!r} became required",
                    loc,
                )
            if "schema" in op_.node and "schema" in np_.node:
                self._schema(
                    SchemaRef(op_.node["schema"], op_.pointer + "/schema"),
                    SchemaRef(np_.node["schema"], np_.pointer + "/schema"),
                    "request",
                    Location(new.path, new.method),
                    f"{np_.location} {np_.name}",
                )

    def _request_body(self, old: Operation, new: Operation) -> None:
        old_rb, new_rb = self.old.request_body(old), self.new.request_body(new)
        if new_rb is None:
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
                self._add(
                    "response-status-removed",
                    f"response status {status} is no longer documented",
                    Location(
                        old.path,
                        old.method,
                        status,
                        pointer=old_resps[status][1],
                        document="old",
                    ),
                )
            elif status not in old_resps:
                self._add(
                    "response-status-added",
                    f"response status {status} was added",
                    Location(new.path, new.method, status, pointer=new_resps[status][1]),
                )
            else:
                self._media(
                    old_resps[status],
                    new_resps[status],
                    "response",
                    Location(new.path, new.method, status),
                )

    def _media(
        self,
        old: tuple[dict[str, Any], str],
        new: tuple[dict[str, Any], str],
        direction: Direction,
        where: Location,
    ) -> None:
        old_media = {m: (s, p) for m, s, p in self.old.iter_media(*old)}
        new_media = {m: (s, p) for m, s, p in self.new.iter_media(*new)}
        for media in sorted(old_media):
            if media not in new_media:
                self._add(
                    f"{direction}-media-type-removed",
                    f"{direction} content type {media!r} is no longer documented",
                    Location(
                        where.path,
                        where.method,
                        where.status,
                        pointer=old_media[media][1],
                        document="old",
                    ),
                )
                continue
            label = "body" if len(old_media) == 1 else f"body ({media})"
            self._schema(
                SchemaRef(*old_media[media]),
                SchemaRef(*new_media[media]),
                direction,
                where,
                label,
            )

    def _schema(
        self, old: SchemaRef, new: SchemaRef, direction: Direction, where: Location, label: str
    ) -> None:
        for change in self.schemas.compare(old, new, direction):
            name = field_name(change.field)
            sep = "" if name.startswith("[]") else "."
            self._add(
                change.kind,
                f"{label}{sep}{name}: {change.message}" if name else f"{label}: {change.message}",
                Location(
                    where.path,
                    where.method,
                    where.status,
                    pointer=change.pointer,
                    field=f"{label}{sep}{name}" if name else label,
                    document=change.document,
                ),
            )


def diff_documents(old: OpenAPIDocument, new: OpenAPIDocument) -> list[Finding]:
    """Every backward-compatibility change from ``old`` to ``new``.

    Args:
        old: The version clients were built against.
        new: The candidate version.

    Returns:
        Sorted findings.
    """
    return DocumentDiff(old, new).run()
