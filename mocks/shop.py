"""The systems of a scenario (its five vendors, and its order store), opened for
business over HTTP.

``open_vendors`` builds the scenario's simulated world (so the vendors are the
simulator's models, seeded with the same CRM accounts and price lists and behind
the same weather), then rewires what the simulator drives: each vendor's clockwork
runs on the mocks' clock, and the webhooks it sends (each with its id, creation
time and, from a signing vendor, its signature) are kept for the caller to collect
(``VendorMock.webhooks``) instead of going to the simulated broker.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from contracts.conformance import Conformance
from mocks.clock import Clock
from mocks.vendor import DOCUMENTS, VendorMock, document_path
from orchestrator.signatures import HEADER, sign
from sim.delivery import SIGNED
from sim.faults import ScriptedFault
from sim.knobs import Webhooks
from sim.scenario import VENDORS, Scenario
from sim.world import World

__all__ = ["SERVABLE", "open_vendors", "port_of", "served"]

SERVABLE = tuple(DOCUMENTS)
"""Every system a mock can serve, in registry order: the five vendors, then the
orchestrator's own order store (``oms``)."""


def port_of(system: str, port_base: int) -> int:
    """Where ``mocks serve --port-base`` puts ``system``: system n (in ``SERVABLE``'s
    order) on ``port_base + n``."""
    return port_base + 1 + SERVABLE.index(system)


def served(scenario: Scenario) -> tuple[str, ...]:
    """The systems of ``scenario`` a mock serves: the five vendors, and ``oms`` when
    the scenario has one (the outbox pattern and the webhook receivers need it)."""
    return tuple(name for name in SERVABLE if name in VENDORS or scenario.has(name))


def open_vendors(
    scenario: Scenario,
    clock: Clock,
    seed: int | None = None,
    systems: tuple[str, ...] | None = None,
    validate_responses: bool = True,
    script: Mapping[str, Mapping[int, ScriptedFault]] | None = None,
) -> dict[str, VendorMock]:
    """Every system of ``scenario`` as a ``VendorMock`` (by system name).

    Args:
        scenario: The scenario: vendors' knobs, accounts, price lists.
        clock: The mocks' clock.
        seed: The seed (the scenario's by default).
        systems: Which systems to open (default: ``served(scenario)``).
        validate_responses: Check every answer against the document.
        script: System -> (request number -> fault), as in the simulator: the same
            plan gives the same faults in both runtimes.

    Raises:
        KeyError: A system that has no document, or that the scenario has not.
    """
    world = World(scenario, scenario.seed if seed is None else seed, script=script)
    found = {}
    for system in served(scenario) if systems is None else systems:
        if system not in DOCUMENTS or system not in world.vendors:
            raise KeyError(system)
        mock = VendorMock(
            world.lines[system].faults,
            Conformance.load(document_path(system)),
            validate_responses,
        )
        vendor = world.vendors[system]
        vendor.later = clock.later
        if vendor.outlet is not None:
            vendor.outlet = _collector(mock, scenario.knobs(system).webhooks)
        found[system] = mock
    return found


def _collector(mock: VendorMock, hooks: Webhooks | None) -> Any:
    """A webhook sender that keeps each event, enveloped and signed as the vendor
    sends it, for the caller to collect (``GET /_mock/webhooks``)."""
    numbers = itertools.count(1)
    secret = hooks.secret if hooks is not None and mock.name in SIGNED else None

    def send(event_type: str, key: str, data: dict[str, Any], now: float) -> None:
        payload = {
            "id": f"evt_{mock.name}_{next(numbers)}",
            "type": event_type,
            "created": now,
            "data": data,
        }
        headers = {HEADER: sign(secret, now, payload)} if secret is not None else {}
        mock.webhooks.append({"key": key, "payload": payload, "headers": headers})

    return send
