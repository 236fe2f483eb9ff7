"""Scenarios: one YAML file describes a business day and its weather.

A scenario is the script of a rehearsal: who the customers are and how often deals
close (``workload``), how each vendor behaves (``systems``), how the orchestrator
calls them (``policy``), how the broker redelivers (``broker``), and what the
business promised (``sla``). ``load`` reads and validates it; every mistake is
reported with the file, the line and the field, and what was expected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Self, get_args

from pydantic import Field, field_validator, model_validator

from orchestrator.patterns import PATTERNS
from orchestrator.resilience import BreakerPolicy, Policy, RetryPolicy
from sim.knobs import Duration, Latency, Rate, Strict, SystemKnobs
from sim.validation import ScenarioError, read_yaml, validate

__all__ = [
    "SYSTEMS",
    "Backoff",
    "Broker",
    "Retry",
    "Scenario",
    "ScenarioError",
    "Workload",
    "load",
]

SystemName = Literal["crm", "erp", "billing", "provisioning", "support"]
SYSTEMS: tuple[SystemName, ...] = get_args(SystemName)
"""Every system a scenario configures, in report order."""


class Plan(Strict):
    """A plan sales can sell: ``{name: pro, sku: PRO-SEAT, unit_price: 49, seats: [5, 50]}``."""

    name: str
    sku: str
    unit_price: Annotated[float, Field(gt=0)]
    seats: tuple[Annotated[int, Field(ge=1)], Annotated[int, Field(ge=1)]]

    @model_validator(mode="after")
    def _seat_range(self) -> Self:
        if self.seats[0] > self.seats[1]:
            raise ValueError("expected seats as [fewest, most] with fewest <= most")
        return self


DEFAULT_PLANS = [
    Plan(name="starter", sku="STARTER-SEAT", unit_price=19.0, seats=(1, 10)),
    Plan(name="pro", sku="PRO-SEAT", unit_price=49.0, seats=(5, 50)),
    Plan(name="enterprise", sku="ENT-SEAT", unit_price=99.0, seats=(25, 500)),
]


class Workload(Strict):
    """Who buys and how often.

    Attributes:
        arrivals_per_hour: Mean rate of closed deals (a Poisson process).
        accounts: Accounts in the CRM; deals pick one uniformly.
        inactive_account_rate: Share of accounts that are not active (rejected).
        currencies: Currencies accounts trade in.
        plans: Plans sold.
        onboarding_time: Support's work on an onboarding case, once opened.
    """

    arrivals_per_hour: Annotated[float, Field(gt=0)]
    accounts: Annotated[int, Field(ge=1)] = 500
    inactive_account_rate: Rate = 0.01
    currencies: list[str] = Field(default_factory=lambda: ["USD"], min_length=1)
    plans: list[Plan] = Field(default_factory=lambda: list(DEFAULT_PLANS), min_length=1)
    onboarding_time: Latency = Latency(p50=4 * 3600.0, p99=48 * 3600.0)


class Sla(Strict):
    """What the business promised.

    Attributes:
        order_live: Deal closed -> order live (accepted, billed, provisioned,
            onboarding opened, first invoice posted).
        commitment: Deal closed -> order accepted, as sales sees it.
    """

    order_live: Duration = 4 * 3600.0
    commitment: Duration = 30.0


class Backoff(Strict):
    """Exponential backoff: ``{base: 30s, multiplier: 2, cap: 15m, jitter: equal}``."""

    base: Duration = 0.5
    multiplier: Annotated[float, Field(ge=1)] = 2.0
    cap: Duration = 30.0
    jitter: Literal["none", "full", "equal"] = "full"

    def build(self) -> RetryPolicy:
        """The orchestrator's ``RetryPolicy`` with these delays."""
        return RetryPolicy(**self.model_dump())


class Retry(Backoff):
    """Retry with exponential backoff: ``{max_attempts: 5, base: 500ms, cap: 30s}``."""

    max_attempts: Annotated[int, Field(ge=1)] = 5
    honor_retry_after: bool = True


class Breaker(Strict):
    """Circuit breaker per system: opens after consecutive failures, for a cool-down."""

    failure_threshold: Annotated[int, Field(ge=1)] = 5
    cool_down: Duration = 30.0


class PolicyKnobs(Strict):
    """How the orchestrator calls vendors, anti-pattern switches included.

    Attributes:
        timeout: Per-call timeout.
        retry: Retries of forward steps.
        compensation_retry: Retries of undo steps.
        breaker: Circuit breaker, or null for none.
        bulkhead: Cap concurrent calls per system (at ``max_in_flight``, else the
            system's ``concurrency`` knob).
        max_in_flight: Per-system caps that override the system's concurrency.
        idempotency_keys: Send idempotency keys on writes.
        compensation: Compensate failed sagas.
    """

    timeout: Annotated[Duration, Field(gt=0)] = 10.0
    retry: Retry = Retry()
    compensation_retry: Retry = Retry(max_attempts=10, base=1.0, cap=120.0)
    breaker: Breaker | None = Breaker()
    bulkhead: bool = True
    max_in_flight: dict[SystemName, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)
    idempotency_keys: bool = True
    compensation: bool = True


class Broker(Strict):
    """The at-least-once broker of event-driven steps.

    Attributes:
        consumers: Workers per consumer group.
        max_deliveries: Deliveries of a failing message before the dead-letter queue.
        redelivery: Backoff between deliveries.
    """

    consumers: Annotated[int, Field(ge=1)] = 16
    max_deliveries: Annotated[int, Field(ge=1)] = 12
    redelivery: Backoff = Backoff(base=30.0, cap=900.0, jitter="equal")


class Systems(Strict):
    """The knobs of each vendor system."""

    crm: SystemKnobs = SystemKnobs()
    erp: SystemKnobs = SystemKnobs()
    billing: SystemKnobs = SystemKnobs()
    provisioning: SystemKnobs = SystemKnobs()
    support: SystemKnobs = SystemKnobs()


class Scenario(Strict):
    """A whole scenario file.

    Attributes:
        name: Short name, shown in reports.
        description: What the scenario rehearses.
        seed: Default seed (``--seed`` overrides).
        horizon: Simulated time a run covers (``--duration`` overrides).
        pattern: Default integration pattern (``--pattern`` overrides).
    """

    name: str
    description: str = ""
    seed: Annotated[int, Field(ge=0)] = 1
    horizon: Annotated[Duration, Field(gt=0)] = 8 * 3600.0
    pattern: str = "hybrid"
    workload: Workload
    sla: Sla = Sla()
    systems: Systems = Systems()
    policy: PolicyKnobs = PolicyKnobs()
    broker: Broker = Broker()

    @field_validator("pattern")
    @classmethod
    def _known_pattern(cls, value: str) -> str:
        if value not in PATTERNS:
            raise ValueError(f"expected one of: {', '.join(PATTERNS)}; got {value!r}")
        return value

    def knobs(self, system: str) -> SystemKnobs:
        """The knobs of ``system``."""
        knobs: SystemKnobs = getattr(self.systems, system)
        return knobs

    def build_policy(self) -> Policy:
        """The orchestrator's ``Policy`` for this scenario."""
        knobs = self.policy
        caps: dict[str, int] = {}
        if knobs.bulkhead:
            for system in SYSTEMS:
                cap = knobs.max_in_flight.get(system) or self.knobs(system).concurrency
                if cap:
                    caps[system] = cap
        breaker = knobs.breaker
        return Policy(
            timeout=knobs.timeout,
            retry=knobs.retry.build(),
            compensation_retry=knobs.compensation_retry.build(),
            breaker=BreakerPolicy(breaker.failure_threshold, breaker.cool_down)
            if breaker
            else None,
            max_in_flight=caps,
            idempotency_keys=knobs.idempotency_keys,
            compensation=knobs.compensation,
            bulkhead=knobs.bulkhead,
        )


def load(path: str | Path) -> Scenario:
    """Read and validate a scenario file.

    Raises:
        ScenarioError: The file is missing, is not YAML, or does not validate; the
            message names the file, line and field and says what was expected.
    """
    data, lines = read_yaml(Path(path))
    return validate(Scenario, data, Path(path), lines)
