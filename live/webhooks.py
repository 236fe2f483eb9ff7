"""Vendors' webhooks, brought from where the vendors keep them to the broker.

The forwarder is the courier of ``stripe listen --forward-to``: it calls at each
vendor's webhook feed (the mocks' ``GET /_mock/webhooks``) every few runtime
seconds, takes what was sent since its last round, and hands each event, with its
id and signature as the vendor sent them, to the broker on the vendor's webhook
topic, where the receivers verify, deduplicate and apply it as in the simulator.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from live.broker import Broker
from orchestrator.events import Message, webhook_topic

__all__ = ["Forwarder", "Signer"]

Signer = Callable[[Mapping[str, Any], float], Mapping[str, str]]
"""A sender's seal: ``(payload, now)`` -> the headers of a delivery made at ``now``."""


class Forwarder:
    """Fetches each vendor's new webhooks and hands them to the broker.

    Args:
        feeds: Vendor -> the URL that answers ``{"webhooks": [{"key", "payload",
            "headers"}]}`` with what it sent since the last call.
        broker: Where the events go.
        http: The client to call with.
        every: Runtime seconds between rounds.
        signers: Vendor -> its seal, for a signing vendor's deliveries made again
            (each attempt sealed anew, as the vendor would).
    """

    def __init__(
        self,
        feeds: Mapping[str, str],
        broker: Broker,
        http: httpx.AsyncClient,
        every: float = 5.0,
        signers: Mapping[str, Signer] | None = None,
    ) -> None:
        self.feeds = dict(feeds)
        self.signers = dict(signers or {})
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
                payload = item.get("payload") if isinstance(item, dict) else None
                if not isinstance(payload, dict):
                    self.missed[system] = f"an item without a payload object: {item!r:.80}"
                    continue
                message = Message(
                    webhook_topic(system),
                    str(item.get("key", "")),
                    payload,
                    1,
                    str(payload.get("id", "")),
                    dict(item.get("headers") or {}),
                )
                self.broker.deliver(message, now, self.signers.get(system))
                count += 1
                self.forwarded[system] += 1
        return count

    async def _fetch(self, system: str) -> list[dict[str, Any]]:
        try:
            answer = await self.http.get(self.feeds[system], timeout=10.0)
            answer.raise_for_status()
            return list(answer.json()["webhooks"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            # what a feed answered but did not reach us is lost: noted, and shown
            self.missed[system] = f"{type(exc).__name__}: {exc}"
            return []
