"""Reading YAML with line numbers, and turning validation errors into advice.

A validation error is only useful if it reads like a colleague's code review:
"line 14, ``systems.erp.latency.p50``: expected a duration such as '250ms', got
'fast'". This module keeps, for every field path, the line it was written on, and
phrases pydantic's errors that way.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from contracts.safeload import UnsafeInput, parse, read_text

__all__ = ["ScenarioError", "read_yaml", "validate"]

M = TypeVar("M", bound=BaseModel)
Lines = dict[tuple[str | int, ...], int]
"""Field path -> 1-based line number in the file."""
MAX_LISTED = 10


class ScenarioError(Exception):
    """A scenario file that cannot be used; the message says where and why."""


def read_yaml(path: Path) -> tuple[Any, Lines]:
    """Parse ``path`` and note the line of every field.

    Raises:
        ScenarioError: The file is missing, unreadable, or not valid YAML.
    """
    try:
        text = read_text(path)
        parsed = parse(text, json_first=False)
    except FileNotFoundError:
        raise ScenarioError(
            f"{path}: no such file; pass the path of a scenario YAML file "
            "(bundled ones are in scenarios/)"
        ) from None
    except IsADirectoryError:
        raise ScenarioError(f"{path}: is a folder; pass the path of a scenario YAML file") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    except UnsafeInput as exc:
        where = f"{path}:{exc.line}" if exc.line else str(path)
        if exc.column and exc.line:
            where += f":{exc.column}"
        advice = "; ".join(part for part in (exc.hint,) if part)
        raise ScenarioError(f"{where}: {exc.problem}" + (f"; {advice}" if advice else "")) from None
    data, node = parsed.data, parsed.root
    lines: Lines = {}
    if node is not None:
        _note_lines(node, (), lines)
    return data, lines


def _note_lines(node: yaml.Node, path: tuple[str | int, ...], lines: Lines) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            lines[child] = key.start_mark.line + 1
            _note_lines(value, child, lines)
            lines[child] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _note_lines(item, (*path, index), lines)


def validate(model: type[M], data: Any, path: Path, lines: Lines) -> M:
    """Validate ``data`` as ``model``.

    Raises:
        ScenarioError: One message listing every problem with its line and field.
    """
    if data is None:
        raise ScenarioError(
            f"{path}:1: the file is empty; a scenario needs at least name and "
            "workload.arrivals_per_hour (see scenarios/ for complete examples)"
        )
    if not isinstance(data, Mapping):
        raise ScenarioError(
            f"{path}:1: expected a mapping of scenario fields at the top level "
            f"(name, workload, systems, ...), got {type(data).__name__}"
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        found = [_describe(model, err, path, lines) for err in exc.errors()]
    problems = [text for _, text in sorted(found, key=lambda item: item[0])]
    shown = problems[:MAX_LISTED]
    if len(problems) > MAX_LISTED:
        shown.append(f"... and {len(problems) - MAX_LISTED} more")
    advice = f"fix the file, then check it with: lifecycle-sandbox validate {path}"
    count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
    return _raise(f"{path}: {count}:\n  " + "\n  ".join(shown) + f"\n{advice}")


class Misplaced(ValueError):
    """A problem that a check across fields found, and the field to blame for it.

    A model validator sees the whole scenario, so pydantic files what it raises
    under "(top level)"; raising this instead points the message at ``field``.
    """

    def __init__(self, field: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.field = field


def _raise(message: str) -> typing.NoReturn:
    raise ScenarioError(message)


def _describe(model: type[BaseModel], err: Any, path: Path, lines: Lines) -> tuple[int, str]:
    loc = tuple(part for part in err["loc"] if not _is_tag(part))
    cause = err.get("ctx", {}).get("error")
    if isinstance(cause, Misplaced):
        loc = (*loc, *cause.field)
    line = _line_of(loc, lines)
    return line, _explain(model, err, loc, f"line {line}: " if line else "")


def _explain(model: type[BaseModel], err: Any, loc: tuple[str | int, ...], where: str) -> str:
    field = ".".join(str(part) for part in loc) or "(top level)"
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = _fields_at(model, loc[:-1])
        name = str(loc[-1])
        hint = difflib.get_close_matches(name, allowed, n=1)
        guess = f" (did you mean {hint[0]!r}?)" if hint else ""
        return (
            f"{where}{field}: unknown field {name!r}{guess}; expected one of: {', '.join(allowed)}"
        )
    if kind == "missing":
        return f"{where}{field}: missing required field"
    message = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    message = re.sub(r" or instance of \w+", "", message)  # our class names mean nothing here
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        got = err.get("input")
        return f"{where}{field}: expected a mapping (key: value lines), got {_kind_of(got)}"
    message = message[:1].lower() + message[1:]  # pydantic capitalises; we write in-line
    if kind in ("float_parsing", "float_type", "int_parsing", "int_type"):
        low, high = _bounds(model, loc)
        if low is not None and high is not None:
            message = f"expected a number from {low:g} to {high:g}"
    got = err.get("input")
    shown = "" if isinstance(got, Mapping | list) or "got" in message else f", got {got!r}"
    return f"{where}{field}: {message}{shown}"


def _kind_of(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return repr(value)


def _is_tag(part: str | int) -> bool:
    # pydantic adds validator and union-member names to error locations
    return isinstance(part, str) and ("[" in part or part in {"function-after", "tuple"})


def _line_of(loc: tuple[str | int, ...], lines: Lines) -> int:
    for end in range(len(loc), -1, -1):
        line = lines.get(loc[:end])
        if line:
            return line
    return 0


def _bounds(model: type[BaseModel], loc: Sequence[str | int]) -> tuple[float | None, float | None]:
    """The ``ge``/``le`` bounds of the field at ``loc`` (None where it has none)."""
    if not loc:
        return None, None
    owner = _unwrap(_annotation_at(model, loc[:-1]))
    if not (isinstance(owner, type) and issubclass(owner, BaseModel)):
        return None, None
    info = owner.model_fields.get(str(loc[-1]))
    low = high = None
    for rule in info.metadata if info is not None else ():
        low = getattr(rule, "ge", low)
        high = getattr(rule, "le", high)
    return low, high


def _fields_at(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    current = _unwrap(_annotation_at(model, loc))
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _annotation_at(model: type[BaseModel], loc: Sequence[str | int]) -> Any:
    """The type annotation found by following ``loc`` from ``model`` (None if lost)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(part))
            if info is None:
                return None
            current = info.annotation
        else:
            origin = get_origin(current)
            args = get_args(current)
            if origin in (list, tuple, Sequence) and args:
                current = args[0]
            elif origin is dict and len(args) == 2:
                current = args[1]
            else:
                return None
    return current


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            options = [a for a in get_args(annotation) if a is not type(None)]
            annotation = options[0] if len(options) == 1 else annotation
            if len(options) != 1:
                return annotation
        else:
            return annotation
