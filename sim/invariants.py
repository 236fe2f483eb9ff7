"""The properties every run must satisfy, checked against the vendors' records.

These are the inspector's checklist, read off the vendors' own books rather than
the orchestrator's beliefs: a workflow that *thinks* it compensated proves
nothing; a sales order marked cancelled in the ERP does. Each function returns
the violations it finds, as sentences; an empty list means the property holds.

1. Saga outcome: a deal that went live has every step committed; any other
   ended deal has nothing left committed, undone in reverse commit order.
   (Escalated deals are in the manual queue and are exempt.)
2. One effect per step: however many retries and redeliveries, each deal has at
   most one sales order, subscription, entitlement, onboarding case and invoice.
3. Concurrency: no vendor ever worked on more calls at once than its limit.
4. Retry-After: no throttled call came back before the time the vendor gave.

The event properties (``sim.event_invariants``) read the broker's books and the
vendors' records after a world was drained (``World.drain``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from sim.world import World

__all__ = [
    "Footprint",
    "Record",
    "concurrency_violations",
    "duplicate_effects",
    "early_retries",
    "footprints",
    "saga_violations",
]


class Record(NamedTuple):
    """One record a deal left at a vendor."""

    created: int
    """Ledger sequence number of its creation."""
    undone: int
    """Ledger sequence number of its undo (cancel, revoke, close, void), or 0."""
    live: bool
    """Whether it still stands."""


Footprint = dict[str, list[Record]]
"""Step name -> the records of that step one deal left behind."""


STEPS = ("order", "subscription", "entitlement", "onboarding", "invoice")
"""Quote-to-cash's committing steps, in commit order."""


def footprints(world: World) -> dict[str, Footprint]:
    """Deal id -> the records it left in the ERP, billing, provisioning and support."""
    found: defaultdict[str, Footprint] = defaultdict(lambda: defaultdict(list))
    erp = world.erp
    deal_of = {order.id: order.external_id for order in erp.orders.values()}
    sub_deal = {}
    for order in erp.orders.values():
        found[order.external_id]["order"].append(
            Record(order.created_seq, order.cancelled_seq, order.status != "cancelled")
        )
    for invoice in erp.invoices.values():
        if invoice.amendment_id:
            continue  # an amendment's, not the first order's
        found[deal_of[invoice.sales_order_id]]["invoice"].append(
            Record(invoice.created_seq, invoice.voided_seq, invoice.status != "voided")
        )
    for sub in world.billing.subscriptions.values():
        sub_deal[sub.id] = deal_of[sub.sales_order_id]
        found[sub_deal[sub.id]]["subscription"].append(
            # Dunning, or a later cancellation, ends a live subscription by business
            # rule or request, not by compensation.
            Record(
                sub.created_seq,
                sub.cancelled_seq,
                sub.status != "cancelled" or sub.dunned or bool(sub.cancelled_by),
            )
        )
    for ent in world.provisioning.entitlements.values():
        found[sub_deal[ent.subscription_id]]["entitlement"].append(
            Record(ent.created_seq, ent.revoked_seq, ent.status != "revoked")
        )
    for case in world.support.cases.values():
        if case.type == "onboarding":
            found[deal_of[case.sales_order_id]]["onboarding"].append(
                Record(case.created_seq, case.closed_seq, case.status != "closed")
            )
    return dict(found)


def saga_violations(world: World) -> list[str]:
    """Property 1: live deals complete, other ended deals fully undone in reverse."""
    problems = []
    ended = world.recorder.ended
    prints = footprints(world)
    for deal, ending in ended.items():
        fp = prints.get(deal, {})
        if ending == "escalated":
            continue
        if ending == "completed":
            missing = [s for s in STEPS if not any(r.live for r in fp.get(s, []))]
            if missing:
                problems.append(f"{deal} went live but has no live {', '.join(missing)}")
            continue
        left = [s for s in STEPS if any(r.live for r in fp.get(s, []))]
        if left:
            problems.append(f"{deal} ended {ending} but its {', '.join(left)} still stand")
            continue
        undone = [r for s in STEPS for r in fp.get(s, []) if r.undone]
        undo_order = [r.undone for r in sorted(undone)]  # records sort by creation
        if undo_order != sorted(undo_order, reverse=True):
            problems.append(f"{deal} was compensated out of reverse commit order")
    for deal in world.recorder.pending:
        problems.append(f"{deal} never ended")
    return problems


def duplicate_effects(world: World) -> list[str]:
    """Property 2: at most one record per deal and step."""
    problems = []
    for deal, fp in footprints(world).items():
        for step, records in fp.items():
            if len(records) > 1:
                problems.append(f"{deal} has {len(records)} {step} records")
    return problems


def concurrency_violations(world: World) -> list[str]:
    """Property 3: no vendor's peak concurrency above its configured limit."""
    problems = []
    for name, line in world.lines.items():
        limit = line.faults.limit
        if limit and line.faults.peak > limit:
            problems.append(f"{name} saw {line.faults.peak} concurrent calls (limit {limit})")
    return problems


def early_retries(world: World) -> list[str]:
    """Property 4: every throttled write waited out its Retry-After."""
    return [
        f"{name} saw {line.faults.early_retries} retries before their Retry-After"
        for name, line in world.lines.items()
        if line.faults.early_retries
    ]
