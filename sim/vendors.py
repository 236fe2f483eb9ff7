"""Every system of a run, registered once: its model, its knobs, its audit checks.

The registry is the switchboard's directory: one line per system says which model
answers, which knobs a scenario may turn (``systems.<name>``), what else the world
must hand it when it is built, and what the end-of-run auditor checks in its
records. The scenario's ``systems`` section, the world's vendors and the audit are
all read off this list; adding a vendor is one model and one line here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from sim import audit
from sim.faults import latency_sampler
from sim.knobs import BillingKnobs, Latency, SystemKnobs
from sim.rng import Streams
from sim.systems import Billing, Crm, Erp, Provisioning, Support, Vendor
from sim.systems.billing import Payments
from sim.systems.oms import OrderStore

if TYPE_CHECKING:
    from sim.scenario import Scenario

__all__ = ["CHECKS", "REGISTRY", "Registered", "Setup", "build"]


class Setup(NamedTuple):
    """What building a vendor may draw on: the scenario, the run's random streams,
    and the arguments every vendor takes (ledger, key memory, refusals, clockwork)."""

    scenario: Scenario
    streams: Streams
    common: Mapping[str, Any]


def _none(setup: Setup) -> dict[str, Any]:
    return {}


class Registered(NamedTuple):
    """One system in the registry.

    Attributes:
        name: Its name in scenarios, calls and reports (``"erp"``).
        model: The model class (a ``Vendor``).
        knobs: The knobs model of ``systems.<name>``.
        default: Its knobs when a scenario says nothing.
        own: The orchestrator's own system (the order store), not a vendor.
        optional: A scenario may set it to null (no such system in the run).
        extras: Constructor arguments beyond the common ones, from the setup.
        checks: The audit checks that read its records, in report order.
        document: Its OpenAPI document under ``contracts/vendors/`` (the version the
            model implements), or None for a system with none yet.
    """

    name: str
    model: type[Vendor]
    knobs: type[SystemKnobs] = SystemKnobs
    default: Callable[[], SystemKnobs] = SystemKnobs
    own: bool = False
    optional: bool = False
    extras: Callable[[Setup], dict[str, Any]] = _none
    checks: tuple[audit.Check, ...] = ()
    document: str | None = None


def _erp(setup: Setup) -> dict[str, Any]:
    """A record of a list request fails alone at the ERP's error rate."""
    rate = setup.scenario.knobs("erp").error_rate
    if not rate:
        return {}
    records = setup.streams.draws("erp.records", lambda gen, n: gen.random(n))
    return {"record_fails": lambda: records() < rate}


def _billing(setup: Setup) -> dict[str, Any]:
    """Billing's payment clockwork and its subscription term."""
    life = setup.scenario.workload.lifecycle
    knobs = setup.scenario.knobs("billing")
    found: dict[str, Any] = {"term": life.term} if life is not None else {}
    payments = knobs.payments if isinstance(knobs, BillingKnobs) else None
    if payments is not None:
        streams = setup.streams
        delay = streams.draws("billing.payments.delay", latency_sampler(payments.delay))
        dice = streams.draws("billing.payments.dice", lambda gen, n: gen.random(n))
        rate = payments.failure_rate
        found["payments"] = Payments(
            delay, lambda: dice() < rate, payments.retry_every, payments.max_attempts
        )
    return found


def _support(setup: Setup) -> dict[str, Any]:
    """How long the desk takes over an onboarding case."""
    time = setup.scenario.workload.onboarding_time
    return {"onboarding": setup.streams.draws("support.onboarding", latency_sampler(time))}


REGISTRY: tuple[Registered, ...] = (
    Registered(
        "crm",
        Crm,
        document="crm/crm-2026.1.yaml",
        checks=(audit.broken_cross_reference, audit.duplicate_customer_after_merge),
    ),
    Registered(
        "erp",
        Erp,
        extras=_erp,
        document="erp/erp-2026.1.yaml",  # 2026.2 is its next version: the gate's case
        checks=(
            audit.duplicate_sales_order,
            audit.order_neither_billed_nor_cancelled,
            audit.invoice_for_cancelled_order,
            audit.payment_posted_twice,
        ),
    ),
    Registered(
        "billing",
        Billing,
        knobs=BillingKnobs,
        default=BillingKnobs,
        extras=_billing,
        document="billing/billing-2026.1.yaml",
        checks=(
            audit.subscription_without_order,
            audit.duplicate_subscription,
            audit.price_mismatch,
        ),
    ),
    Registered(
        "provisioning",
        Provisioning,
        document="provisioning/provisioning-2026.1.yaml",
        checks=(audit.entitlement_without_subscription, audit.duplicate_entitlement),
    ),
    Registered(
        "support",
        Support,
        extras=_support,
        document="support/support-2026.1.yaml",
        checks=(audit.onboarding_case_for_cancelled_order,),
    ),
    Registered(
        "oms",
        OrderStore,
        default=lambda: SystemKnobs(latency=Latency(fixed=0.02)),
        document="oms/oms-2026.1.yaml",  # ours, not a vendor's: served too for live runs
        own=True,
        optional=True,
    ),
)
"""Every system, in report order; ``oms`` is the orchestrator's own order store."""

CHECKS: dict[str, audit.Check] = {
    check.__name__: check for entry in REGISTRY for check in entry.checks
}
"""Every audit check by name, in report order."""


def build(entry: Registered, setup: Setup) -> Vendor:
    """Build one system's model for a run."""
    return entry.model(**setup.common, **entry.extras(setup))
