"""The lifecycle's properties, read off the vendors' records after a run has drained.

Like a notary checking each amendment of a contract against every copy held: an
amendment that says it was applied must be in billing and in the ERP's books; one
that was undone, refused or failed must be in neither; no amendment may be booked
twice; and provisioning's seats must end at billing's newest version. Differences
that an escalation explains (people were told) are not violations.
"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import TYPE_CHECKING

from orchestrator.workflows.amendment import DECLARED
from sim.leakage import leakage

if TYPE_CHECKING:
    from sim.world import World

__all__ = ["amendment_violations", "seat_order_violations", "unexplained_drift"]


def amendment_violations(world: World) -> list[str]:
    """Amendments whose records disagree with how they ended, or that never ended."""
    books, billing, erp = world.recorder.books[DECLARED.prefix], world.billing, world.erp
    problems = [f"{wf}: never ended" for wf in books.running]
    open_changes = Counter(c.amendment_id for c in erp.change_orders.values() if c.status == "open")
    problems += [f"{wf}: {n} open change orders" for wf, n in open_changes.items() if n > 1]
    for wf, ending in books.ended.items():
        held = billing.amendments.get(wf)
        in_billing = held is not None and not held.reverted
        in_erp = open_changes[wf] > 0
        if ending == "applied" and not (in_billing and in_erp):
            problems.append(f"{wf}: applied, billing holds it {in_billing}, the ERP {in_erp}")
        if ending in ("compensated", "rejected", "failed") and (in_billing or in_erp):
            problems.append(f"{wf}: {ending}, billing holds it {in_billing}, the ERP {in_erp}")
        if ending == "abandoned":
            problems.append(f"{wf}: abandoned without compensation")
    return problems


def unexplained_drift(world: World) -> dict[str, object]:
    """Money or seats that differ between billing, the ERP and provisioning with no
    unfinished workflow to explain it (empty when the books agree)."""
    found = leakage(world.billing, world.erp, world.provisioning, world.causes())
    money = found["revenue_leakage"]["by_cause"]
    seats = found["entitlement_drift"]["by_cause"]
    drift: dict[str, object] = {}
    for cause in ("unexplained", "amendment abandoned", "order abandoned"):
        if money.get(cause):
            drift[f"money, {cause}"] = money[cause]
        if seats.get(cause):
            drift[f"seats, {cause}"] = seats[cause]
    return drift


def seat_order_violations(world: World) -> list[str]:
    """Entitlements that took a seat count from an older billing version after a newer."""
    problems = []
    for ent_id, versioned in world.provisioning.sources.items():
        taken = [v for source, v in versioned.applied if source == "billing.subscription.seats"]
        for before, after in itertools.pairwise(taken):
            if after < before:
                problems.append(f"{ent_id}: seats from version {after} after {before}")
                break
    return problems
