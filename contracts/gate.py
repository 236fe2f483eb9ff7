"""``contracts gate``: do a provider's pact interactions still hold against a new document?

For every HTTP interaction whose provider is the one gated, the gate finds the
operation (method and path template), then checks the request
(:mod:`contracts.requestcheck`) and the response (:mod:`contracts.responsecheck`).
With the previous document (``--old``), changes to the operation that the pact
does not rely on are listed as ``info``, and changes to operations that no
interaction uses are collected in a case of their own.
"""

from __future__ import annotations

from pathlib import Path

from contracts import findings as fd
from contracts.diff import DocumentDiff, normalize_template
from contracts.errors import ContractInputError
from contracts.findings import Finding, Level, Location
from contracts.lifecycle import Lifecycle
from contracts.openapi import OpenAPIDocument
from contracts.pactfile import Interaction
from contracts.report import Case, Report
from contracts.requestcheck import RequestCheck
from contracts.responsecheck import ResponseCheck
from contracts.validation import Validation

UNUSED_CASE = "operations no interaction uses"


def select_provider(interactions: list[Interaction], provider: str) -> list[Interaction]:
    """The interactions whose provider is ``provider``.

    Args:
        interactions: All loaded interactions.
        provider: The provider's name in the pacts.

    Returns:
        The matching interactions.

    Raises:
        ContractInputError: If none matches (naming the providers that were found).
    """
    chosen = [i for i in interactions if i.provider == provider]
    if not chosen:
        found = sorted({i.provider for i in interactions})
        files = sorted({i.file for i in interactions})
        raise ContractInputError(
            f"no interaction has provider {provider!r} (providers found: "
            f"{', '.join(found) or 'none'})",
            file=files[0] if len(files) == 1 else None,
            pointer="/provider/name",
            expected=f"a pact whose provider is {provider!r}",
            hint="check --provider or the pact files given with --pacts",
        )
    return chosen


def check_interaction(
    document: OpenAPIDocument,
    interaction: Interaction,
    requests: RequestCheck,
    responses: ResponseCheck,
) -> tuple[str, list[Finding]]:
    """Check one interaction.

    Args:
        document: The candidate document.
        interaction: The interaction.
        requests: The request checker for ``document``.
        responses: The response checker for ``document``.

    Returns:
        The operation it maps to (``METHOD /template`` or ``METHOD /path`` when
        none) and the findings.
    """
    if interaction.kind != "http":
        return interaction.kind, [
            fd.make(
                "pact-interaction-skipped",
                f"{interaction.kind} interactions are not checked against OpenAPI",
                Location(pointer=interaction.pointer, document="pact"),
            )
        ]
    method = interaction.method.lower()
    found = document.match_path(interaction.path)
    where = Location(interaction.path, method, field="path")
    if found is None:
        return f"{interaction.method} {interaction.path}", [
            fd.make(
                "pact-operation-missing",
                f"no path in the document matches {interaction.path}",
                where,
            )
        ]
    template, params = found
    operation = document.operations.get((template, method))
    if operation is None:
        methods = sorted(m.upper() for p, m in document.operations if p == template)
        return f"{interaction.method} {template}", [
            fd.make(
                "pact-operation-missing",
                f"path {template} has no {interaction.method} operation "
                f"(documented: {', '.join(methods)})",
                Location(template, method, pointer=f"/paths/{template.replace('/', '~1')}"),
            )
        ]
    results = requests.check(interaction, operation, params)
    results += responses.check(interaction, operation)
    name = f"{operation.key}"
    if operation.operation_id:
        name = f"{operation.operation_id} ({operation.key})"
    return name, results


def run_gate(
    document: OpenAPIDocument,
    interactions: list[Interaction],
    provider: str,
    *,
    old: OpenAPIDocument | None = None,
    fail_on: Level = Level.ERROR,
    lifecycle: Lifecycle | None = None,
) -> Report:
    """Gate a provider's interactions against a candidate document.

    Args:
        document: The candidate (new) document.
        interactions: Interactions of the pacts (any provider; filtered here).
        provider: The provider gated.
        old: The previous document, to report unused changes as ``info``.
        fail_on: The lowest level that fails the gate.
        lifecycle: The deprecation policy for the diff against ``old``.

    Returns:
        The report, one case per interaction in pact order.
    """
    chosen = select_provider(interactions, provider)
    validation = Validation(document)
    requests = RequestCheck(document, validation)
    responses = ResponseCheck(document, validation)
    differ = DocumentDiff(old, document, lifecycle) if old is not None else None
    changes = differ.run() if differ is not None else []
    used: set[tuple[str, str]] = set()
    cases = []
    for interaction in chosen:
        group, found = check_interaction(document, interaction, requests, responses)
        key = _operation_key(document, interaction)
        if key is not None:
            used.add(key)
            if differ is not None:
                found += _unused_changes(differ.operation_changes(*key), key, interaction)
        cases.append(
            Case(
                name=interaction.name,
                group=f"{provider}.{group}",
                findings=tuple(fd.sort_findings(found)),
            )
        )
    leftovers = [_as_info(c) for c in changes if not _reaches_any(c, used)]
    if leftovers:
        cases.append(Case(UNUSED_CASE, f"{provider}.unused", tuple(fd.sort_findings(leftovers))))
    files = sorted({Path(i.file).name for i in chosen})
    subject = {"provider": provider, "spec": document.source, "pacts": ", ".join(files)}
    if old is not None:
        subject["old"] = old.source
    return Report(
        command="gate",
        title=f"gate: {provider} pacts against {Path(document.source).name}",
        subject=subject,
        cases=tuple(cases),
        fail_on=fail_on,
    )


def _reaches_any(change: Finding, used: set[tuple[str, str]]) -> bool:
    """Whether a change shows in an operation some interaction uses."""
    where = (normalize_template(change.location.path or ""), change.location.method or "")
    if where in used:
        return True
    for operation in change.reaches:
        method, _, path = operation.partition(" ")
        if (normalize_template(path), method.lower()) in used:
            return True
    return False


def _operation_key(document: OpenAPIDocument, interaction: Interaction) -> tuple[str, str] | None:
    found = document.match_path(interaction.path)
    if found is None:
        return None
    return (normalize_template(found[0]), interaction.method.lower())


def _unused_changes(
    changes: list[Finding], key: tuple[str, str], interaction: Interaction
) -> list[Finding]:
    """Changes to the interaction's operation that touch nothing the pact uses, as info."""
    request_fields, response_fields = used_fields(interaction)
    result = []
    for change in changes:
        loc = change.location
        if (normalize_template(loc.path or ""), loc.method or "") != key:
            continue
        field = (loc.field or "").lower()
        if loc.status is not None:
            touched = loc.status == str(interaction.status) and (
                not field or _touches(field, response_fields)
            )
        else:
            touched = bool(field) and (
                change.level == Level.ERROR or _touches(field, request_fields)
            )
        if not touched:
            result.append(_as_info(change))
    return result


def used_fields(interaction: Interaction) -> tuple[set[str], set[str]]:
    """The request and response fields a pact interaction uses, named as ``diff`` names them.

    Args:
        interaction: The interaction.

    Returns:
        Lower-cased names such as ``body.lines[].sku``, ``query limit``,
        ``header idempotency-key``: (request fields, response fields).
    """
    request = {f"query {name}".lower() for name in interaction.query}
    request |= {f"header {name}".lower() for name in interaction.request.headers}
    if interaction.request.has_body:
        request |= _body_fields(interaction.request.body, "body")
    response: set[str] = set()
    if interaction.response.has_body:
        response = _body_fields(interaction.response.body, "body")
    return request, response


def _body_fields(value: object, prefix: str) -> set[str]:
    names = {prefix.lower()}
    if isinstance(value, dict):
        for key, item in value.items():
            names |= _body_fields(item, f"{prefix}.{key}")
    elif isinstance(value, list):
        for item in value:
            names |= _body_fields(item, f"{prefix}[]")
    return names


def _touches(field: str, used: set[str]) -> bool:
    return field in used


def _as_info(change: Finding) -> Finding:
    return fd.make(
        "pact-change-unused",
        f"{change.id} ({change.level.value} for other clients): {change.message}",
        change.location,
    )
