"""Scenarios: one YAML file describes a business day and its weather.

A scenario is the script of a rehearsal: who the customers are and how often deals
close (``workload``), how each vendor behaves (``systems``), how the orchestrator
calls them (``policy``), how the broker redelivers (``broker``), and what the
business promised (``sla``). ``load`` reads and validates it; every mistake is
reported with the file, the line and the field, and what was expected.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import Field, create_model, field_validator, model_validator

from orchestrator.patterns import NEEDS, PATTERNS, TOPICS
from orchestrator.resilience import BreakerPolicy, Policy
from sim.knobs import Backoff, Duration, Latency, Rate, Strict, SystemKnobs
from sim.validation import Misplaced, ScenarioError, read_yaml, validate
from sim.vendors import REGISTRY

__all__ = [
    "SYSTEMS",
    "VENDORS",
    "Backoff",
    "Broker",
    "Delivery",
    "Lifecycle",
    "MasterDataKnobs",
    "Retry",
    "Scenario",
    "ScenarioError",
    "Workload",
    "load",
]

SYSTEMS: tuple[str, ...] = tuple(entry.name for entry in REGISTRY)
"""Every system a scenario configures, in report order (``oms`` is the orchestrator's
own order store)."""
VENDORS: tuple[str, ...] = tuple(entry.name for entry in REGISTRY if not entry.own)
"""The vendor systems, without the orchestrator's own store."""
if TYPE_CHECKING:
    SystemName = str
else:
    SystemName = Literal[SYSTEMS]  # a system's name, checked against the registry


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


MONTH = 30 * 86400.0


class MonthEnd(Strict):
    """Amendments pile up at month end: ``{last: 3d, factor: 4}``."""

    last: Annotated[Duration, Field(gt=0, le=30 * 86400.0)] = 3 * 86400.0
    factor: Annotated[float, Field(ge=1)] = 4.0


class Lifecycle(Strict):
    """What happens to a subscription after its first order.

    Rates are per live subscription per 30-day month; each draws its own saga.

    Attributes:
        term: A subscription's billing term; renewal comes at its end.
        seat_changes_per_month: Seat count changes mid-term.
        seat_change: The relative change of a seat change, as ``[least, most]``
            (``[-0.3, 0.5]``: from 30% fewer to 50% more seats).
        plan_changes_per_month: Moves to another plan.
        cancellations_per_month: Cancellations mid-term (credited pro rata).
        renewal_rate: Share of subscriptions renewed at term end (the others
            are cancelled then).
        month_end: Amendments more frequent over the month's last days.
        wait: How long an amendment waits for a subscription still being
            fulfilled before it gives up (rejected).
    """

    term: Annotated[Duration, Field(gt=0)] = MONTH
    seat_changes_per_month: Annotated[float, Field(ge=0, strict=True)] = 0.5
    seat_change: tuple[float, float] = (-0.3, 0.5)
    plan_changes_per_month: Annotated[float, Field(ge=0, strict=True)] = 0.05
    cancellations_per_month: Annotated[float, Field(ge=0, strict=True)] = 0.02
    renewal_rate: Rate = 0.9
    month_end: MonthEnd | None = None
    wait: Annotated[Duration, Field(gt=0)] = 86400.0

    @model_validator(mode="after")
    def _change_range(self) -> Self:
        low, high = self.seat_change
        if not -1.0 < low <= high:
            raise ValueError(
                "expected seat_change as [least, most] with -1 < least <= most, "
                f"got [{low:g}, {high:g}]"
            )
        return self

    def per_second(self) -> float:
        """Mid-term amendments per live subscription per second, before month end."""
        rates = self.seat_changes_per_month + self.plan_changes_per_month
        return (rates + self.cancellations_per_month) / MONTH


class MasterDataKnobs(Strict):
    """People editing customer master data: ``{edits_per_day: 20, stray_edits_per_day: 2}``.

    Attributes:
        edits_per_day: Edits of a customer's name, e-mail or billing address, made
            at the system that owns the field.
        stray_edits_per_day: Edits made at a system that does not own the field.
        merges_per_day: Two CRM accounts merged (one company entered twice).
        sku_retirements_per_month: A plan's SKU retired at the catalogue's owner
            (``ownership.product``); never the last one offered.
        price_changes_per_month: A plan's unit price in one currency changed at the
            owner of prices (``ownership.price``), by -10% to +20%.
        stray_price_changes_per_month: A price changed at a system that does not own
            prices (sales ops editing the CPQ price list directly).
    """

    edits_per_day: Annotated[float, Field(ge=0, strict=True)] = 0.0
    stray_edits_per_day: Annotated[float, Field(ge=0, strict=True)] = 0.0
    merges_per_day: Annotated[float, Field(ge=0, strict=True)] = 0.0
    sku_retirements_per_month: Annotated[float, Field(ge=0, strict=True)] = 0.0
    price_changes_per_month: Annotated[float, Field(ge=0, strict=True)] = 0.0
    stray_price_changes_per_month: Annotated[float, Field(ge=0, strict=True)] = 0.0

    def pricing(self) -> bool:
        """Whether prices change in the run (each system then keeps a price list)."""
        return bool(self.price_changes_per_month or self.stray_price_changes_per_month)


OWNED_FIELDS = (
    "customer.name",
    "customer.email",
    "customer.billing_address",
    "product",
    "price",
)
"""Fields ``ownership`` may name."""
HOLDERS = ("crm", "erp", "billing")
"""Systems that hold customer master data (and may own a field)."""
DEFAULT_OWNERS = {
    "customer.name": "crm",
    "customer.email": "crm",
    "customer.billing_address": "billing",
    "product": "erp",
    "price": "billing",
}
"""Who owns each field (and the product catalogue, and the price list) unless
``ownership`` says otherwise."""


class Workload(Strict):
    """Who buys and how often.

    Attributes:
        arrivals_per_hour: Mean rate of closed deals (a Poisson process).
        accounts: Accounts in the CRM; deals pick one uniformly.
        inactive_account_rate: Share of accounts that are not active (rejected).
        currencies: Currencies accounts trade in.
        plans: Plans sold.
        onboarding_time: Support's work on an onboarding case, once opened.
        account_changes_per_hour: Edits of CRM accounts (a billing e-mail changes),
            announced by the CRM's outbound messages when it sends them.
        lifecycle: Amendments, renewals and cancellations of live subscriptions;
            null for none (the first order only).
        master_data: Edits of customer master data and account merges; null for none.
    """

    arrivals_per_hour: Annotated[float, Field(gt=0)]
    accounts: Annotated[int, Field(ge=1)] = 500
    inactive_account_rate: Rate = 0.01
    currencies: list[str] = Field(default_factory=lambda: ["USD"], min_length=1)
    plans: list[Plan] = Field(default_factory=lambda: list(DEFAULT_PLANS), min_length=1)
    onboarding_time: Latency = Latency(p50=4 * 3600.0, p99=48 * 3600.0)
    account_changes_per_hour: Annotated[float, Field(ge=0)] = 0.0
    lifecycle: Lifecycle | None = None
    master_data: MasterDataKnobs | None = None


class Sla(Strict):
    """What the business promised.

    Attributes:
        order_live: Deal closed -> order live (accepted, billed, provisioned,
            onboarding opened, first invoice posted).
        commitment: Deal closed -> order accepted, as sales sees it.
    """

    order_live: Duration = 4 * 3600.0
    commitment: Duration = 30.0


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
        dedupe: Webhook receivers drop events they handled (anti-pattern switch).
        ordering: Receivers apply only newer versions (anti-pattern switch).
        publish_retry: Retries of publishing while the broker is down.
        webhook_tolerance: How old a webhook signature's timestamp may be.
        ownership: Copies follow each field's owner (anti-pattern switch: ``false``
            spreads every change from anywhere, the last writer wins).
    """

    timeout: Annotated[Duration, Field(gt=0)] = 10.0
    retry: Retry = Retry()
    compensation_retry: Retry = Retry(max_attempts=10, base=1.0, cap=120.0)
    breaker: Breaker | None = Breaker()
    bulkhead: bool = True
    max_in_flight: dict[SystemName, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)
    idempotency_keys: bool = True
    compensation: bool = True
    dedupe: bool = True
    ordering: bool = True
    publish_retry: Retry = Retry(max_attempts=30, base=1.0, cap=60.0)
    webhook_tolerance: Annotated[Duration, Field(gt=0)] = 300.0
    ownership: bool = True


class Delivery(Strict):
    """One topic's own delivery habits, overriding the broker's (``broker.topics.X``)."""

    latency: Latency | None = None
    duplicate_rate: Rate | None = None
    ordered: bool | None = None
    retention: Annotated[Duration, Field(gt=0)] | None = None
    consumer_crash_rate: Rate | None = None
    max_deliveries: Annotated[int, Field(ge=1)] | None = None


class BrokerOutage(Strict):
    """A window in which the broker accepts no events (publishing fails)."""

    start: Duration
    duration: Annotated[Duration, Field(gt=0)]

    @property
    def end(self) -> float:
        """When the window closes."""
        return self.start + self.duration


class Broker(Strict):
    """The at-least-once broker of event-driven steps, and its faults.

    Attributes:
        consumers: Workers per consumer group.
        max_deliveries: Deliveries of a failing message before the dead-letter queue.
        redelivery: Backoff between deliveries.
        latency: From publish to delivery (none: at once).
        duplicate_rate: Share of events delivered twice.
        ordered: One key's events are delivered in order, one at a time.
        retention: An event not handled within this long is lost (none: kept).
        consumer_crash_rate: Share of deliveries whose consumer crashes after
            applying and before acknowledging (the event comes again).
        outages: Windows in which publishing fails.
        topics: Per topic, overrides of the habits above.
    """

    consumers: Annotated[int, Field(ge=1)] = 16
    max_deliveries: Annotated[int, Field(ge=1)] = 12
    redelivery: Backoff = Backoff(base=30.0, cap=900.0, jitter="equal")
    latency: Latency | None = None
    duplicate_rate: Rate = 0.0
    ordered: bool = True
    retention: Annotated[Duration, Field(gt=0)] | None = None
    consumer_crash_rate: Rate = 0.0
    outages: list[BrokerOutage] = Field(default_factory=list)
    topics: dict[str, Delivery] = Field(default_factory=dict)

    def horizon(self) -> float:
        """How long after publishing a copy of an event may still arrive, in practice:
        every redelivery's backoff, plus the slow tail of a duplicate's own way
        (rare chains of consumer crashes beyond ``max_deliveries`` aside)."""
        longest = 0.0
        for own in (Delivery(), *self.topics.values()):
            deliveries = own.max_deliveries or self.max_deliveries
            latency = own.latency or self.latency
            tail = latency.p99_seconds if latency is not None else 0.0
            longest = max(longest, self.redelivery.total(deliveries) + 2 * tail)
        return longest + self.redelivery.base

    @field_validator("topics")
    @classmethod
    def _known_topics(cls, value: dict[str, Delivery]) -> dict[str, Delivery]:
        for topic in value:
            if topic not in TOPICS:
                raise ValueError(
                    f"unknown topic {topic!r}; expected one of: {', '.join(sorted(TOPICS))}"
                )
        return value


class OutboxSettings(Strict):
    """The outbox pattern's relay: how often it polls, how much it takes per poll.

    Attributes:
        relay_every: Between polls while the outbox has entries.
        relay_idle: The longest wait between polls of an empty outbox (the wait
            doubles from ``relay_every`` while nothing is found).
        batch: Entries published per poll.
        transactional: Write the commitment and its event in one transaction
            (``false``: the dual-write anti-pattern, publish after committing).
        redrive_after: Write the events of a commitment still unsettled this long
            to the outbox again (a dead-lettered event does not strand it).
    """

    relay_every: Annotated[Duration, Field(gt=0)] = 1.0
    relay_idle: Annotated[Duration, Field(gt=0)] = 2.0
    batch: Annotated[int, Field(ge=1)] = 100
    transactional: bool = True
    redrive_after: Annotated[Duration, Field(gt=0)] = 900.0


class BatchSettings(Strict):
    """The batch pattern's micro-batches to the ERP.

    Attributes:
        every: Between batches.
        size: Records per list request (the ERP takes at most 200).
        max_attempts: Batches a record may go out in before it is a manual item.
        timeout: How long one list request may take.
    """

    every: Annotated[Duration, Field(ge=1)] = 900.0
    size: Annotated[int, Field(ge=1, le=200)] = 200
    max_attempts: Annotated[int, Field(ge=1)] = 5
    timeout: Annotated[Duration, Field(gt=0)] = 120.0


class Reconciliation(Strict):
    """A scheduled reconciliation run: ``{every: 24h, at: "02:00", repair: true}``.

    Attributes:
        every: Between runs.
        at: Time of day of the first run, ``HH:MM`` (the run starts at 00:00).
        repair: Repair what is safe; false: only find and report.
        grace: Leave records changed this recently for the next run (work in flight).
    """

    every: Annotated[Duration, Field(ge=60)] = 86400.0
    at: str = "02:00"
    repair: bool = True
    grace: Annotated[Duration, Field(ge=0)] = 3600.0

    @field_validator("at", mode="before")
    @classmethod
    def _quoted(cls, value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError(
                f'expected a time of day in quotes, such as at: "02:00" (unquoted, YAML '
                f"reads 02:00 as a number of minutes), got {value!r}"
            )
        return value

    @field_validator("at")
    @classmethod
    def _time_of_day(cls, value: str) -> str:
        hours, sep, minutes = value.partition(":")
        if not (
            sep
            and hours.isdigit()
            and minutes.isdigit()
            and len(minutes) == 2
            and int(hours) < 24
            and int(minutes) < 60
        ):
            raise ValueError(f"expected a time of day such as '02:00' (HH:MM), got {value!r}")
        return value

    def first(self) -> float:
        """Seconds from the run's start to the first run."""
        hours, _, minutes = self.at.partition(":")
        return int(hours) * 3600.0 + int(minutes) * 60.0


class ArchiveKnobs(Strict):
    """When the vendors file a settled deal's records away (``sim.archive``), so a
    month-long run's memory stays flat: ``{after: 2d}``; ``archive: null`` keeps
    every record to the end.

    Attributes:
        after: How long after a deal's last activity (its first order or a later
            workflow ended, its clockwork went off) its records are filed away.
            Must exceed the scenario's copy horizon (``Scenario.copy_horizon``),
            the longest an event or webhook about it may still arrive. None: that
            horizon plus a day.
    """

    after: Annotated[Duration, Field(gt=0)] | None = None


class Patterns(Strict):
    """Settings of the patterns that take any."""

    outbox: OutboxSettings = OutboxSettings()
    batch: BatchSettings = BatchSettings()


def _systems() -> type[Strict]:
    """The ``systems`` section, one field per registered system (``sim.vendors``)."""
    fields: dict[str, Any] = {
        entry.name: (entry.knobs | None if entry.optional else entry.knobs, entry.default())
        for entry in REGISTRY
    }
    return create_model(
        "Systems",
        __base__=Strict,
        __doc__="The knobs of each system; an optional one (``oms``, the orchestrator's "
        "own order store) may be ``null`` when no pattern or receiver needs it.",
        **fields,
    )


if TYPE_CHECKING:
    Systems = Strict
else:
    Systems = _systems()


class Scenario(Strict):
    """A whole scenario file.

    Attributes:
        name: Short name, shown in reports.
        description: What the scenario rehearses.
        seed: Default seed (``--seed`` overrides).
        horizon: Simulated time a run covers (``--duration`` overrides).
        pattern: Default integration pattern (``--pattern`` overrides).
        reconciliation: A scheduled reconciliation job, or null for none.
        archive: When settled deals' records are filed away, or null for never.
        ownership: Which system owns each customer master field.
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
    patterns: Patterns = Patterns()
    reconciliation: Reconciliation | None = None
    archive: ArchiveKnobs | None = ArchiveKnobs()
    ownership: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_OWNERS))

    @field_validator("ownership")
    @classmethod
    def _known_owners(cls, value: dict[str, str]) -> dict[str, str]:
        for name, system in value.items():
            if name not in OWNED_FIELDS:
                raise ValueError(
                    f"unknown field {name!r}; expected one of: {', '.join(OWNED_FIELDS)}"
                )
            if system not in HOLDERS:
                raise ValueError(
                    f"{name}: unknown owner {system!r}; expected one of: {', '.join(HOLDERS)}"
                )
        return {**DEFAULT_OWNERS, **value}  # a field not named keeps its usual owner

    @field_validator("pattern")
    @classmethod
    def _known_pattern(cls, value: str) -> str:
        if value not in PATTERNS:
            raise ValueError(f"expected one of: {', '.join(PATTERNS)}; got {value!r}")
        return value

    @model_validator(mode="after")
    def _systems_there(self) -> Self:
        problem = self.missing_systems(self.pattern)
        if problem:
            raise Misplaced(("systems", "oms"), problem)
        return self

    @model_validator(mode="after")
    def _archive_after_copies(self) -> Self:
        after = self.archive.after if self.archive is not None else None
        horizon = self.copy_horizon()
        if after is not None and after <= horizon:
            raise Misplaced(
                ("archive", "after"),
                f"an event or a webhook may arrive up to {horizon:.0f}s after it was "
                f"sent (the broker's redeliveries, a sender's retries), but deals would be "
                f"filed away {after:.0f}s after their last activity; set archive.after "
                "above that, leave it out (that horizon plus a day), or archive: null",
            )
        return self

    def missing_systems(self, pattern: str) -> str | None:
        """What ``pattern`` (and the webhook receivers) need that the scenario lacks.

        Returns:
            The sentence to show, or None when nothing is missing.
        """
        if self.has("oms"):
            return None
        if "oms" in NEEDS.get(pattern, ()):
            return (
                f"pattern {pattern!r} needs systems.oms (the orchestrator's order store), "
                "which is null; give it knobs, e.g. 'oms: {latency: 20ms}'"
            )
        if self.policy.dedupe and self.webhook_senders():
            return (
                "webhook receivers need systems.oms to remember the events they handled, "
                "which is null; give it knobs, or set policy.dedupe: false"
            )
        if self.policy.dedupe and self.broker.horizon() >= self.key_memory():
            return (
                f"a copy of an event may arrive up to {self.broker.horizon():.0f}s after it "
                f"was published, later than a vendor remembers idempotency keys "
                f"({self.key_memory():.0f}s): the consumers need systems.oms to remember "
                "what they handled, which is null; give it knobs, shorten the broker's "
                "redelivery, or set policy.dedupe: false"
            )
        return None

    def archive_after(self) -> float | None:
        """Seconds after a deal's last activity that its records are filed away
        (``archive.after``, or the copy horizon plus a day), or None for never."""
        knobs = self.archive
        if knobs is None:
            return None
        return knobs.after if knobs.after is not None else self.copy_horizon() + 86400.0

    def copy_horizon(self) -> float:
        """How long after it was sent an event may still arrive: the broker's horizon
        (its redeliveries), or a webhook sender's, which retries until it gives up."""
        longest = self.broker.horizon()
        for name in VENDORS:
            hooks = self.knobs(name).webhooks
            if hooks is not None:
                longest = max(longest, hooks.give_up_after + 2 * hooks.latency.p99_seconds)
        return longest

    def webhook_senders(self) -> tuple[str, ...]:
        """The vendors that send webhooks in this scenario."""
        return tuple(name for name in VENDORS if self.knobs(name).webhooks is not None)

    def knobs(self, system: str) -> SystemKnobs:
        """The knobs of ``system`` (the defaults for a null ``oms``)."""
        knobs: SystemKnobs | None = getattr(self.systems, system)
        return knobs if knobs is not None else SystemKnobs()

    def has(self, system: str) -> bool:
        """Whether the run has ``system`` (an optional one may be null)."""
        return getattr(self.systems, system) is not None

    def key_memory(self) -> float:
        """The shortest time any vendor remembers an idempotency key."""
        return min(self.knobs(name).idempotency_ttl for name in VENDORS)

    def owners(self) -> dict[str, str]:
        """Master field (``name``, ``email``, ``billing_address``, ``product``) -> the
        system that owns it: ``ownership`` without the ``customer.`` prefix."""
        return {name.removeprefix("customer."): system for name, system in self.ownership.items()}

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
            dedupe=knobs.dedupe,
            # Keys protect a consumer only while the vendors remember them: when a
            # copy may come later than that, the consumers keep a memory of their own.
            consumer_memory=knobs.dedupe
            and self.has("oms")
            and self.broker.horizon() >= self.key_memory(),
            ordering=knobs.ordering,
            publish_retry=knobs.publish_retry.build(),
            webhook_secrets={
                name: hooks.secret
                for name in VENDORS
                if (hooks := self.knobs(name).webhooks) is not None
            },
            webhook_tolerance=knobs.webhook_tolerance,
            ownership=self.owners() if knobs.ownership else {},
        )


def load(path: str | Path) -> Scenario:
    """Read and validate a scenario file.

    Raises:
        ScenarioError: The file is missing, is not YAML, or does not validate; the
            message names the file, line and field and says what was expected.
    """
    data, lines = read_yaml(Path(path))
    return validate(Scenario, data, Path(path), lines)
