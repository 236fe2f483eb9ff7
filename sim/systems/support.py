"""A ServiceNow-like support desk: onboarding cases.

The support team works each onboarding case for a while after it opens; that work
time is drawn when the case opens (the ``onboarding`` knob), so a case's resolution
time is known without a simulation event per case.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sim.systems.base import Vendor

__all__ = ["Case", "Support"]


@dataclass(slots=True)
class Case:
    """A support case; onboarding cases carry the sales order they onboard."""

    id: str
    account_id: str
    type: str
    subject: str
    sales_order_id: str
    opened_at: float
    resolve_at: float
    created_seq: int
    status: str = "open"
    resolution: str = ""
    closed_seq: int = 0
    version: int = 1
    deal_id: str = ""

    def body(self) -> dict[str, Any]:
        """The case as the API returns it."""
        return {
            "id": self.id,
            "accountId": self.account_id,
            "type": self.type,
            "subject": self.subject,
            "salesOrderId": self.sales_order_id,
            "status": self.status,
            "resolution": self.resolution,
        }


class Support(Vendor):
    """The support desk: opens and closes cases."""

    name = "support"
    reads = ("getCase",)
    archived = ("cases",)
    writes = ("createCase", "closeCase")

    def __init__(self, onboarding: Callable[[], float] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.onboarding = onboarding or _instant
        self.cases: dict[str, Case] = {}

    def createCase(self, params: Mapping[str, Any], now: float) -> tuple[int, dict[str, Any]]:
        """Open a case."""
        case = Case(
            self.new_id("CS"),
            params["accountId"],
            params["type"],
            params["subject"],
            params.get("salesOrderId", ""),
            now,
            now + self.onboarding(),
            self.ledger.next(),
            deal_id=str(params.get("dealId", "")),
        )
        self.cases[case.id] = case
        self.file(case.deal_id, "cases", case.id)
        if self.outlet is not None and self.later is not None and case.type == "onboarding":
            # The desk works the case, then says so by webhook.
            self.remind(case.deal_id, case.resolve_at - now, lambda at: self._resolve(case, at))
        return 201, case.body()

    def _resolve(self, case: Case, now: float) -> None:
        if case.status != "open":
            return  # closed meanwhile (the order was undone)
        case.status = "resolved"
        case.resolution = "resolved"
        case.version += 1
        body = {**case.body(), "version": case.version, "dealId": case.deal_id}
        self.emit("case.resolved", case.id, body, now)

    def getCase(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Read one case."""
        return self.find(self.cases, params["id"], "case").body()

    def closeCase(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Close a case with a resolution (idempotent); a resolved case closes too."""
        case = self.find(self.cases, params["id"], "case")
        if case.status != "closed":
            case.status = "closed"
            case.resolution = params.get("resolution", "resolved")
            case.closed_seq = self.ledger.next()
        return case.body()


def _instant() -> float:
    return 0.0
