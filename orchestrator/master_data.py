"""Master data: each customer field has one owner, and the copies follow it.

Like a company's address book kept in three offices: one office owns each entry
(the CRM the name, billing the billing address), and the others copy from it. When
the owner changes a field, the change is copied to the others, each copy taking it
only if it is newer than what it holds (the owner's version), so copies never go
back in time. When someone edits a copy directly, the edit is not spread: the
integration puts the owner's value back over it, and counts it. A customer created
somewhere new (the ERP at a first order) is filled from the owners.

Without ownership (``policy.ownership`` empty: the anti-pattern), every change
anywhere is copied everywhere, unconditionally: the last writer wins, and a stray
edit or a late copy can leave a field at a value its owner never had.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator.client import Client
from orchestrator.effects import Workflow
from orchestrator.errors import Conflict, Rejected
from orchestrator.events import Message, Subscription

__all__ = ["CUSTOMER_CHANGED", "FIELDS", "HOLDERS", "MasterData"]

CUSTOMER_CHANGED = "customer.changed"
"""A system's change feed: a customer created, a master field edited, accounts merged."""
HOLDERS = ("crm", "erp", "billing")
"""The systems that keep a copy of each customer."""
FIELDS = ("name", "email", "billing_address")
"""The customer master fields."""


class MasterData:
    """The consumer of the systems' change feeds.

    Args:
        client: The client every call goes through.
        ownership: Field -> the system that owns it; empty: last writer wins.
    """

    def __init__(self, client: Client, ownership: Mapping[str, str]) -> None:
        self.client = client
        self.ownership = dict(ownership)

    def subscription(self) -> Subscription:
        """The consumer group that follows every system's change feed."""
        return Subscription(CUSTOMER_CHANGED, "master-data", self.handle)

    def handle(self, message: Message) -> Workflow:
        """Apply one change from a feed; the outcome names what was done."""
        change = message.payload
        wf = f"mdm:{message.id}"
        kind = change["kind"]
        if kind == "merged":
            return (yield from self._merge(wf, change))
        if kind == "retired":
            return (yield from self._retire(wf, change))
        if kind == "created":
            return (yield from self._fill(wf, change))
        if kind == "repriced":
            return (yield from self._reprice(wf, change))
        owner = self.ownership.get(change["field"])
        if owner is None:
            return (yield from self._spread(wf, change, if_newer=False))
        if change["system"] != owner:
            master = yield from self._master(wf, owner, change["externalId"], change["field"])
            if master is not None and master[0] != change["system"]:
                # an edit of a copy: put the owner's value back over it
                yield from self._write(
                    wf, change["system"], master[1], master[0], True, restore=True
                )
                return "overwritten"
            # the owner has no such customer yet, and the CRM stands in for it
        return (yield from self._spread(wf, change, if_newer=True))

    def _spread(self, wf: str, change: Mapping[str, Any], if_newer: bool) -> Workflow:
        """Copy the change to every other holder."""
        for system in HOLDERS:
            if system != change["system"]:
                yield from self._write(wf, system, change, change["system"], if_newer)
        return "applied"

    def _master(self, wf: str, owner: str, customer: str, field: str) -> Workflow:
        """``(system, value)`` of the field's master copy: the owner's, or while the
        owner has none yet, the CRM's (where every customer starts); None if neither."""
        for system in dict.fromkeys((owner, "crm")):
            found = yield from self._read(wf, system, customer, field)
            if found is not None:
                return system, found
        return None

    def _fill(self, wf: str, change: Mapping[str, Any]) -> Workflow:
        """A customer new to a system takes each field from its master copy; new to the
        owner itself, it takes what the CRM held while standing in for it."""
        system = change["system"]
        account = yield from self.client.call(
            wf,
            "account",
            "crm",
            "getAccount",
            {"id": change["externalId"]},
            write=False,
            correlation=change["externalId"],
        )
        if account.get("mergedInto"):
            # Created from a deal that closed before its account was merged away.
            merged = {"externalId": change["externalId"], "survivor": account["mergedInto"]}
            yield from self._merge(wf, merged, (system,))
            return "applied"
        for field in FIELDS:
            owner = self.ownership.get(field, "crm")
            master = yield from self._master(
                wf, "crm" if owner == system else owner, change["externalId"], field
            )
            if master is None or master[0] == system:
                continue
            # The owner itself takes the stand-in's value only while nobody has edited
            # it there since: its own edit is what it means.
            taken = yield from self._write(
                wf, system, master[1], master[0], True, unedited=owner == system
            )
            if owner == system and taken:
                # The owner is born with what a first order told it, perhaps older
                # than the CRM's: what the others copied from it must follow too.
                for other in HOLDERS:
                    if other not in (system, master[0]):
                        yield from self._write(wf, other, master[1], master[0], True)
        return "applied"

    def _retire(self, wf: str, change: Mapping[str, Any]) -> Workflow:
        """A SKU retired: every other catalogue follows its owner's (stray: ignored)."""
        owner = self.ownership.get("product")
        if owner is not None and change["system"] != owner:
            return "skipped"
        for system in HOLDERS:
            if system != change["system"]:
                yield from self.client.call(
                    wf,
                    f"retire:{system}",
                    system,
                    "retireProduct",
                    {"sku": change["sku"]},
                    correlation=change["sku"],
                )
        return "applied"

    def _reprice(self, wf: str, change: Mapping[str, Any]) -> Workflow:
        """A price changed: copied from the owner of prices to the other price lists;
        changed anywhere else, the owner's price is put back over it."""
        owner = self.ownership.get("price")
        source = change["system"]
        if owner is not None and source != owner:
            master = yield from self.client.call(
                wf,
                f"price:{owner}",
                owner,
                "getPrice",
                {"sku": change["sku"], "currency": change["currency"]},
                write=False,
                correlation=change["externalId"],
            )
            yield from self._set_price(wf, source, master, owner, restore=True)
            return "overwritten"
        for system in HOLDERS:
            if system != source:
                yield from self._set_price(wf, system, change, source, owner is not None)
        return "applied"

    def _set_price(
        self,
        wf: str,
        system: str,
        price: Mapping[str, Any],
        source: str,
        if_newer: bool = True,
        restore: bool = False,
    ) -> Workflow:
        """A conditional write of one price (no idempotency key: the version decides)."""
        params = {
            "sku": price["sku"],
            "currency": price["currency"],
            "unitPrice": price["unitPrice"],
        }
        entry = f"{price['sku']}:{price['currency']}"
        step = f"set-price:{system}"
        yield from self._versioned(
            wf,
            step,
            system,
            "setPrice",
            params,
            entry,
            price["version"],
            source,
            if_newer,
            restore=restore,
        )

    def _merge(
        self, wf: str, change: Mapping[str, Any], systems: tuple[str, ...] = ("erp", "billing")
    ) -> Workflow:
        """Two CRM accounts merged: merge their customers where they exist."""
        for system in systems:
            try:
                yield from self.client.call(
                    wf,
                    f"merge:{system}",
                    system,
                    "mergeCustomers",
                    {"survivor": change["survivor"], "merged": change["externalId"]},
                    correlation=change["externalId"],
                )
            except Rejected as exc:
                if exc.status != 404:
                    raise  # a customer not there was never created: nothing to merge
        return "applied"

    def _read(self, wf: str, system: str, customer: str, field: str) -> Workflow:
        """The owner's value and version of a field, or None if it has no such customer."""
        try:
            return (
                yield from self.client.call(
                    wf,
                    f"read:{system}:{field}",
                    system,
                    "getCustomerField",
                    {"externalId": customer, "field": field},
                    write=False,
                    correlation=customer,
                )
            )
        except Rejected as exc:
            if exc.status != 404:
                raise
            return None

    def _write(
        self,
        wf: str,
        system: str,
        value: Mapping[str, Any],
        source: str,
        if_newer: bool,
        restore: bool = False,
        unedited: bool = False,
    ) -> Workflow:
        """A conditional write of one field (no idempotency key: the version decides);
        ``unedited``: only if the field was not edited at ``system`` itself.

        Returns:
            Whether ``system`` took it (via ``yield from``).
        """
        params = {
            "externalId": value["externalId"],
            "field": value["field"],
            "value": value["value"],
        }
        step = f"write:{system}:{value['field']}"
        return (
            yield from self._versioned(
                wf,
                step,
                system,
                "setCustomerField",
                params,
                value["externalId"],
                value["version"],
                source,
                if_newer,
                restore=restore,
                unedited=unedited,
            )
        )

    def _versioned(
        self,
        wf: str,
        step: str,
        system: str,
        operation: str,
        params: Mapping[str, Any],
        correlation: str,
        version: int,
        source: str,
        if_newer: bool,
        restore: bool = False,
        unedited: bool = False,
    ) -> Workflow:
        """A write that carries its source's version (no idempotency key: the version
        makes it idempotent); a newer value already there, or no such record yet, is
        no failure.

        Returns:
            Whether ``system`` took it (via ``yield from``).
        """
        body = {
            **params,
            "source": source,
            "sourceVersion": version,
            "ifNewer": if_newer and self.client.policy.ordering,
        }
        if restore:
            body["restore"] = True
        if unedited:
            body["ifUnedited"] = True
        try:
            yield from self.client.call(
                wf, step, system, operation, body, write=False, correlation=correlation
            )
        except Conflict as exc:
            if exc.code != "STALE_VERSION":
                raise  # newer than this is there already: nothing to do
            return False
        except Rejected as exc:
            if exc.status != 404:
                raise  # no such customer there yet: it is filled when it is created
            return False
        return True
