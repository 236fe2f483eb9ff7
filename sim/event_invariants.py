"""The event properties, read off the broker's books and the vendors' own records.

Four questions an auditor asks of an event-driven integration once the day is
over and everything in flight has settled (``World.drain``):

5. Nothing lost: every event a consumer group accepted was applied, or sits in the
   dead-letter queue with a reason, or was thrown away and counted (retention, a
   sender that gave up); and every invoice billing collected reached the ERP's
   ledger, unless its event is one of those counted.
6. No second effect: however often an event came, its effect happened once (one
   payment in the ERP per invoice collected; one record per deal and step).
7. Per-entity order: no record ever took a version of a source older than one it
   took before, and each ends in agreement with its source (a paid invoice is paid
   in the ERP; a cancelled subscription's seats are not active; the CRM shows each
   entitlement's state).
8. Outbox: every commitment ended accepted (with its ERP order) or revoked, and
   no ERP order exists without a commitment.

Each function returns its findings as sentences; an empty list means it holds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from orchestrator.events import webhook_topic
from sim.channel import DeadLetter
from sim.invariants import duplicate_effects

if TYPE_CHECKING:
    from sim.world import World

__all__ = [
    "double_effects",
    "lost_events",
    "order_violations",
    "outbox_violations",
    "thrown_away",
]


def lost_events(world: World) -> list[str]:
    """Property 5: every accepted event applied, dead-lettered with a reason, or counted."""
    problems = []
    broker = world.broker
    for group in broker.groups():
        settled = group.applied + group.dead_lettered + group.lost
        if group.accepted != settled + len(group.open):
            problems.append(
                f"{group.name} accepted {group.accepted} events but its books hold "
                f"{settled} settled and {len(group.open)} open"
            )
        if group.open:
            problems.append(f"{group.name} still has {len(group.open)} events in flight")
    problems += [
        f"{dead.message.id} was dead-lettered without a reason"
        for dead in broker.dlq
        if not dead.reason
    ]
    if world.billing.outlet is None:
        return problems
    gone = _webhook_subjects(world, "billing")
    posted = {payment.reference for payment in world.erp.payments.values()}
    for invoice in world.billing.invoices.values():
        if invoice.status == "paid" and invoice.id not in gone and invoice.id not in posted:
            problems.append(f"{invoice.id} was paid in billing but never reached the ERP")
    return problems


def thrown_away(world: World) -> list[str]:
    """Property 5, strict: no event was thrown away at all (which must hold whenever
    retention and the senders' patience exceed the longest delay)."""
    return [
        f"{dead.message.id} ({dead.message.key}) was thrown away by {dead.group}: {dead.reason}"
        for dead in world.broker.lost
    ]


def double_effects(world: World) -> list[str]:
    """Property 6: at most one payment per invoice, one record per deal and step."""
    posted = Counter(payment.reference for payment in world.erp.payments.values())
    return duplicate_effects(world) + [
        f"{invoice} was posted {count} times in the ERP"
        for invoice, count in sorted(posted.items())
        if count > 1
    ]


def order_violations(world: World) -> list[str]:
    """Property 7: versions only move forward, and every copy ends where its source is."""
    problems = []
    for name, vendor in world.vendors.items():
        for record, versions in sorted(vendor.sources.items()):
            held: dict[str, int] = {}
            for source, version in versions.applied:
                if version < held.get(source, 0):
                    problems.append(
                        f"{name} {record} took version {version} of {source} "
                        f"after version {held[source]}"
                    )
                held[source] = max(version, held.get(source, 0))
    return problems + _drift(world)


def outbox_violations(world: World) -> list[str]:
    """Property 8: commitments and ERP orders match one for one (the outbox pattern;
    other patterns keep no commitments, and hold nothing to check)."""
    oms = world.oms
    if oms is None or world.pattern.name != "outbox":
        return []
    problems = []
    orders = world.erp.orders
    live_orders = {o.external_id for o in orders.values() if o.status != "cancelled"}
    for deal, commitment in sorted(oms.commitments.items()):
        if commitment.status == "committed":
            problems.append(f"{deal} was committed but never accepted or revoked")
        elif commitment.status == "accepted":
            order = orders.get(commitment.order_id)
            if order is None or order.external_id != deal:
                problems.append(f"{deal} was accepted with {commitment.order_id}, not in the ERP")
        elif deal in live_orders:
            problems.append(f"{deal} was revoked but its ERP order stands")
    problems += [
        f"{order.id} ({order.external_id}) is in the ERP without a commitment"
        for order in orders.values()
        if order.external_id not in oms.commitments
    ]
    return problems


def _drift(world: World) -> list[str]:
    """Copies that disagree with their source, where no event about it was lost."""
    problems = []
    billing, erp, provisioning = world.billing, world.erp, world.provisioning
    if billing.outlet is not None:
        gone = _webhook_subjects(world, "billing")
        for invoice in billing.invoices.values():
            order = erp.orders.get(invoice.sales_order_id)
            if invoice.status != "paid" or order is None or invoice.id in gone:
                continue
            if order.receivable != "paid":
                problems.append(
                    f"{invoice.id} is paid in billing, {order.receivable} in the ERP ({order.id})"
                )
        for sub in billing.subscriptions.values():
            if sub.id in gone or sub.status == "past_due":
                continue
            wrong = "active" if sub.status == "cancelled" else "suspended"
            for ent in provisioning.by_subscription.get(sub.id, ()):
                if ent.status == wrong:
                    problems.append(f"{sub.id} is {sub.status} in billing, {ent.id} is {wrong}")
    if provisioning.outlet is not None:
        gone = _webhook_subjects(world, "provisioning")
        for ent in provisioning.entitlements.values():
            account = world.crm.accounts.get(ent.account_id)
            shown = account.statuses.get(f"provisioning:{ent.id}") if account else None
            if ent.id not in gone and shown != ent.status:
                problems.append(f"{ent.id} is {ent.status}, the CRM shows {shown}")
    return problems


def _webhook_subjects(world: World, system: str) -> set[str]:
    """Ids of the records whose webhooks were lost or dead-lettered (exempt from drift)."""
    topic = webhook_topic(system)
    given_up: Iterable[DeadLetter] = (*world.broker.dlq, *world.broker.lost)
    subjects = set()
    for dead in given_up:
        data = dead.message.payload.get("data")
        if dead.message.topic == topic and isinstance(data, dict):
            subjects.add(str(data.get("id")))
    return subjects
