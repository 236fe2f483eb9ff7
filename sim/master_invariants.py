"""Master data's properties, read off the three systems' customer records.

The property: every copy of a customer field, and every price list entry, ends at
what its owner meant it to be
(the scenario's ``ownership``; while the owner has no record of the customer yet,
the CRM, where every customer starts, stands in), whatever stray edits other
systems made. And no company is two customers in the ERP or billing after its CRM
accounts were merged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.systems.profile import FIELDS

if TYPE_CHECKING:
    from sim.world import World

__all__ = ["duplicate_customers", "fields_off_owner"]


def fields_off_owner(world: World) -> list[str]:
    """Copies of a customer field or a price that differ from what its owner meant
    it to be (the starting value, then the owner's own edits)."""
    holders = world.holders
    intended = world.tally.intended
    problems = []
    for account in world.crm.accounts.values():
        if account.status == "merged":
            continue
        for field in FIELDS:
            want = intended[(account.id, field)]
            for name, holder in holders.items():
                record = holder.profile_record(account.id)
                if record is None:
                    continue
                have = getattr(record, holder.profile_attributes[field])
                if have != want:
                    problems.append(f"{account.id}.{field}: {name} holds {have!r}, owner {want!r}")
    for (entry, field), want in intended.items():
        if field != "price":
            continue
        sku, currency = entry.split(":")
        for name, holder in holders.items():
            have = holder.prices.get((sku, currency))
            if have != want:
                problems.append(f"price {entry}: {name} holds {have!r}, owner {want!r}")
    return problems


def duplicate_customers(world: World) -> list[str]:
    """ERP or billing customers still active whose CRM account was merged into another."""
    problems = []
    for account in world.crm.accounts.values():
        if account.status != "merged":
            continue
        for name, holder in (("erp", world.erp), ("billing", world.billing)):
            record = holder.profile_record(account.id)
            if record is not None and record.status != "merged":
                problems.append(f"{account.id}: still a customer in {name}")
    return problems
