"""The master data every system keeps a copy of: customers' name, e-mail, billing
address, and the price list.

The CRM, the ERP and billing each hold the customer's name, e-mail and billing
address, as three branches of a shop each keep the customer's card. One system owns
each field (the scenario's ``ownership``); the others hold copies. ``ProfileHolder``
gives a vendor model the two operations the integration uses on those copies
(``getCustomerField``, ``setCustomerField``) and the local edit a person makes in its
screens (``edit``), which the vendor announces on its change feed.

Each also keeps a price list, a unit price per SKU and currency: the CRM's is what
sales quotes (CPQ), billing's what it charges, the ERP's what its item master says.
One system owns prices (``ownership.price``); ``getPrice``, ``setPrice`` and a local
``reprice`` work like the customer fields.

A copy remembers the owner's version of each field it took (``Versioned``), so an
older propagation never overwrites a newer one; a local edit forgets it, since the
field no longer shows any owner's version.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sim.systems.base import Vendor, VendorError

__all__ = ["FIELDS", "ChangeFeed", "ProfileHolder"]

FIELDS = ("name", "email", "billing_address")
"""The customer master fields, as the scenario's ``ownership`` names them (``customer.<field>``)."""

ChangeFeed = Callable[[dict[str, Any], float], None]
"""Where a vendor announces changes to master data: ``(change, now)``."""


def account_id_of(record: Any) -> str:
    """A customer record's CRM account id (``external_id`` or, in the CRM, ``id``)."""
    return str(getattr(record, "external_id", None) or record.id)


class ProfileHolder(Vendor):
    """A vendor that holds customers' master fields, keyed by CRM account id.

    Subclasses say which attribute of their record holds each field
    (``profile_attributes``) and point ``profiles`` at their records by CRM
    account id (the ERP's and billing's ``by_external_id``, the CRM's accounts).
    """

    profiles: Mapping[str, Any] = {}

    profile_attributes: Mapping[str, str] = {
        "name": "name",
        "email": "email",
        "billing_address": "billing_address",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.feed: ChangeFeed | None = None
        self.changes: dict[tuple[str, str], int] = {}  # (customer, field) -> local edits
        self.retired: set[str] = set()  # SKUs this system's catalogue no longer has
        self.local: set[tuple[str, str]] = set()  # fields whose value is a local edit
        self.restored = 0  # local edits put back to their owner's value
        self.prices: dict[tuple[str, str], float] = {}  # (SKU, currency) -> unit price
        self.repriced: dict[tuple[str, str], int] = {}  # (SKU, currency) -> local edits
        self.local_prices: set[tuple[str, str]] = set()  # prices that are a local edit
        self.restored_prices = 0  # local price edits put back to the owner's price

    def profile_record(self, external_id: str) -> Any | None:
        """The record holding the customer of CRM account ``external_id``, if any."""
        return self.profiles.get(external_id)

    def _record(self, params: Mapping[str, Any]) -> Any:
        field = params["field"]
        if field not in FIELDS:
            raise VendorError(400, "UNKNOWN_FIELD", f"no master field {field!r}")
        record = self.profile_record(params["externalId"])
        if record is None:
            raise VendorError(404, self.not_found, f"no customer for {params['externalId']}")
        return record

    def field_version(self, external_id: str, field: str) -> int:
        """This system's version of ``field``: 1 as created, one more per local edit."""
        return self.changes.get((external_id, field), 0) + 1

    def getCustomerField(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """One master field of a customer, with this system's version of it."""
        record = self._record(params)
        field = params["field"]
        value = getattr(record, self.profile_attributes[field])
        if value is None:
            raise VendorError(
                404, self.not_found, f"{field} of {params['externalId']} not known yet"
            )
        return {
            "externalId": params["externalId"],
            "field": field,
            "value": value,
            "version": self.field_version(params["externalId"], field),
        }

    def setCustomerField(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Take a master field from the system that owns it, if newer than held;
        ``restore`` says it puts the owner's value back over a local edit (counted);
        ``ifUnedited`` takes it only if nobody edited the field here.

        Raises:
            VendorError: 404 (no such customer here yet), 409 ``STALE_VERSION``.
        """
        record = self._record(params)
        field = params["field"]
        if params.get("ifUnedited") and self.changes.get((params["externalId"], field)):
            raise VendorError(409, "STALE_VERSION", f"{field} was edited here since")
        self.versions(f"{params['externalId']}#{field}").apply(
            f"{params['source']}.{field}",
            int(params["sourceVersion"]),
            bool(params.get("ifNewer", True)),
        )
        setattr(record, self.profile_attributes[field], params["value"])
        edited = (params["externalId"], field)
        if edited in self.local:
            self.local.discard(edited)
            if params.get("restore"):
                self.restored += 1
        return {"externalId": params["externalId"], "field": field, "value": params["value"]}

    def price_version(self, sku: str, currency: str) -> int:
        """This system's version of a price: 1 as listed, one more per local edit."""
        return self.repriced.get((sku, currency), 0) + 1

    def _price(self, params: Mapping[str, Any]) -> tuple[str, str]:
        entry = str(params["sku"]), str(params["currency"])
        if entry not in self.prices:
            raise VendorError(404, "PRICE_NOT_FOUND", f"no price for {entry[0]} in {entry[1]}")
        return entry

    def getPrice(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """A SKU's unit price in one currency, with this system's version of it."""
        sku, currency = self._price(params)
        return {
            "sku": sku,
            "currency": currency,
            "unitPrice": self.prices[(sku, currency)],
            "version": self.price_version(sku, currency),
        }

    def setPrice(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Take a price from the system that owns prices, if newer than held;
        ``restore`` says it puts the owner's price back over a local edit (counted).

        Raises:
            VendorError: 404 (no such SKU or currency listed), 409 ``STALE_VERSION``.
        """
        entry = self._price(params)
        self.versions(f"price:{entry[0]}:{entry[1]}").apply(
            f"{params['source']}.price",
            int(params["sourceVersion"]),
            bool(params.get("ifNewer", True)),
        )
        self.prices[entry] = float(params["unitPrice"])
        if entry in self.local_prices:
            self.local_prices.discard(entry)
            if params.get("restore"):
                self.restored_prices += 1
        return {"sku": entry[0], "currency": entry[1], "unitPrice": self.prices[entry]}

    def reprice(self, sku: str, currency: str, price: float, now: float) -> None:
        """A person changes a price in this system's price list; announced on the feed."""
        entry = sku, currency
        self.prices[entry] = price
        self.local_prices.add(entry)
        self.repriced[entry] = self.repriced.get(entry, 0) + 1
        held = self.sources.get(f"price:{sku}:{currency}")
        if held is not None:
            held.versions.clear()  # a local edit shows no owner's version any more
        self.announce(
            {
                "kind": "repriced",
                "externalId": f"{sku}:{currency}",
                "sku": sku,
                "currency": currency,
                "unitPrice": price,
                "version": self.price_version(sku, currency),
            },
            now,
        )

    def mergeCustomers(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Merge the customer of one CRM account into another's (idempotent): the
        merged one is kept, inactive, pointing at the survivor."""
        merged = self.profile_record(params["merged"])
        if merged is None:
            raise VendorError(404, self.not_found, f"no customer for {params['merged']}")
        merged.status = "merged"
        merged.merged_into = str(params["survivor"])
        return self.merged_body(merged)

    def merged_body(self, record: Any) -> dict[str, Any]:
        """What ``mergeCustomers`` answers."""
        return {"externalId": account_id_of(record), "status": record.status}

    def retireProduct(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Take a SKU out of this system's catalogue, as its owner did (idempotent)."""
        self.retired.add(str(params["sku"]))
        return {"sku": params["sku"], "status": "retired"}

    def retire(self, sku: str, now: float) -> None:
        """A person retires a SKU in this system's catalogue; announced on the feed."""
        if sku not in self.retired:
            self.retired.add(sku)
            self.announce({"kind": "retired", "externalId": sku, "sku": sku}, now)

    def edit(self, external_id: str, field: str, value: str, now: float) -> bool:
        """A person changes a master field in this system's screens; announced on the
        change feed. False if the customer is not here."""
        record = self.profile_record(external_id)
        if record is None:
            return False
        setattr(record, self.profile_attributes[field], value)
        self.local.add((external_id, field))
        self.changes[(external_id, field)] = self.changes.get((external_id, field), 0) + 1
        version = self.field_version(external_id, field)
        held = self.sources.get(f"{external_id}#{field}")
        if held is not None:
            held.versions.clear()  # a local edit shows no owner's version any more
        self.announce(
            {
                "kind": "changed",
                "externalId": external_id,
                "field": field,
                "value": value,
                "version": version,
            },
            now,
        )
        return True

    def announce(self, change: dict[str, Any], now: float) -> None:
        """Put a master-data change on the feed, if the run has one."""
        if self.feed is not None:
            self.feed({**change, "system": self.name}, now)
