"""Reading OpenAPI documents from YAML or JSON files, with clear errors.

A document is read once through :mod:`contracts.safeload` (size, alias, nesting
and duplicate-key limits), checked to be OpenAPI 3.x, and every ``$ref`` in it is
checked to resolve to a definition (a chain of references that loops without
reaching one is refused here, so ``diff`` and ``gate`` accept exactly the same
documents). Syntax errors name the line and column; structural errors name the
JSON pointer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contracts.collector import collector_paused
from contracts.errors import ContractInputError
from contracts.openapi import OpenAPIDocument
from contracts.safeload import DEFAULT_LIMITS, Limits, UnsafeInput, parse, read_text


def load_document(path: Path | str, limits: Limits = DEFAULT_LIMITS) -> OpenAPIDocument:
    """Read and check an OpenAPI 3.x document from a YAML or JSON file.

    Args:
        path: The file.
        limits: Size, alias and nesting limits (see :mod:`contracts.safeload`).

    Returns:
        The loaded document, with all ``$ref``s checked.

    Raises:
        ContractInputError: If the file is missing, unreadable, too large, binary,
            not YAML/JSON, hostile (alias bomb, deep nesting, duplicate keys), not an
            OpenAPI 3.x document, or has a ``$ref`` that does not resolve.
    """
    with collector_paused():
        data = read_data(
            path, "an OpenAPI 3.0 or 3.1 document (.yaml, .yml or .json)", limits=limits
        )
        return document_from_data(data, str(path))


def read_data(path: Path | str, expected: str, *, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Read a YAML or JSON file through the safe loader, turning problems into one message.

    Args:
        path: The file.
        expected: What the file should be, for the "file not found" message.
        limits: Size, alias and nesting limits.

    Returns:
        The parsed data.

    Raises:
        ContractInputError: Naming the file and, where known, the line.
    """
    file = Path(path)
    if not file.is_file():
        raise ContractInputError(
            "file not found" if not file.exists() else "not a file",
            file=file,
            expected=expected,
            hint="check the path",
        )
    try:
        text = read_text(file, limits)
        json_first = file.suffix.lower() == ".json" or text.lstrip().startswith("{")
        return parse(text, json_first=json_first, limits=limits).data
    except UnsafeInput as exc:
        raise ContractInputError(
            exc.problem, file=file, line=exc.line, expected=exc.expected, hint=exc.hint
        ) from None
    except OSError as exc:
        raise ContractInputError(
            f"cannot read the file ({exc.strerror or exc})", file=file
        ) from None


def document_from_data(data: Any, source: str) -> OpenAPIDocument:
    """Check parsed data is an OpenAPI 3.x document and wrap it.

    Args:
        data: Parsed YAML/JSON.
        source: A name for messages.

    Returns:
        The document, with all ``$ref``s checked.

    Raises:
        ContractInputError: If it is not OpenAPI 3.x or a ``$ref`` does not resolve.
    """
    if not isinstance(data, dict):
        raise ContractInputError(
            "not an OpenAPI document (the top level is not a mapping)",
            file=source,
            pointer="",
            expected="a mapping with 'openapi: 3.x' and 'paths'",
        )
    version = data.get("openapi")
    if version is None:
        found = "a Swagger 2.0 document" if "swagger" in data else "no 'openapi' field"
        raise ContractInputError(
            f"not an OpenAPI 3 document ({found})",
            file=source,
            pointer="/openapi",
            expected="'openapi: 3.0.x' or 'openapi: 3.1.x'",
            hint="convert Swagger 2.0 documents to OpenAPI 3 first",
        )
    if not str(version).startswith("3."):
        raise ContractInputError(
            f"unsupported OpenAPI version {version!r}",
            file=source,
            pointer="/openapi",
            expected="'3.0.x' or '3.1.x'",
        )
    paths = data.get("paths", {})
    if not isinstance(paths, dict):
        raise ContractInputError(
            "'paths' is not a mapping", file=source, pointer="/paths", expected="a mapping"
        )
    document = OpenAPIDocument(data, source)
    document.check_references()
    return document
