"""JSON over ASGI: the few lines the domain API and the vendor mocks both need.

Reading a request's whole body, answering with a JSON body, and the lifespan
handshake a server (uvicorn, Starlette's test client) begins with.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

__all__ = [
    "Receive",
    "Scope",
    "Send",
    "clip",
    "is_request",
    "lifespan",
    "parse_json",
    "read_body",
    "respond",
]

MESSAGE_LIMIT = 500
"""Characters of an error message at most: a 5 MB bad value is not echoed back."""

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def read_body(receive: Receive) -> bytes:
    """The request's body, all of it (empty if the caller hung up first)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def respond(
    send: Send, status: int, body: Any, headers: Mapping[str, str] | None = None
) -> None:
    """Answer with ``body`` as JSON."""
    raw = json.dumps(body, separators=(",", ":")).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    head += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": raw})


async def lifespan(receive: Receive, send: Send) -> None:
    """Say yes to the server's start-up and shut-down."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def is_request(scope: Scope, receive: Receive, send: Send) -> bool:
    """Whether ``scope`` is an HTTP request; a lifespan scope is answered here."""
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return False
    return bool(scope["type"] == "http")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259 has no NaN or Infinity)")


def parse_json(body: bytes) -> Any:
    """The body as strict JSON.

    Raises:
        ValueError: Not JSON, ``NaN``/``Infinity``, nested too deep, or a number
            too long; the message says which, briefly.
    """
    try:
        return json.loads(body, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None
    except ValueError as exc:
        text = str(exc)
        if "int_max_str_digits" in text or "Exceeds the limit" in text:
            raise ValueError("a number in the JSON has too many digits") from None
        raise ValueError(clip(text)) from None


def clip(message: str, limit: int = MESSAGE_LIMIT) -> str:
    """``message`` cut to ``limit`` characters, saying so."""
    return (
        message if len(message) <= limit else f"{message[:limit]}... ({len(message):,} characters)"
    )
