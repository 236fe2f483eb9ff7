"""The mocks as an ASGI application: real HTTP, real waiting.

``MockApp`` serves one or more vendor mocks. With one server listening on several
ports, it picks the vendor by the port a request came in on (``by_port``); with
one vendor, every request is that vendor's. It waits out each answer's latency on
the mock clock (``latency / time_scale`` real seconds), and a lost answer is never
sent: the request hangs until the caller gives up, as a real lost response does.

Three paths are the mock's own, not the vendor's: ``GET /_mock/health``,
``GET /_mock/webhooks`` (the webhooks the vendor sent so far, then forgotten) and,
when the app has a state handler, Pact's ``POST /_pact/state``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from live.asgi import Receive, Scope, Send, is_request, read_body, respond
from mocks.clock import Clock, WallClock
from mocks.vendor import VendorMock

__all__ = ["LOST_HOLD", "MockApp"]


States = Callable[[str, str, Mapping[str, Any]], VendorMock]
"""A Pact provider-state handler: ``(system, state, params)`` -> a fresh vendor mock."""

LOST_HOLD = 300.0
"""Real seconds a lost answer holds the connection, at most, before closing it."""


class MockApp:
    """Vendor mocks behind one ASGI callable.

    Args:
        mocks: The vendor mocks, by system name.
        clock: The mocks' clock (its time scale turns mock latency into real waits).
        by_port: Local port -> system, when one server listens on several ports.
        states: Sets up a Pact provider state: ``(system, state, params)`` -> the
            vendor mock to answer from now on (``POST /_pact/state``); None: no
            state-change endpoint.
    """

    def __init__(
        self,
        mocks: Mapping[str, VendorMock],
        clock: Clock,
        by_port: Mapping[int, str] | None = None,
        states: States | None = None,
    ) -> None:
        self.mocks = dict(mocks)
        self.clock = clock
        self.by_port = dict(by_port or {})
        self.states = states
        self.scale = clock.time_scale if isinstance(clock, WallClock) else None
        self.answered = 0  # vendor requests, whichever model (a Pact state's) answered

    def vendor_for(self, scope: Scope) -> VendorMock | None:
        """The vendor a request is for: by its port, or the only one."""
        if len(self.mocks) == 1:
            return next(iter(self.mocks.values()))
        server = scope.get("server") or ("", 0)
        system = self.by_port.get(int(server[1] or 0))
        return self.mocks.get(system) if system else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not await is_request(scope, receive, send):
            return
        mock = self.vendor_for(scope)
        if mock is None:
            await respond(send, 404, {"code": "NOT_FOUND", "message": "no vendor on this port"})
            return
        body = await read_body(receive)
        path: str = scope["path"]
        if path == "/_pact/state" and self.states is not None:
            await self._state(mock, body, send)
            return
        if path.startswith("/_mock/"):
            await self._own(mock, scope["method"], path, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        self.answered += 1
        now = self.clock.tick()
        answer = mock.handle(scope["method"], path, query, headers, body, now)
        try:
            await self._wait(answer.latency)
        finally:
            answer.done()
        if answer.lost:
            await _hold(receive)  # the work is done; the answer never leaves
            return
        await respond(send, answer.status, answer.body, answer.headers)

    async def _wait(self, latency: float) -> None:
        if self.scale is not None and latency > 0:
            await asyncio.sleep(latency / self.scale)

    async def _state(self, mock: VendorMock, body: bytes, send: Send) -> None:
        """Pact's state change: ``{"state", "params", "action"}``; setup replaces the
        vendor's model by the one the state describes."""
        assert self.states is not None
        try:
            change = json.loads(body or b"{}")
            if change.get("action", "setup") == "setup":
                params = change.get("params") or {}
                self.mocks[mock.name] = self.states(mock.name, str(change.get("state")), params)
        except (ValueError, KeyError, TypeError) as exc:
            await respond(send, 400, {"code": "INVALID_STATE", "message": str(exc)})
            return
        await respond(send, 200, {})

    async def _own(self, mock: VendorMock, method: str, path: str, send: Send) -> None:
        if method != "GET":
            why = {"code": "METHOD_NOT_ALLOWED", "message": f"{path} answers GET only"}
            await respond(send, 405, why, {"Allow": "GET"})
        elif path == "/_mock/health":
            health = {
                "vendor": mock.name,
                "requests": mock.requests,
                "now": self.clock.now(),
                "time_scale": self.scale,
            }
            await respond(send, 200, health)
        elif path == "/_mock/webhooks":
            self.clock.tick()  # what fell due since the last request is sent by now
            sent, mock.webhooks = mock.webhooks, []
            await respond(send, 200, {"webhooks": sent})
        else:
            await respond(send, 404, {"code": "NOT_FOUND", "message": f"no mock page {path}"})


async def _hold(receive: Receive) -> None:
    """Keep the connection open, unanswered, until the caller hangs up (or a cap)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(LOST_HOLD):
            message = await receive()
            while message["type"] != "http.disconnect":
                message = await receive()
