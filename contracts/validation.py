"""Validating example values against a document's schemas with ``jsonschema``.

The whole document is registered once as a ``referencing`` resource, so a schema
is validated in place through a ``$ref`` to its JSON pointer and every ``$ref``
inside it resolves against the document, recursive schemas included. The
validator classes come from ``openapi-schema-validator`` (OpenAPI's dialects:
3.0 ``nullable``/``readOnly``/``writeOnly``, 3.1 JSON Schema 2020-12).
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

from openapi_schema_validator import (
    OAS30ReadValidator,
    OAS30WriteValidator,
    OAS31Validator,
    oas30_format_checker,
    oas31_format_checker,
)
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

from contracts.openapi import OpenAPIDocument
from contracts.schema import SchemaReader, SchemaRef

_URI = "urn:lifecycle-sandbox:document"

Mode = Literal["read", "write"]


class DocumentCheck:
    """Base of the request and response checks: one candidate document and its validation.

    Args:
        document: The candidate document.
        validation: Schema validation for it.
    """

    def __init__(self, document: OpenAPIDocument, validation: Validation) -> None:
        self.document = document
        self.validation = validation
        self.reader = SchemaReader(document)


class Validation:
    """Validates instances against schemas of one document.

    Args:
        document: The document.
    """

    def __init__(self, document: OpenAPIDocument) -> None:
        self.document = document
        specification = DRAFT202012 if document.version == "3.1" else DRAFT4
        resource: Resource[Any] = specification.create_resource(document.data)
        self._registry: Registry[Any] = Registry().with_resource(_URI, resource)
        self._reader = SchemaReader(document)
        self._validators: dict[tuple[str, Mode], Any] = {}

    def errors(self, schema: SchemaRef, instance: Any, mode: Mode) -> list[Any]:
        """Validation errors of ``instance`` against the schema at ``schema``.

        Args:
            schema: Where the schema is (its pointer is what counts).
            instance: The value to validate.
            mode: ``write`` for requests (``readOnly`` properties are not required),
                ``read`` for responses (``writeOnly`` ones are not).

        Returns:
            The errors, in a stable order (by instance path, then keyword).
        """
        found = list(self._validator(schema.pointer, mode).iter_errors(instance))
        return sorted(found, key=lambda e: (_path_key(e), str(e.validator), e.message))

    def _validator(self, pointer: str, mode: Mode) -> Any:
        """The validator of the schema at ``pointer``, made once (the mocks validate
        every request and answer with the same few)."""
        validator = self._validators.get((pointer, mode))
        if validator is None:
            wrapper = {"$ref": f"{_URI}#{quote(pointer, safe='/~')}"}
            if self.document.version == "3.1":
                validator = OAS31Validator(
                    wrapper, registry=self._registry, format_checker=oas31_format_checker
                )
            else:
                cls = OAS30WriteValidator if mode == "write" else OAS30ReadValidator
                validator = cls(
                    wrapper, registry=self._registry, format_checker=oas30_format_checker
                )
            self._validators[(pointer, mode)] = validator
        return validator

    def schema_at(self, root: SchemaRef, location: tuple[str | int, ...]) -> SchemaRef | None:
        """The schema that describes the value at ``location`` under ``root``.

        Args:
            root: The schema of the whole instance.
            location: Keys and indices from the instance root.

        Returns:
            The (flattened) schema there, or ``None`` if the schema does not say.
        """
        current: SchemaRef | None = root
        for step in location:
            if current is None:
                return None
            facts = self._reader.facts(current)
            if isinstance(step, int):
                current = facts.items
            else:
                current = facts.properties.get(step)
                if current is None and isinstance(facts.additional, SchemaRef):
                    current = facts.additional
        return current

    def pointer_of(self, ref: SchemaRef) -> str:
        """The pointer of the schema ``ref`` resolves to.

        Args:
            ref: A schema reference.

        Returns:
            The resolved schema's pointer.
        """
        return self._reader.facts(ref).pointer


def _path_key(error: Any) -> str:
    return "/".join(str(p) for p in error.absolute_path)
