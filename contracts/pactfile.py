"""Reading Pact files (specification V2, V3 and V4) into one interaction model.

The formats differ in details (V4 wraps bodies in ``{"content": ...}``, keeps
header values as lists and tags each interaction with a type; V2 keeps query
strings unparsed and matching rules flat); :func:`load_pacts` hides them.
"""

from __future__ import annotations

import json
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from contracts.errors import ContractInputError
from contracts.loader import read_data
from contracts.matchers import MatchingRules


@dataclass(frozen=True)
class HttpPart:
    """A request or response of an interaction.

    Attributes:
        headers: Header values by name as written in the pact.
        body: The example body (parsed JSON when the body is JSON).
        has_body: Whether the pact declares a body.
        content_type: The body's content type, if known.
        body_rules: Matching rules for the body.
        header_rules: Matching rules for headers.
    """

    headers: dict[str, list[str]] = field(default_factory=dict)
    body: Any = None
    has_body: bool = False
    content_type: str | None = None
    body_rules: MatchingRules = field(default_factory=MatchingRules)
    header_rules: MatchingRules = field(default_factory=MatchingRules)

    def header(self, name: str) -> list[str] | None:
        """Values of a header, looked up case-insensitively.

        Args:
            name: Header name.

        Returns:
            The values, or ``None`` when absent.
        """
        for key, values in self.headers.items():
            if key.lower() == name.lower():
                return values
        return None


@dataclass(frozen=True)
class Interaction:
    """One interaction of a pact.

    Attributes:
        file: The pact file.
        index: Position in the file's ``interactions``.
        consumer: Consumer name.
        provider: Provider name.
        description: The interaction's description (its name in reports).
        states: Provider states it needs.
        kind: ``http`` or the V4 type of a non-HTTP interaction.
        method: Upper-case HTTP method.
        path: The request path.
        query: Query parameters.
        request: The request.
        status: The response status.
        response: The response.
    """

    file: str
    index: int
    consumer: str
    provider: str
    description: str
    states: tuple[str, ...] = ()
    kind: str = "http"
    method: str = "GET"
    path: str = "/"
    query: dict[str, list[str]] = field(default_factory=dict)
    request: HttpPart = field(default_factory=HttpPart)
    status: int = 200
    response: HttpPart = field(default_factory=HttpPart)

    @property
    def pointer(self) -> str:
        """JSON pointer of the interaction in its file."""
        return f"/interactions/{self.index}"

    @property
    def name(self) -> str:
        """The name shown in reports: the description, and the states if any."""
        if self.states:
            return f"{self.description} (given {'; '.join(self.states)})"
        return self.description


def pact_files(paths: list[Path]) -> list[Path]:
    """Expand files and directories into pact files, sorted.

    Args:
        paths: Files or directories (a directory contributes its ``*.json``).

    Returns:
        The files.

    Raises:
        ContractInputError: If a path does not exist or a directory has no pact.
    """
    files: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found = sorted(path.glob("*.json"))
            if not found:
                raise ContractInputError(
                    "directory has no pact files",
                    file=path,
                    expected="one or more *.json Pact files",
                    hint="generate the pacts first (make pacts)",
                )
            files.update(found)
        elif path.is_file():
            files.add(path)
        else:
            raise ContractInputError(
                "file not found", file=path, expected="a Pact file or a directory of them"
            )
    return sorted(files)


def load_pacts(paths: list[Path]) -> list[Interaction]:
    """Read every interaction of the given pact files.

    Args:
        paths: Pact files or directories.

    Returns:
        Interactions in file order.

    Raises:
        ContractInputError: If a file is not valid JSON or not a pact.
    """
    interactions: list[Interaction] = []
    for file in pact_files(paths):
        interactions.extend(_load_file(file))
    return interactions


def _fail(file: Path, pointer: str, problem: str, expected: str) -> ContractInputError:
    return ContractInputError(
        problem,
        file=file,
        pointer=pointer,
        expected=expected,
        hint="regenerate the pact with a Pact consumer library",
    )


def _load_file(file: Path) -> list[Interaction]:
    data = read_data(file, "a Pact file (JSON)")
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise _fail(file, "/interactions", "not a Pact file", "an 'interactions' list")
    consumer = _name(data, "consumer", file)
    provider = _name(data, "provider", file)
    meta = data.get("metadata") or {}
    spec = (meta.get("pactSpecification") or meta.get("pact-specification") or {}).get(
        "version", "2.0.0"
    )
    major = str(spec).split(".")[0]
    result = []
    for index, raw in enumerate(data["interactions"]):
        pointer = f"/interactions/{index}"
        if not isinstance(raw, dict):
            raise _fail(file, pointer, "interaction is not an object", "an object")
        description = str(raw.get("description", f"interaction {index}"))
        states = tuple(_states(raw))
        kind = str(raw.get("type", "Synchronous/HTTP"))
        if kind != "Synchronous/HTTP" or "request" not in raw:
            result.append(
                Interaction(str(file), index, consumer, provider, description, states, kind)
            )
            continue
        request, response = raw.get("request"), raw.get("response")
        if not isinstance(request, dict) or not isinstance(response, dict):
            raise _fail(file, pointer, "interaction lacks a request or response", "both")
        method = request.get("method")
        path = request.get("path")
        if not isinstance(method, str) or not isinstance(path, str):
            raise _fail(file, pointer + "/request", "request lacks method or path", "strings")
        status = response.get("status")
        if not isinstance(status, int):
            raise _fail(file, pointer + "/response/status", "response status missing", "an integer")
        result.append(
            Interaction(
                file=str(file),
                index=index,
                consumer=consumer,
                provider=provider,
                description=description,
                states=states,
                method=method.upper(),
                path=path,
                query=_query(request.get("query")),
                request=_part(request, major),
                status=status,
                response=_part(response, major),
            )
        )
    return result


def _name(data: dict[str, Any], role: str, file: Path) -> str:
    party = data.get(role)
    if not isinstance(party, dict) or not isinstance(party.get("name"), str):
        raise _fail(file, f"/{role}/name", f"the pact does not name its {role}", "a string")
    return str(party["name"])


def _states(raw: dict[str, Any]) -> list[str]:
    if isinstance(raw.get("providerStates"), list):
        return [str(s.get("name", "")) for s in raw["providerStates"] if isinstance(s, dict)]
    if isinstance(raw.get("providerState"), str):
        return [raw["providerState"]]
    return []


def _query(raw: Any) -> dict[str, list[str]]:
    if isinstance(raw, str):
        return {k: list(v) for k, v in sorted(parse_qs(raw, keep_blank_values=True).items())}
    if isinstance(raw, dict):
        return {
            str(k): [str(x) for x in (v if isinstance(v, list) else [v])]
            for k, v in sorted(raw.items())
        }
    return {}


def _part(raw: dict[str, Any], major: str) -> HttpPart:
    headers = {
        str(k): [str(x) for x in (v if isinstance(v, list) else [v])]
        for k, v in (raw.get("headers") or {}).items()
    }
    body = raw.get("body")
    has_body = "body" in raw
    content_type = None
    if isinstance(body, dict) and major == "4" and "content" in body:
        content_type = body.get("contentType")
        content = body.get("content")
        if isinstance(content, str) and _is_json(content_type) and not body.get("encoded"):
            with suppress(json.JSONDecodeError):
                content = json.loads(content)
        body = content
    if content_type is None:
        for key, values in headers.items():
            if key.lower() == "content-type" and values:
                content_type = values[0]
    rules = MatchingRules.from_pact(raw.get("matchingRules"))
    return HttpPart(
        headers=headers,
        body=body,
        has_body=has_body,
        content_type=content_type,
        body_rules=rules.get("body", MatchingRules()),
        header_rules=rules.get("header", MatchingRules()),
    )


def _is_json(content_type: Any) -> bool:
    return isinstance(content_type, str) and "json" in content_type.lower()
