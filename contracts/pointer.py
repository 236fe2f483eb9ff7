"""JSON pointers (RFC 6901): building, escaping and reading them."""

from __future__ import annotations

from typing import Any

_MISSING = object()


def escape_token(token: str | int) -> str:
    """Escape one reference token.

    Args:
        token: A mapping key or list index.

    Returns:
        The token with ``~`` and ``/`` escaped.
    """
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape_token(token: str) -> str:
    """Undo :func:`escape_token`.

    Args:
        token: An escaped reference token.

    Returns:
        The raw mapping key.
    """
    return token.replace("~1", "/").replace("~0", "~")


def join(base: str, *tokens: str | int) -> str:
    """Append raw tokens to a pointer.

    Args:
        base: A pointer such as ``/components/schemas/Order`` (``""`` is the root).
        *tokens: Raw (unescaped) tokens to append.

    Returns:
        The extended pointer.
    """
    if len(tokens) == 1:  # the common case, on the hot path of schema walks
        token = str(tokens[0])
        if "~" in token or "/" in token:
            token = escape_token(token)
        return base + "/" + token
    return base + "".join("/" + escape_token(t) for t in tokens)


def split(pointer: str) -> list[str]:
    """Split a pointer into raw tokens.

    Args:
        pointer: ``""`` or a string starting with ``/``.

    Returns:
        The unescaped tokens.
    """
    if not pointer:
        return []
    return [unescape_token(t) for t in pointer[1:].split("/")]


def child(node: Any, token: str) -> Any:
    """Step into a mapping or list by one raw token, or return a sentinel.

    YAML reads unquoted ``200:`` as an integer key, so digits also try ``int``.

    Args:
        node: The container.
        token: The raw token.

    Returns:
        The child, or :data:`MISSING` when there is none.
    """
    if isinstance(node, dict):
        if token in node:
            return node[token]
        if token.isdigit() and int(token) in node:
            return node[int(token)]
        return _MISSING
    if isinstance(node, list) and token.isdigit() and int(token) < len(node):
        return node[int(token)]
    return _MISSING


MISSING: Any = _MISSING
"""Sentinel returned by :func:`child` when the token leads nowhere."""
