"""Serving the mocks on 127.0.0.1: one uvicorn server, one port per vendor.

``listen`` binds the ports first (only 127.0.0.1; a port in use is refused before
anything starts), ``serve`` runs until Ctrl-C, and ``serving`` runs the same server
in a background thread for as long as a ``with`` block lasts (tests, benchmarks,
the live runtime's own demos).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from urllib.parse import urlsplit

import uvicorn

from mocks.asgi import MockApp, States
from mocks.clock import Clock
from mocks.vendor import VendorMock

__all__ = ["HOST", "PortBusy", "base_urls", "listen", "root_of", "serve", "serving"]

HOST = "127.0.0.1"
"""The only address the mocks bind to."""


class PortBusy(Exception):
    """A port the mocks were to listen on is taken."""


def listen(ports: Mapping[str, int], flag: str = "--port-base") -> dict[str, socket.socket]:
    """A listening socket on 127.0.0.1 per vendor (port 0: a free one); ``flag`` is
    the option a refusal tells the user to change.

    Raises:
        PortBusy: A port is in use (no socket is left open).
    """
    found: dict[str, socket.socket] = {}
    for system, port in ports.items():
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say TCP,
        # and without it every answer waits 40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            sock.close()
            for opened in found.values():
                opened.close()
            raise PortBusy(
                f"{system}: port {port} on {HOST} is taken ({exc.strerror}); choose "
                f"another {flag}, or {flag} 0 for free ports"
            ) from exc
        sock.listen(256)
        sock.setblocking(False)
        found[system] = sock
    return found


def root_of(url: str) -> str:
    """``scheme://host:port`` of a base URL: where the mocks' own pages are."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def base_urls(
    mocks: Mapping[str, VendorMock], sockets: Mapping[str, socket.socket]
) -> dict[str, str]:
    """Each vendor's base URL: its port, and its document's server path."""
    return {
        system: f"http://{HOST}:{sockets[system].getsockname()[1]}{mock.base_path}"
        for system, mock in mocks.items()
    }


def _server(
    mocks: Mapping[str, VendorMock],
    clock: Clock,
    sockets: Mapping[str, socket.socket],
    states: States | None = None,
) -> uvicorn.Server:
    by_port = {sock.getsockname()[1]: system for system, sock in sockets.items()}
    app = MockApp(mocks, clock, by_port, states)
    config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)
    return uvicorn.Server(config)


def serve(
    mocks: Mapping[str, VendorMock],
    clock: Clock,
    sockets: Mapping[str, socket.socket],
    states: States | None = None,
    served: list[MockApp] | None = None,
) -> None:
    """Serve until interrupted (Ctrl-C stops the server cleanly); ``states`` answers
    Pact's ``POST /_pact/state``, if given; ``served`` is handed the app (its
    ``answered`` counts the requests, whichever models answered them)."""
    server = _server(mocks, clock, sockets, states)
    if served is not None:
        app = server.config.app
        assert isinstance(app, MockApp)
        served.append(app)
    asyncio.run(server.serve(sockets=list(sockets.values())))


@contextmanager
def serving(
    mocks: Mapping[str, VendorMock],
    clock: Clock,
    ports: Mapping[str, int] | None = None,
    states: States | None = None,
) -> Iterator[dict[str, str]]:
    """Serve in a background thread while the block runs; yields the base URLs.

    Args:
        mocks: The vendor mocks.
        clock: Their clock.
        ports: Vendor -> port; free ports by default.
        states: A Pact provider-state handler (``POST /_pact/state``), if any.
    """
    sockets = listen(ports or dict.fromkeys(mocks, 0))
    server = _server(mocks, clock, sockets, states)
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve(sockets=list(sockets.values()))),
        name="mocks",
        daemon=True,
    )
    thread.start()
    try:
        urls = base_urls(mocks, sockets)
        _wait_until_up(server, thread)
        yield urls
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        for sock in sockets.values():
            sock.close()


def _wait_until_up(server: uvicorn.Server, thread: threading.Thread) -> None:
    for _ in range(500):
        if server.started or not thread.is_alive():
            return
        threading.Event().wait(0.01)
