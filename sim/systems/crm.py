"""A Salesforce-like CRM: accounts, and the cross-reference written back to them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.systems.profile import ProfileHolder

__all__ = ["Account", "Crm"]


@dataclass(slots=True)
class Account:
    """A CRM account, with the ids it has in the ERP and billing."""

    id: str
    name: str
    email: str
    currency: str
    status: str = "active"
    erp_customer_id: str | None = None
    billing_customer_id: str | None = None
    version: int = 1
    statuses: dict[str, str] = field(default_factory=dict)
    billing_address: str = ""
    merged_into: str = ""

    def body(self) -> dict[str, Any]:
        """The account as the API returns it."""
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "currency": self.currency,
            "status": self.status,
            "erpCustomerId": self.erp_customer_id,
            "billingCustomerId": self.billing_customer_id,
            "mergedInto": self.merged_into or None,
        }


class Crm(ProfileHolder):
    """The CRM: sales closes deals here; the orchestrator reads accounts from it."""

    name = "crm"
    reads = ("getAccount", "getCustomerField", "getPrice")
    writes = (
        "updateAccount",
        "recordStatus",
        "recordAmendment",
        "setCustomerField",
        "setPrice",
        "retireProduct",
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.accounts: dict[str, Account] = {}
        self.profiles = self.accounts
        self.amendments: dict[str, dict[str, Any]] = {}  # on the opportunity, by id

    def add(self, account: Account) -> None:
        """Seed an account (the CRM's existing book of business)."""
        self.accounts[account.id] = account

    def getAccount(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Read one account."""
        return self.find(self.accounts, params["id"], "account").body()

    def updateAccount(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Write the ERP and billing customer ids back to the account."""
        account = self.find(self.accounts, params["id"], "account")
        if "erpCustomerId" in params:
            account.erp_customer_id = params["erpCustomerId"]
        if "billingCustomerId" in params:
            account.billing_customer_id = params["billingCustomerId"]
        return account.body()

    def recordStatus(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Note on the account what another system says of one of its records
        (an entitlement suspended, an onboarding case resolved), if newer."""
        account = self.find(self.accounts, params["accountId"], "account")
        entity = f"{params['source']}:{params['entity']}"
        self.versions(account.id).apply(
            entity, int(params["sourceVersion"]), bool(params.get("ifNewer", True))
        )
        account.statuses[entity] = str(params["status"])
        return {"id": account.id, "entity": entity, "status": account.statuses[entity]}

    def recordAmendment(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Note on the deal's opportunity how an amendment ended (applied, undone)."""
        note = {
            "dealId": params["dealId"],
            "amendmentId": params["amendmentId"],
            "status": params["status"],
        }
        self.amendments[str(params["amendmentId"])] = note
        return note

    def merge(self, survivor: str, merged: str, now: float) -> None:
        """Sales merges two accounts of one company: ``merged`` lives on in ``survivor``."""
        account = self.accounts[merged]
        account.status = "merged"
        account.merged_into = survivor
        account.version += 1
        self.announce({"kind": "merged", "externalId": merged, "survivor": survivor}, now)

    def change(self, account_id: str, email: str, now: float) -> None:
        """Someone edits an account in the CRM (its billing e-mail): a new version,
        announced by outbound message."""
        account = self.accounts[account_id]
        account.email = email
        account.version += 1
        self.emit(
            "account.updated", account.id, {**account.body(), "version": account.version}, now
        )
