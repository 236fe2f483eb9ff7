"""The five vendors of a scenario, opened for business over HTTP.

``open_vendors`` builds the scenario's simulated world (so the vendors are the
simulator's models, seeded with the same CRM accounts and price lists and behind
the same weather), then rewires what the simulator drives: each vendor's clockwork
runs on the mocks' clock, and the webhooks it sends are kept for the caller to
collect (``VendorMock.webhooks``) instead of going to the simulated broker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.conformance import Conformance
from mocks.clock import Clock
from mocks.vendor import DOCUMENTS, VendorMock, document_path
from sim.faults import ScriptedFault
from sim.scenario import VENDORS, Scenario
from sim.world import World

__all__ = ["open_vendors"]


def open_vendors(
    scenario: Scenario,
    clock: Clock,
    seed: int | None = None,
    systems: tuple[str, ...] = VENDORS,
    validate_responses: bool = True,
    script: Mapping[str, Mapping[int, ScriptedFault]] | None = None,
) -> dict[str, VendorMock]:
    """Every vendor of ``scenario`` as a ``VendorMock`` (by system name).

    Args:
        scenario: The scenario: vendors' knobs, accounts, price lists.
        clock: The mocks' clock.
        seed: The seed (the scenario's by default).
        systems: Which vendors to open.
        validate_responses: Check every answer against the document.
        script: System -> (request number -> fault), as in the simulator: the same
            plan gives the same faults in both runtimes.

    Raises:
        KeyError: A system that has no document.
    """
    world = World(scenario, scenario.seed if seed is None else seed, script=script)
    found = {}
    for system in systems:
        if system not in DOCUMENTS:
            raise KeyError(system)
        mock = VendorMock(
            world.lines[system].faults,
            Conformance.load(document_path(system)),
            validate_responses,
        )
        vendor = world.vendors[system]
        vendor.later = clock.later
        if vendor.outlet is not None:
            vendor.outlet = _collector(mock)
        found[system] = mock
    return found


def _collector(mock: VendorMock) -> Any:
    """A webhook sender that keeps each event for the caller to collect."""

    def send(event_type: str, key: str, data: dict[str, Any], now: float) -> None:
        mock.webhooks.append({"type": event_type, "key": key, "created": now, "data": data})

    return send
