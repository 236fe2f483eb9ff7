"""The archive: settled deals filed away as a long run goes on, so memory stays flat.

Like the records office of a company that has traded for years: open files sit on
the desks; once nobody can touch a closed deal's folder again, it goes to the
basement and the ledger keeps only its totals. A month-long run closes a million
deals, and keeping every one's order, invoice, subscription, entitlement and case
to the end would need gigabytes; the vendors file away what a real vendor
archives, and the run keeps what the end-of-run figures need of it.

A deal is filed away when every one of these holds (``ready``):

- it was last active (its first order ended, or a later workflow of it) longer ago
  than ``archive.after``, which a scenario must set above its copy horizon: no
  copy of its events, redelivery or late webhook can still come
  (``Scenario.copy_horizon``);
- no vendor clockwork of it is still to come (a payment, a case the desk
  resolves), nor went off within ``archive.after`` (its webhook may be on its way),
  and no vendor holds work of its own open for it (``Vendor.holds``: the order
  store's unsettled commitment or unpublished outbox entry);
- no workflow after the first order is running for it, and its lifecycle diary
  (amendments, renewals) is over;
- its records are consistent: the audit's per-deal checks find nothing and the
  leakage comparison finds no difference. A deal with an exception stays in place
  for the end-of-run audit, the reconciliation and the people.

The world does not sweep while a reconciliation run is under way: it reads,
repairs and reports on the records in several steps.

So a filed deal adds nothing to the audit or the leakage, and its results are the
same as if its records had stayed: the figures read from its records at the end
(payment lags, onboarding times) are read as it is filed, and ``tests/`` hold a
run with the archive against the same run without it, result for result.

Which records a vendor may file away is its ``archived`` stores (orders,
invoices, payments, subscriptions, entitlements, cases, commitments, outbox
entries); customers, accounts, price lists and the idempotency key store (which
expires by itself) stay.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from sim.audit import audit
from sim.leakage import leakage
from sim.metrics import Recorder
from sim.systems import Billing, Erp, Provisioning, Support, Vendor
from sim.systems.erp import SalesOrder
from sim.systems.oms import OrderStore
from sim.systems.support import Case
from sim.vendors import REGISTRY

__all__ = ["PER_DEAL_CHECKS", "Archive", "onboarding_left", "payment_lag"]

PER_DEAL_CHECKS = {
    check.__name__: check for entry in REGISTRY if entry.model.archived for check in entry.checks
}
"""The audit checks that read one deal's records only: those of the systems whose
records may be filed away (the CRM's checks read accounts, which always stay)."""


@dataclass
class Archive:
    """Files settled deals away from the vendors and the recorder.

    Args:
        vendors: The run's vendor models by system name.
        recorder: The run's recorder.
        after: Seconds a deal must have been settled before it is filed.
        running: The deals some workflow is still running for, or whose diary is
            not over (asked at each sweep).
        blind: The deals some call or event of which carried no correlation id
            (the world's set; a filed deal's membership is counted, then dropped).

    Attributes:
        count: Deals filed away.
        payment_lags: Seconds from payment to the ERP applying it, of filed deals.
        onboarding: Seconds from close to the onboarding case's resolution, of
            filed deals' open cases (read only when the desk sends no webhooks).
        blind_filed: Filed deals that were in ``blind``.
    """

    vendors: Mapping[str, Vendor]
    recorder: Recorder
    after: float
    running: Callable[[], set[str]]
    blind: set[str]
    read_onboarding: bool = True
    count: int = 0
    payment_lags: array[float] = field(default_factory=lambda: array("d"))
    onboarding: array[float] = field(default_factory=lambda: array("d"))
    blind_filed: int = 0
    swept_at: float = 0.0

    def sweep(self, now: float) -> int:
        """File away every deal ready by ``now``; nothing if the last sweep was less
        than an eighth of ``after`` ago (a run folds every step, ten minutes apart
        when it runs to a number of deals; so often would find next to nothing).

        Returns:
            How many deals were filed.
        """
        if now - self.swept_at < self.after / 8:
            return 0
        self.swept_at = now
        ready = self._ready(now)
        clean = self._clean(ready)
        self._read(clean)
        for vendor in self.vendors.values():
            vendor.forget(clean)
        oms = self.vendors.get("oms")
        if isinstance(oms, OrderStore):
            oms.forget_seen(now - self.after)
        self.recorder.file(set(clean))
        blind = self.blind
        for deal in clean:
            if deal in blind:
                blind.discard(deal)
                self.blind_filed += 1
        self.count += len(clean)
        return len(clean)

    def _ready(self, now: float) -> list[str]:
        """The deals ended long enough ago, with nothing of theirs to come."""
        before = now - self.after
        held = self.running()
        for vendor in self.vendors.values():
            held.update(vendor.busy)
            held.update(deal for deal, at in vendor.stirred.items() if at >= before)
        vendors = [
            vendor for vendor in self.vendors.values() if type(vendor).holds is not Vendor.holds
        ]
        return [
            deal
            for deal, at in self.recorder.ended_at.items()
            if at < before and deal not in held and not any(v.holds(deal) for v in vendors)
        ]

    def _clean(self, deals: Sequence[str]) -> list[str]:
        """The deals among ``deals`` whose records hold no exception: looked at all
        together, then halved where something is found (exceptions are rare)."""
        if not deals or self._consistent(deals):
            return list(deals)
        if len(deals) == 1:
            return []
        half = len(deals) // 2
        return self._clean(deals[:half]) + self._clean(deals[half:])

    def _consistent(self, deals: Iterable[str]) -> bool:
        """Whether the per-deal audit and the leakage find nothing in these deals."""
        deals = list(deals)
        # a system none of whose records are filed (the CRM) is read whole: its
        # checks are not among the per-deal ones
        seen = {n: v.view(deals) if v.archived else v for n, v in self.vendors.items()}
        if any(audit(PER_DEAL_CHECKS, seen, lambda _deal: True).values()):
            return False
        found = leakage(
            cast(Billing, seen["billing"]),
            cast(Erp, seen["erp"]),
            cast(Provisioning, seen["provisioning"]),
            lambda _deal: "unexplained",
        )
        return (
            not found["revenue_leakage"]["by_cause"]
            and not found["entitlement_drift"]["subscriptions"]
        )

    def _read(self, deals: Sequence[str]) -> None:
        """Read what the end-of-run figures need of these deals' records."""
        erp = cast(Erp, self.vendors["erp"])
        support = cast(Support, self.vendors["support"])
        closed_at = self.recorder.closed_at
        for deal in deals:
            for store, key in erp.filed.get(deal, ()):
                if store == "orders":
                    lag = payment_lag(erp.orders[key])
                    if lag is not None:
                        self.payment_lags.append(lag)
            if not self.read_onboarding:
                continue
            for store, key in support.filed.get(deal, ()):
                if store == "cases":
                    left = onboarding_left(support.cases[key], erp, closed_at)
                    if left is not None:
                        self.onboarding.append(left)


def payment_lag(order: SalesOrder) -> float | None:
    """Seconds from a payment collected in billing to its status applied in the ERP,
    for a sales order paid and applied (None otherwise)."""
    applied = order.payment_applied_at
    if order.receivable == "paid" and order.paid_at is not None and applied is not None:
        return applied - order.paid_at
    return None


def onboarding_left(case: Case, erp: Erp, closed_at: Mapping[str, float]) -> float | None:
    """Seconds from the deal's close to an open onboarding case's resolution (the
    desk's work time is drawn when a case opens, so every open case has a known
    finish, even past the horizon); None for another case or one of no order."""
    if case.type != "onboarding" or case.status != "open":
        return None
    order = erp.orders.get(case.sales_order_id)
    return None if order is None else case.resolve_at - closed_at[order.external_id]
