"""A provisioning platform: entitlements that let a customer's seats log in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.systems.base import Vendor, VendorError

__all__ = ["Entitlement", "Provisioning"]


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
    reads = ("getEntitlement",)
    writes = ("createEntitlement", "revokeEntitlement")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.entitlements: dict[str, Entitlement] = {}

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
        )
        self.entitlements[ent.id] = ent
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
        return ent.body()
