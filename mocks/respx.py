"""The mocks inside a test's own httpx client, with no server at all (respx).

For a user's unit tests of their own integration code::

    with vendor_router(scenario, "billing") as router:
        reply = httpx.post(f"{router.base_urls['billing']}/v1/subscriptions", json=...)

Requests to the vendors' base URLs (their documents' servers, or ``base_urls``) are
answered by the same vendor mocks the HTTP server uses: routes, validation, weather
and models. Time stands still unless the test moves it (``router.clock.advance``):
latency is not waited for; a lost answer raises ``httpx.ReadTimeout``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
import respx

from mocks.clock import Clock, ManualClock
from mocks.shop import open_vendors
from mocks.vendor import VendorMock
from sim.faults import ScriptedFault
from sim.scenario import Scenario

__all__ = ["VendorRouter", "vendor_router"]


class VendorRouter(respx.MockRouter):
    """A respx router answering for vendor mocks.

    Attributes:
        mocks: The vendor mocks, by system name.
        clock: Their clock.
        base_urls: System -> the base URL it answers at.
    """

    mocks: dict[str, VendorMock]
    clock: Clock
    base_urls: dict[str, str]


@contextmanager
def vendor_router(
    scenario: Scenario,
    *systems: str,
    base_urls: Mapping[str, str] | None = None,
    clock: Clock | None = None,
    seed: int | None = None,
    script: Mapping[str, Mapping[int, ScriptedFault]] | None = None,
) -> Iterator[VendorRouter]:
    """Answer httpx requests to ``systems`` from vendor mocks (by default the five
    vendors, and the order store when the scenario has one).

    Args:
        scenario: The scenario (knobs, accounts, price lists).
        systems: The vendors to mock.
        base_urls: System -> base URL; by default each document's first server.
        clock: The mocks' clock; a ``ManualClock`` at 0 by default.
        seed: The seed (the scenario's by default).
        script: System -> (request number -> fault), as in the simulator.

    Raises:
        KeyError: A system with no document, or one the scenario has not.
    """
    clock = clock or ManualClock()
    mocks = open_vendors(scenario, clock, seed, systems or None, script=script)
    router = VendorRouter(assert_all_called=False, assert_all_mocked=True)
    router.mocks, router.clock, router.base_urls = mocks, clock, {}
    for system, mock in mocks.items():
        servers = mock.conformance.document.data.get("servers") or [{"url": ""}]
        base = (base_urls or {}).get(system) or str(servers[0]["url"])
        router.base_urls[system] = base.rstrip("/")
        # by the whole base URL: two vendors may share a host (different ports, paths)
        route = router.route(url__startswith=router.base_urls[system])
        route.mock(side_effect=_answer(mock, clock))
    with router:
        yield router


def _answer(mock: VendorMock, clock: Clock) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        query = {k: v for k, v in request.url.params.multi_items()}
        headers = {k.lower(): v for k, v in request.headers.items()}
        found = mock.handle(
            request.method, request.url.path, query, headers, request.content, clock.tick()
        )
        found.done()
        if found.lost:
            raise httpx.ReadTimeout("the answer was lost (the work was done)", request=request)
        return httpx.Response(found.status, json=found.body, headers=found.headers)

    return answer
