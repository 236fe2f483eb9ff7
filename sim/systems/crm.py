"""A Salesforce-like CRM: accounts, and the cross-reference written back to them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.systems.base import Vendor

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
        }


class Crm(Vendor):
    """The CRM: sales closes deals here; the orchestrator reads accounts from it."""

    name = "crm"
    reads = ("getAccount",)
    writes = ("updateAccount",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.accounts: dict[str, Account] = {}

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
