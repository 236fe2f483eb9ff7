"""The world of one run: vendors, weather, broker, orchestrator, workload, clock.

``World`` assembles a scenario into a running SimPy model, like stagehands setting
up a theatre from the script's stage directions; ``run`` raises the curtain and
``result`` reads the reviews. ``simulate`` does all three.
"""

from __future__ import annotations

import gc
import re
from collections import Counter
from collections.abc import Callable, Collection, Generator, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast

import simpy

from orchestrator.client import Client
from orchestrator.consumers import remembered
from orchestrator.deal import Deal
from orchestrator.effects import Publish
from orchestrator.errors import CallError
from orchestrator.events import AMENDMENT_ACCEPTED, webhook_topic
from orchestrator.master_data import CUSTOMER_CHANGED, MasterData
from orchestrator.patterns import Pattern, make
from orchestrator.receivers import receivers
from orchestrator.reconciliation import reconcile
from orchestrator.workflows import deal_of
from orchestrator.workflows.amendment import Amendment, accept_amendment, amend, post_accepted
from orchestrator.workflows.quote_to_cash import workflow_id
from sim.archive import Archive, onboarding_left, payment_lag
from sim.audit import audit, mismatched_prices
from sim.broker import Broker
from sim.bulkhead import Bulkhead
from sim.delivery import default_channel, topic_channels, webhook_channels
from sim.driver import Line, Runtime
from sim.edits import Tally, edits
from sim.faults import Faults, ScriptedFault
from sim.journal import EventLog
from sim.leakage import leakage
from sim.lifecycle import Diary, follow
from sim.master_invariants import fields_off_owner
from sim.metrics import Recorder
from sim.queueing import queueing
from sim.rng import Streams
from sim.sample import quantiles
from sim.scenario import Scenario
from sim.systems import Billing, Crm, Erp, Ledger, Provisioning, Support, Vendor
from sim.systems.oms import OrderStore
from sim.systems.profile import ProfileHolder
from sim.trace import Trace
from sim.vendors import CHECKS, REGISTRY, Setup, build
from sim.workload import Plan, account_changes, accounts, deals

__all__ = ["Progress", "World", "drained", "fewer_gc_pauses", "simulate"]

Progress = Callable[[float], None]
"""Told the share of the run done so far, from 0 to 1."""
SETTLE_CAP = 30 * 86400.0
"""With ``orders``: how long after the last deal closed a run waits for every deal
to end; deals still open then are reported in flight (a guard against a deal that
never ends, which would be a bug)."""


COLLECT_EVERY = 20
"""Runs (and drains) between full collections of what earlier runs left behind."""
_runs_since_collect = 0


@contextmanager
def fewer_gc_pauses(threshold: int = 20_000) -> Iterator[None]:
    """Collect young garbage less often while a run builds up vendor records.

    A run keeps most of what it allocates (records, idempotency keys), so the
    default young-generation threshold (700) triggers collections that find
    nothing; they cost a quarter of the run. Between steps of a run, what exists
    is frozen (``gc.freeze``): records that will live to the end are not scanned
    again and again. The old setting comes back after, and everything is unfrozen.

    Garbage left by earlier runs in the same process (a test session, a sweep) is
    collected every ``COLLECT_EVERY`` runs: frozen with the rest, it would never be
    (a session of a thousand small worlds grew to gigabytes that way).
    """
    global _runs_since_collect
    _runs_since_collect += 1
    if _runs_since_collect >= COLLECT_EVERY and gc.get_freeze_count() == 0:
        _runs_since_collect = 0
        gc.collect()
    old = gc.get_threshold()
    gc.set_threshold(threshold, *old[1:])
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*old)


def drained(env: simpy.Environment, watching: Collection[simpy.Event] = ()) -> bool:
    """Whether nothing is left to happen in ``env``, between two ``env.run(until=...)``,
    but the ``watching`` timers (an observer's, such as the series' next sample).

    SimPy (4.1) leaves the event that stopped ``run`` in the queue, due now and with
    nothing to do, so ``env.peek()`` alone never says the queue is empty. Stepping
    through what is due now (that event, and any real one, which ``run`` would
    have processed next anyway) clears it.
    """
    while env.peek() == env.now:
        env.step()
    if env.peek() == float("inf"):
        return True
    # an observer's timer alone keeps nothing going (SimPy has no public view of
    # its queue: entries are (time, priority, id, event))
    return bool(watching) and all(entry[3] in watching for entry in env._queue)


class World:
    """One run's simulated world.

    Args:
        scenario: The validated scenario.
        seed: The run's seed.
        pattern: The integration pattern's name.
        script: System -> (call number -> fault), for exact fault schedules.
        keep_trace: Keep the event log in memory (for timelines and tests).
    """

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        pattern: str | None = None,
        script: Mapping[str, Mapping[int, ScriptedFault]] | None = None,
        keep_trace: bool = False,
        journal: EventLog | None = None,
    ) -> None:
        self.scenario = scenario
        self.seed = seed
        self.env = env = simpy.Environment()
        self.streams = streams = Streams(seed)
        self.ledger = Ledger()
        self.policy = policy = scenario.build_policy()
        work = scenario.workload
        self.vendors: dict[str, Vendor] = {
            entry.name: build(entry, Setup(scenario, streams, self._vendor_args(entry.name)))
            for entry in REGISTRY
            if scenario.has(entry.name)
        }
        """Every system of the run by name, built from the registry (``sim.vendors``)."""
        # Typed handles on the systems the world itself wires up.
        self.crm = cast(Crm, self.vendors["crm"])
        self.erp = cast(Erp, self.vendors["erp"])
        self.billing = cast(Billing, self.vendors["billing"])
        self.provisioning = cast(Provisioning, self.vendors["provisioning"])
        self.support = cast(Support, self.vendors["support"])
        self.oms = cast(OrderStore | None, self.vendors.get("oms"))
        script = script or {}
        self.lines: dict[str, Line] = {}
        for name, vendor in self.vendors.items():
            cap = policy.max_in_flight.get(name) if policy.bulkhead else None
            knobs = scenario.knobs(name)
            self.lines[name] = Line(
                Faults(vendor, knobs, streams, script.get(name)),
                Bulkhead(env, cap) if cap else None,
                blind=knobs.drops_correlation,
            )
        self.trace = Trace(keep=keep_trace)
        self.journal = journal
        self.runtime = Runtime(env, self.lines, trace=self.trace, journal=journal)
        self.runtime.on_crash = self._crashed
        dice = streams.draws("broker.dice", lambda gen, n: gen.random(n))
        base = default_channel(scenario.broker, streams)
        self.broker = Broker(self.runtime, base, dice, journal)
        for topic, channel in topic_channels(scenario, streams, base).items():
            self.broker.configure(topic, channel)
        for topic, channel in webhook_channels(scenario, streams, dice).items():
            self.broker.configure(topic, channel)
        self.runtime.sink = self.broker
        self.recorder = Recorder(scenario.sla.order_live, scenario.sla.commitment)
        self.broker.tap(self.recorder.observe)
        self.client = Client(policy)
        name = pattern or scenario.pattern
        settings = getattr(scenario.patterns, name, None)
        self.pattern: Pattern = make(
            name, self.client, settings.model_dump() if settings is not None else {}
        )
        self.recorder.redriven = self.pattern.redriven
        consumers = scenario.broker.consumers
        senders = scenario.webhook_senders()
        for sub in self.pattern.subscriptions():
            handler = sub.handler
            if policy.consumer_memory:
                handler = remembered(self.client, sub.group, handler)
            self.broker.subscribe(sub.topic, handler, consumers, sub.group)
        if work.lifecycle is not None and self.pattern.amendments == "events":
            client = self.client
            self.broker.subscribe(
                AMENDMENT_ACCEPTED,
                lambda message: post_accepted(client, message),
                consumers,
                "erp-amendments",
            )
        self.holders: dict[str, ProfileHolder] = {
            name: vendor
            for name, vendor in self.vendors.items()
            if isinstance(vendor, ProfileHolder)
        }
        """The systems that keep a copy of each customer's master data."""
        if work.master_data is not None:
            listed = {
                (plan.sku, currency): plan.unit_price
                for plan in work.plans
                for currency in work.currencies
            }
            for vendor in self.holders.values():
                vendor.feed = self._feed(vendor.name)
                if work.master_data.pricing():
                    vendor.prices = dict(listed)
            mdm = MasterData(self.client, policy.ownership).subscription()
            handler = mdm.handler
            if policy.dedupe and self.oms is not None:
                # a copy delivered twice is applied once, and counted once
                handler = remembered(self.client, mdm.group, handler)
            self.broker.subscribe(mdm.topic, handler, consumers, mdm.group)
        for sub in receivers(self.client, senders):
            self.broker.subscribe(sub.topic, sub.handler, consumers, sub.group)
        for system in senders:
            self.vendors[system].outlet = self._outlet(system)
        self.book = accounts(streams, work.accounts, work.currencies, work.inactive_account_rate)
        self.tally = Tally(self.book if work.master_data is not None else ())
        self.tally.list_prices(self.crm.prices)
        for account in self.book:
            self.crm.add(account)
        self.plans: list[Plan] = [
            (p.name, p.sku, p.unit_price, p.seats[0], p.seats[1]) for p in work.plans
        ]
        life = work.lifecycle
        self.diary = Diary(life, work.plans, streams) if life is not None else None
        self.arriving = True
        self.surge = 1.0  # arrivals come this many times as fast (a drill's surge)
        self.watching: set[simpy.Event] = set()  # observers' timers: they keep nothing going
        self.manual_repairs = 0  # reconciliations a drill's operator ran by hand
        # a drill's faults switched on now, by system: what switches each off again
        self.faults_on: dict[str, list[Callable[[], None]]] = {}
        self.amending = True  # diaries still draw amendments
        self.last_arrival = 0.0
        self.interrupted = False
        self.crashes: list[str] = []
        self.ticking = 0  # vendor clockwork still to go off (payments, resolutions)
        self.following: set[str] = set()  # deals whose lifecycle diary is not over
        self.reconciling: simpy.Process | None = None  # the reconciliation run, if any
        self.settle_cap = SETTLE_CAP
        """With ``orders``: how long after the last deal closed ``run`` waits for
        every deal to end (a test of a world that cannot settle may shorten it)."""
        after = scenario.archive_after()
        self.archive = (
            Archive(
                self.vendors,
                self.recorder,
                after,
                self._unsettled,
                self.runtime.uncorrelated,
                read_onboarding=self.support.outlet is None,
            )
            if after is not None
            else None
        )
        """Files settled deals' records away as a long run goes on (``sim.archive``)."""
        if self.archive is None:  # nothing will read the vendors' index of deals
            for vendor in self.vendors.values():
                vendor.filing = False

    def _vendor_args(self, system: str) -> dict[str, Any]:
        knobs = self.scenario.knobs(system)
        rate = knobs.rejection_rate
        dice = self.streams.draws(f"{system}.business", lambda gen, n: gen.random(n))
        return {
            "ledger": self.ledger,
            "idempotency_ttl": knobs.idempotency_ttl,
            "refuse": (lambda: dice() < rate) if rate else None,
            "later": self._later,
        }

    def _later(self, delay: float, action: Callable[[float], None]) -> None:
        """A vendor's clockwork: ``action(now)`` after ``delay`` simulated seconds."""
        env = self.env
        self.ticking += 1

        def fire(_: object) -> None:
            self.ticking -= 1
            action(env.now)

        env.timeout(max(delay, 0.0)).callbacks.append(fire)

    def _outlet(self, system: str) -> Callable[[str, str, dict[str, Any], float], None]:
        """Where ``system``'s webhooks go: its sender's channel on the broker."""
        topic = webhook_topic(system)
        broker, trace = self.broker, self.trace
        blind = self.lines[system].blind
        uncorrelated = self.runtime.uncorrelated
        sent = 0

        def send(event_type: str, key: str, data: dict[str, Any], now: float) -> None:
            nonlocal sent
            sent += 1
            payload = {
                "id": f"evt_{system}_{sent}",
                "type": event_type,
                "created": now,
                "data": data,
            }
            trace.add(now, f"{topic} {event_type} {key}", 2)
            correlation: str | None = str(data.get("dealId") or key)
            if blind:  # the vendor sends no correlation header: the event is an orphan
                uncorrelated.add(str(correlation))
                correlation = None
            broker.publish(Publish(topic, key, payload, correlation), now)

        return send

    def _feed(self, system: str) -> Callable[[dict[str, Any], float], None]:
        """Where ``system`` announces master-data changes: the broker."""
        broker = self.broker

        def announce(change: dict[str, Any], now: float) -> None:
            key = str(change["externalId"])
            broker.publish(Publish(CUSTOMER_CHANGED, key, change, key), now)

        return announce

    def _diary_over(self, deal_id: str) -> Callable[[simpy.Event], None]:
        """What a deal's diary does as it ends: the deal may be filed away."""
        following = self.following
        return lambda _event: following.discard(deal_id)

    def _unsettled(self) -> set[str]:
        """The deals a workflow after the first order is running for, or whose
        diary is not over: not to be filed away yet."""
        found = set(self.following)
        for books in self.recorder.books.values():
            found.update(deal for deal, _, _ in books.running.values())
        return found

    def _crashed(self, error: CallError, workflow_id: str | None) -> None:
        """A workflow gave up with an error no step handled (the broker stayed down
        past the publish budget): it goes to people, as an escalation."""
        self.crashes.append(f"{workflow_id}: {error}")
        if workflow_id is not None:
            self.recorder.crashed(workflow_id, str(error), self.env.now)

    def _arrivals(self, limit: int | None) -> Generator[simpy.Event, Any, None]:
        env = self.env
        start = self.runtime.start
        close = self.pattern.close
        record = self.recorder.close
        ended = self.recorder.ended
        rate = self.scenario.workload.arrivals_per_hour

        def going() -> bool:
            return self.amending

        retired = self.crm.retired  # the sales catalogue: what sales may still quote
        offered = (lambda sku: sku not in retired) if self._retiring() else None
        arrivals = deals(self.streams, self.book, self.plans, rate, offered)
        quote = self._quote if self.crm.prices else None
        for count, (gap, deal) in enumerate(arrivals, 1):
            yield env.timeout(gap / self.surge)
            if not self.arriving:
                return  # drained: no more deals
            if quote is not None:
                deal = quote(deal)
            record(deal.id, env.now)
            start(close(deal), workflow_id(deal.id))
            if self.diary is not None:
                self.following.add(deal.id)
                diary = env.process(follow(env, self.diary, deal, self._amend, ended.get, going))
                diary.callbacks.append(self._diary_over(deal.id))
            if count == limit:
                break
        self.arriving = False
        self.last_arrival = env.now

    def _quote(self, deal: Deal) -> Deal:
        """The deal at the CRM's price list as it stands (what CPQ quotes)."""
        prices = self.crm.prices
        lines = tuple(
            line._replace(unit_price=prices.get((line.sku, deal.currency), line.unit_price))
            for line in deal.lines
        )
        return deal._replace(lines=lines)

    def _amend(self, amendment: Amendment) -> None:
        """Start an amendment's saga, as the pattern runs it."""
        self.recorder.request(amendment.id, amendment.kind, self.env.now)
        run = amend if self.pattern.amendments == "saga" else accept_amendment
        self.runtime.start(run(self.client, amendment), amendment.id)

    def run(
        self,
        duration: float | None = None,
        orders: int | None = None,
        progress: Progress | None = None,
    ) -> None:
        """Run the world.

        Args:
            duration: Simulated seconds to run (the scenario's horizon by default).
            orders: Instead of a horizon: close exactly this many deals at the
                scenario's rate and run until every one has ended.
            progress: Told the share done after each step.

        A ``KeyboardInterrupt`` stops the run where it is; ``result`` still works
        and says ``"interrupted": true``.

        Raises:
            ValueError: ``orders`` is below 1.
        """
        if orders is not None and orders < 1:
            raise ValueError(f"orders must be at least 1, got {orders}")
        self.start(orders)
        env = self.env
        with fewer_gc_pauses():
            self._run(env, duration, orders, progress)

    def start(self, orders: int | None = None) -> None:
        """Set the world going (deals arriving, the pattern's background work, edits,
        reconciliations) without running it: ``env.run`` then moves it on, as a
        drill does step by step. ``run`` calls it.

        Args:
            orders: Close this many deals, then no more (None: as long as it runs).
        """
        env = self.env
        self.env.process(self._arrivals(orders))
        for workflow in self.pattern.background():
            self.runtime.start(workflow)
        if self.scenario.workload.account_changes_per_hour:
            self.env.process(self._account_changes())
        if self.scenario.reconciliation is not None:
            self.env.process(self._reconciliations())
        knobs = self.scenario.workload.master_data
        if knobs is not None:
            self.env.process(
                edits(
                    env,
                    knobs,
                    self.scenario.owners(),
                    self.holders,
                    self.book,
                    self.streams,
                    self.tally,
                    lambda: self.arriving,
                    [plan[1] for plan in self.plans],
                )
            )

    def _reconciliations(self) -> Generator[simpy.Event, Any, None]:
        job = self.scenario.reconciliation
        assert job is not None
        yield self.env.timeout(job.first())
        run = 0
        while self.amending or self.arriving:
            run += 1
            work = reconcile(self.client, run, job.repair, job.grace)
            self.reconciling = self.runtime.start(work, f"recon:{run}")
            yield self.env.timeout(job.every)

    def _account_changes(self) -> Generator[simpy.Event, Any, None]:
        rate = self.scenario.workload.account_changes_per_hour
        for gap, account_id, email in account_changes(self.streams, self.book, rate):
            yield self.env.timeout(gap)
            if not self.arriving:
                return  # the day's edits end with the day's deals
            self.crm.change(account_id, email, self.env.now)

    def quiet(self) -> bool:
        """Whether nothing is in flight: every deal ended, every event settled, every
        outbox entry published and every commitment settled, no vendor clockwork (a
        payment, a resolution) to come."""
        oms = self.oms
        return (
            not self.arriving
            and not self.recorder.pending
            and not self.recorder.running()
            and not self.ticking
            and all(not group.open for group in self.broker.groups())
            and (oms is None or not (oms.unpublished or oms.unsettled()))
            and not self._backlog()
        )

    def _backlog(self) -> int:
        """Work the pattern holds back (the batch pattern's tray)."""
        backlog = getattr(self.pattern, "backlog", None)
        return int(backlog()) if backlog is not None else 0

    def drain(self, cap: float = SETTLE_CAP) -> bool:
        """After a run: close no more deals and run on until :meth:`quiet`, for at
        most ``cap`` more simulated seconds; the books of every property can then
        be closed.

        Returns:
            Whether the world went quiet within ``cap``.
        """
        env = self.env
        until = env.now + cap
        self.arriving = False  # after a horizon: close no more deals
        self.amending = False  # nor amend any
        with fewer_gc_pauses():
            while not self.quiet() and env.now < until:
                if drained(env, self.watching):
                    break
                env.run(until=min(env.now + 600.0, until))
        return self.quiet()

    def _run(
        self,
        env: simpy.Environment,
        duration: float | None,
        orders: int | None,
        progress: Progress | None,
    ) -> None:
        try:
            if orders is None:
                end = duration if duration is not None else self.scenario.horizon
                step = end / 100
                for n in range(1, 101):
                    env.run(until=step * n)
                    self.fold()
                    gc.freeze()
                    if progress:
                        progress(n / 100)
            else:
                step = 600.0
                recorder = self.recorder
                while self.arriving or recorder.pending:
                    if not self.arriving and (
                        env.now >= self.last_arrival + self.settle_cap
                        or drained(env, self.watching)
                    ):
                        break
                    env.run(until=env.now + step)
                    self.fold()
                    gc.freeze()
                    if progress:
                        progress((recorder.deals() - len(recorder.pending)) / orders)
        except KeyboardInterrupt:
            self.interrupted = True

    def fold(self) -> None:
        """Between steps: fold the trace and the long samples into their summaries,
        so that a long run's memory does not grow with every call it made."""
        self.trace.fold()
        if self.journal is not None:
            self.journal.flush()
        self.recorder.fold()
        for line in self.lines.values():
            line.fold()
        for group in self.broker.groups():
            group.lags.fold()
        reconciling = self.reconciling is not None and self.reconciling.is_alive
        if self.archive is not None and not reconciling:
            # not while a reconciliation run reads, repairs and reports on the records
            self.archive.sweep(self.env.now)

    def result(self) -> dict[str, Any]:
        """Everything the run measured, as a JSON-ready dict."""
        now = self.env.now
        recorder = self.recorder
        metrics = recorder.summary(now)
        pending = recorder.pending
        ended = recorder.ended
        archive = self.archive
        onboarding = list(archive.onboarding) if archive is not None else []
        for case in self.support.cases.values():
            left = onboarding_left(case, self.erp, recorder.closed_at)
            if left is not None:
                onboarding.append(left)
        metrics["onboarding_duration_s"] = (
            recorder.onboarding.quantiles()  # ended when its webhook was applied
            if self.support.outlet is not None
            else quantiles(onboarding)
        )
        findings = audit(
            CHECKS,
            self.vendors,
            lambda deal: deal not in pending and ended.get(deal) != "escalated",
        )
        books = recorder.workflow_summaries()
        metrics.update(books)
        metrics["reconciliation"] = recorder.reconciliation_summary()
        metrics["master_data"] = self._master_data()
        metrics["manual_reconciliation_items"] = (
            metrics["orders_escalated"]
            + sum(summary["escalated"] for summary in books.values())
            - recorder.resolved_escalations()
            + len(recorder.left_for_people)
            + recorder.stale_xrefs
        )
        metrics.update(leakage(self.billing, self.erp, self.provisioning, self.causes()))
        metrics["data_quality_exceptions"] = sum(findings.values())
        metrics["audit"] = findings
        metrics["dlq_depth"] = len(self.broker.dlq)
        metrics["dead_letter_reasons"] = dead_letter_reasons(self.broker.dlq)
        metrics["systems"] = {
            name: {
                "calls": line.calls,
                "errors": line.errors,
                "rejected": line.rejected,
                "retries": line.retries,
                "rate_limited": line.rate_limited,
                "timeouts": line.timeouts,
                "breaker_opens": b.opens if (b := self.client.breakers.get(name)) else 0,
                "peak_concurrency": line.faults.peak,
                "idempotent_replays": self.vendors[name].replays,
            }
            for name, line in self.lines.items()
        }
        metrics["queueing"] = {name: queueing(line, now) for name, line in self.lines.items()}
        metrics["broker"] = self._broker_metrics()
        metrics["receivers"] = self._receiver_metrics()
        metrics["signatures_refused"] = sum(
            r["signatures_refused"] for r in metrics["receivers"].values()
        )
        metrics["payment_sync_latency_s"] = quantiles(self._payment_lags())
        metrics["observability_coverage"] = self._coverage()
        return {
            "scenario": self.scenario.name,
            "pattern": self.pattern.name,
            "seed": self.seed,
            "simulated_s": round(now, 3),
            "interrupted": self.interrupted,
            "metrics": metrics,
            "trace_hash": self.trace.hexdigest(),
        }

    def _coverage(self) -> float | None:
        """Share of deals whose every call and event carried the correlation id."""
        closed = self.recorder.closed_at
        deals = self.recorder.deals()
        if not deals:
            return None
        blind = sum(1 for deal in self.runtime.uncorrelated if deal in closed)
        if self.archive is not None:
            blind += self.archive.blind_filed
        return round(1 - blind / deals, 4)

    def _retiring(self) -> bool:
        knobs = self.scenario.workload.master_data
        return knobs is not None and knobs.sku_retirements_per_month > 0

    def _master_data(self) -> dict[str, Any]:
        tally = self.tally
        return {
            "edits_at_owner": tally.owner_edits,
            "stray_edits": tally.stray_edits,
            "stray_edits_overwritten": sum(v.restored for v in self.holders.values()),
            "merges": tally.merges,
            "skus_retired": tally.retirements,
            "orders_refused_retired_sku": self.erp.refused_retired,
            "price_changes": tally.price_changes,
            "stray_price_changes": tally.stray_price_changes,
            "stray_prices_overwritten": sum(v.restored_prices for v in self.holders.values()),
            "fields_off_owner": len(fields_off_owner(self))
            if self.scenario.workload.master_data is not None
            else 0,
        }

    def causes(self) -> Callable[[str], str]:
        """What a difference in a deal's records is put down to (see ``sim.leakage``):
        its unfinished workflow, looked up in books indexed once per result."""
        recorder = self.recorder
        running: dict[str, str] = {}
        stranded: dict[str, str] = {}
        mispriced = set(mismatched_prices(self.billing, self.erp).values())
        for books in recorder.books.values():
            noun = books.declaration.noun
            running.update((deal, f"{noun} in flight") for deal, _, _ in books.running.values())
            for wf, ending in books.ended.items():
                if ending in ("escalated", "abandoned"):
                    stranded[deal_of(wf)] = f"{noun} {ending}"

        def cause(deal_id: str) -> str:
            if deal_id in recorder.pending:
                return "order in flight"
            ending = recorder.ended.get(deal_id)
            if ending in ("escalated", "abandoned"):
                return f"order {ending}"
            return (
                running.get(deal_id)
                or stranded.get(deal_id)
                or ("price mismatch" if deal_id in mispriced else "unexplained")
            )

        return cause

    def _broker_metrics(self) -> dict[str, Any]:
        broker = self.broker
        groups = list(broker.groups())
        topics = {}
        for topic, stats in broker.stats().items():
            topics[topic] = {
                "published": stats.published,
                "delivered": stats.delivered,
                "duplicates": stats.duplicates,
                "redelivered": stats.redelivered,
                "reordered": stats.reordered,
                "lost": stats.lost,
                "dead_lettered": stats.dead_lettered,
                "lag_s": stats.lags.quantiles(),
            }
        return {
            "published": broker.published,
            "refused": broker.refused,
            "delivered": sum(g.delivered for g in groups),
            "redelivered": sum(g.redelivered for g in groups),
            "dead_lettered": len(broker.dlq),
            "lost": sum(g.lost for g in groups),
            "topics": topics,
        }

    def _receiver_metrics(self) -> dict[str, Any]:
        found = {}
        for group in self.broker.groups():
            if not group.name.endswith("-receiver"):
                continue
            outcomes, failures = group.outcomes, group.failures
            found[group.name] = {
                "applied": outcomes.get("applied", 0),
                "duplicates_absorbed": outcomes.get("duplicate", 0),
                "stale_discarded": outcomes.get("stale", 0),
                "skipped": outcomes.get("skipped", 0),
                "signatures_refused": sum(
                    n for code, n in failures.items() if code.startswith("SIGNATURE_")
                ),
                "lost": group.lost,
                "dead_lettered": group.dead_lettered,
            }
        return dict(sorted(found.items()))

    def _payment_lags(self) -> list[float]:
        """Seconds from a payment collected in billing to its status applied in the ERP."""
        lags = list(self.archive.payment_lags) if self.archive is not None else []
        for order in self.erp.orders.values():
            lag = payment_lag(order)
            if lag is not None:
                lags.append(lag)
        return lags


def dead_letter_reasons(letters: list[Any], top: int = 12) -> dict[str, int]:
    """The dead-letter queue by topic and reason, most common first; ids and numbers
    in a reason are masked (``#``), so one cause is one line."""
    found: Counter[str] = Counter()
    for letter in letters:
        reason = re.sub(r"\d+", "#", str(letter.reason))[:160]
        found[f"{letter.message.topic}: {reason}"] += 1
    return dict(sorted(found.items(), key=lambda item: (-item[1], item[0]))[:top])


def simulate(
    scenario: Scenario,
    seed: int | None = None,
    pattern: str | None = None,
    duration: float | None = None,
    orders: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run ``scenario`` once and return its result (see ``World.result``)."""
    world = World(scenario, scenario.seed if seed is None else seed, pattern)
    world.run(duration, orders, progress)
    return world.result()
