"""Reading OpenAPI documents from YAML or JSON files, with clear errors.

A document is read once, checked to be OpenAPI 3.x, and every ``$ref`` in it is
checked to resolve. Syntax errors name the line and column; structural errors
name the JSON pointer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from contracts.errors import ContractInputError
from contracts.openapi import OpenAPIDocument

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_document(path: Path | str) -> OpenAPIDocument:
    """Read and check an OpenAPI 3.x document from a YAML or JSON file.

    Args:
        path: The file.

    Returns:
        The loaded document, with all ``$ref``s checked.

    Raises:
        ContractInputError: If the file is missing, unreadable, not YAML/JSON, not
            an OpenAPI 3.x document, or has a ``$ref`` that does not resolve.
    """
    file = Path(path)
    if not file.is_file():
        raise ContractInputError(
            "file not found",
            file=file,
            expected="an OpenAPI 3.0 or 3.1 document (.yaml, .yml or .json)",
            hint="check the path",
        )
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractInputError(f"cannot read the file ({exc})", file=file) from None
    data = parse_text(text, file)
    return document_from_data(data, str(file))


def parse_text(text: str, file: Path | str) -> Any:
    """Parse YAML or JSON text, turning syntax errors into a clear message.

    Args:
        text: The file's content.
        file: The file name for messages.

    Returns:
        The parsed data.

    Raises:
        ContractInputError: On a syntax error, naming the line and column.
    """
    if str(file).endswith(".json") or text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ContractInputError(
                f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                file=file,
                expected="a valid JSON document",
                hint="fix the syntax error",
            ) from None
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ContractInputError(
            f"invalid YAML{where}: {problem}",
            file=file,
            expected="a valid YAML document",
            hint="fix the syntax error",
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
