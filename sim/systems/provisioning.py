"""A provisioning platform: entitlements that let a customer's seats log in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.systems.base import Vendor, VendorError

__all__ = ["GRANTING", "Entitlement", "Provisioning"]

GRANTING = ("active", "suspended")
"""Statuses whose seats count as provisioned (a suspended seat is held, not usable)."""


@dataclass(slots=True)
class Entitlement:
    """Seats of a plan granted to an account for one subscription."""

    id: str
    account_id: str
    subscription_id: str
    plan: str
    seats: int
    created_seq: int
    status: str = "active"
    revoked_seq: int = 0
    version: int = 1
    deal_id: str = ""

    def body(self) -> dict[str, Any]:
        """The entitlement as the API returns it."""
        return {
            "id": self.id,
            "accountId": self.account_id,
            "subscriptionId": self.subscription_id,
            "plan": self.plan,
            "seats": self.seats,
            "status": self.status,
        }


class Provisioning(Vendor):
    """Provisioning: grants and revokes entitlements."""

    name = "provisioning"
    reads = ("getEntitlement", "exportSeats")
    archived = ("entitlements", "by_subscription")
    writes = ("createEntitlement", "revokeEntitlement", "updateEntitlement", "setSeats")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.entitlements: dict[str, Entitlement] = {}
        self.by_subscription: dict[str, list[Entitlement]] = {}

    def createEntitlement(
        self, params: Mapping[str, Any], now: float
    ) -> tuple[int, dict[str, Any]]:
        """Grant seats of a plan to an account."""
        if self.refuse():
            raise VendorError(422, "PLAN_NOT_PROVISIONABLE", f"plan {params['plan']} unavailable")
        ent = Entitlement(
            self.new_id("ENT"),
            params["accountId"],
            params["subscriptionId"],
            params["plan"],
            params["seats"],
            self.ledger.next(),
            deal_id=str(params.get("dealId", "")),
        )
        self.entitlements[ent.id] = ent
        self.by_subscription.setdefault(ent.subscription_id, []).append(ent)
        self.file(ent.deal_id, "entitlements", ent.id)
        self.file(ent.deal_id, "by_subscription", ent.subscription_id)
        if self.outlet is not None:
            self._announce(ent, now)
        return 201, ent.body()

    def getEntitlement(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Read one entitlement."""
        return self.find(self.entitlements, params["id"], "entitlement").body()

    def revokeEntitlement(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Revoke an entitlement (idempotent)."""
        ent = self.find(self.entitlements, params["id"], "entitlement")
        if ent.status != "revoked":
            ent.status = "revoked"
            ent.revoked_seq = self.ledger.next()
            ent.version += 1
            self._announce(ent, now)
        return ent.body()

    def updateEntitlement(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Suspend or reactivate the entitlements of a subscription, as billing says.

        The write carries billing's version of the subscription; with ``ifNewer`` an
        older one than held is refused (409 ``STALE_VERSION``). Revoked entitlements
        stay revoked.
        """
        found = self.by_subscription.get(params["subscriptionId"], [])
        if not found:
            raise VendorError(404, self.not_found, f"no entitlement for {params['subscriptionId']}")
        wanted = "suspended" if params["status"] == "suspended" else "active"
        for ent in found:
            self.versions(ent.id).apply(
                "billing.subscription",
                int(params["sourceVersion"]),
                bool(params.get("ifNewer", True)),
            )
            if ent.status != "revoked" and ent.status != wanted:
                ent.status = wanted
                ent.version += 1
                self._announce(ent, now)
        return {"subscriptionId": params["subscriptionId"], "status": wanted}

    def exportSeats(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Seats granted per subscription (revoked entitlements grant none)."""
        seats = {
            sub: sum(e.seats for e in ents if e.status in GRANTING)
            for sub, ents in self.by_subscription.items()
        }
        return {"seats": seats}

    def setSeats(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Set the seats and plan of a subscription's entitlements, as billing holds them;
        ``seats: 0`` cancels them with their subscription; a newer version with
        seats brings them back.

        Like ``updateEntitlement`` the write carries billing's version of the
        subscription, and with ``ifNewer`` an older one is refused (409
        ``STALE_VERSION``): amendments that overtake each other end at the newest.
        """
        found = self.by_subscription.get(params["subscriptionId"], [])
        if not found:
            raise VendorError(404, self.not_found, f"no entitlement for {params['subscriptionId']}")
        seats = int(params["seats"])
        for ent in found:
            self.versions(ent.id).apply(
                "billing.subscription.seats",
                int(params["sourceVersion"]),
                bool(params.get("ifNewer", True)),
            )
            if ent.status == "revoked":
                continue  # revoked by an undo of the first order: for good
            if seats == 0:
                ent.status = "cancelled"  # ends with the subscription; a newer version may
            else:  # bring it back (a cancellation undone)
                ent.seats, ent.plan = seats, str(params.get("plan", ent.plan))
                if ent.status == "cancelled":
                    ent.status = "active"
            ent.version += 1
            self._announce(ent, now)
        return {"subscriptionId": params["subscriptionId"], "seats": seats}

    def _announce(self, ent: Entitlement, now: float) -> None:
        kind = "entitlement.activated" if ent.status == "active" else "entitlement.suspended"
        self.emit(kind, ent.id, {**ent.body(), "version": ent.version, "dealId": ent.deal_id}, now)
