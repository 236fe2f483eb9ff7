"""Vendors' webhooks, brought from where the vendors keep them to the broker.

The forwarder is the courier of ``stripe listen --forward-to``: it calls at each
vendor's webhook feed (the mocks' ``GET /_mock/webhooks``) every few runtime
seconds, takes what was sent since its last round, and hands each event, with its
id and signature as the vendor sent them, to the broker on the vendor's webhook
topic, where the receivers verify, deduplicate and apply it as in the simulator.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx

from live.broker import Broker
from orchestrator.events import Message, webhook_topic

__all__ = ["Forwarder"]


class Forwarder:
    """Fetches each vendor's new webhooks and hands them to the broker.

    Args:
        feeds: Vendor -> the URL that answers ``{"webhooks": [{"key", "payload",
            "headers"}]}`` with what it sent since the last call.
        broker: Where the events go.
        http: The client to call with.
        every: Runtime seconds between rounds.
    """

    def __init__(
        self,
        feeds: Mapping[str, str],
        broker: Broker,
        http: httpx.AsyncClient,
        every: float = 5.0,
    ) -> None:
        self.feeds = dict(feeds)
        self.broker = broker
        self.http = http
        self.every = every
        self.forwarded: dict[str, int] = dict.fromkeys(self.feeds, 0)
        self.missed: dict[str, str] = {}

    async def run(self) -> None:
        """Make rounds until cancelled."""
        scale = self.broker.runtime.time_scale
        while True:
            await self.round()
            await asyncio.sleep(self.every / scale)

    async def round(self) -> int:
        """One round of every feed; how many events it forwarded."""
        found = await asyncio.gather(*(self._fetch(system) for system in self.feeds))
        now = self.broker.runtime.now()
        count = 0
        for system, sent in zip(self.feeds, found, strict=True):
            for item in sent:
                payload = item["payload"]
                message = Message(
                    webhook_topic(system),
                    str(item["key"]),
                    payload,
                    1,
                    str(payload.get("id", "")),
                    dict(item.get("headers") or {}),
                )
                self.broker.deliver(message, now)
                count += 1
            self.forwarded[system] += len(sent)
        return count

    async def _fetch(self, system: str) -> list[dict[str, Any]]:
        try:
            answer = await self.http.get(self.feeds[system], timeout=10.0)
            answer.raise_for_status()
            return list(answer.json()["webhooks"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            # a vendor keeps what it could not hand over: the next round asks again
            self.missed[system] = f"{type(exc).__name__}: {exc}"
            return []
