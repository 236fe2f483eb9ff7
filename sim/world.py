"""The world of one run: vendors, weather, broker, orchestrator, workload, clock.

``World`` assembles a scenario into a running SimPy model, like stagehands setting
up a theatre from the script's stage directions; ``run`` raises the curtain and
``result`` reads the reviews. ``simulate`` does all three.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Generator, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import simpy

from orchestrator.client import Client
from orchestrator.patterns import Pattern, make
from sim.audit import audit
from sim.broker import Broker
from sim.bulkhead import Bulkhead
from sim.driver import Line, Runtime
from sim.faults import Faults, ScriptedFault, latency_sampler
from sim.metrics import Recorder, quantiles
from sim.rng import Streams
from sim.scenario import Scenario
from sim.systems import Billing, Crm, Erp, Ledger, Provisioning, Support, Vendor
from sim.trace import Trace
from sim.workload import Plan, accounts, deals

__all__ = ["Progress", "World", "drained", "fewer_gc_pauses", "simulate"]

Progress = Callable[[float], None]
"""Told the share of the run done so far, from 0 to 1."""
SETTLE_CAP = 30 * 86400.0
"""With ``orders``: how long after the last deal closed a run waits for every deal
to end; deals still open then are reported in flight (a guard against a deal that
never ends, which would be a bug)."""


@contextmanager
def fewer_gc_pauses(threshold: int = 20_000) -> Iterator[None]:
    """Collect young garbage less often while a run builds up vendor records.

    A run keeps most of what it allocates (records, idempotency keys), so the
    default young-generation threshold (700) triggers collections that find
    nothing; they cost a quarter of the run. Between steps of a run, what exists
    is frozen (``gc.freeze``): records that will live to the end are not scanned
    again and again. The old setting comes back after, and everything is unfrozen.
    """
    old = gc.get_threshold()
    gc.set_threshold(threshold, *old[1:])
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*old)


def drained(env: simpy.Environment) -> bool:
    """Whether nothing is left to happen in ``env``, between two ``env.run(until=...)``.

    SimPy (4.1) leaves the event that stopped ``run`` in the queue, due now and with
    nothing to do, so ``env.peek()`` alone never says the queue is empty. Stepping
    through what is due now (that event, and any real one, which ``run`` would
    have processed next anyway) clears it.
    """
    while env.peek() == env.now:
        env.step()
    return env.peek() == float("inf")


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
    ) -> None:
        self.scenario = scenario
        self.seed = seed
        self.env = env = simpy.Environment()
        self.streams = streams = Streams(seed)
        self.ledger = Ledger()
        self.policy = policy = scenario.build_policy()
        work = scenario.workload
        self.crm = Crm(**self._vendor_args("crm"))
        self.erp = Erp(**self._vendor_args("erp"))
        self.billing = Billing(**self._vendor_args("billing"))
        self.provisioning = Provisioning(**self._vendor_args("provisioning"))
        onboarding = streams.draws("support.onboarding", latency_sampler(work.onboarding_time))
        self.support = Support(onboarding=onboarding, **self._vendor_args("support"))
        self.vendors: dict[str, Vendor] = {
            "crm": self.crm,
            "erp": self.erp,
            "billing": self.billing,
            "provisioning": self.provisioning,
            "support": self.support,
        }
        script = script or {}
        self.lines: dict[str, Line] = {}
        for name, vendor in self.vendors.items():
            cap = policy.max_in_flight.get(name) if policy.bulkhead else None
            self.lines[name] = Line(
                Faults(vendor, scenario.knobs(name), streams, script.get(name)),
                Bulkhead(env, cap) if cap else None,
            )
        self.trace = Trace(keep=keep_trace)
        self.runtime = Runtime(env, self.lines, trace=self.trace)
        self.broker = Broker(
            self.runtime, scenario.broker.redelivery.build(), scenario.broker.max_deliveries
        )
        self.runtime.sink = self.broker
        self.recorder = Recorder(scenario.sla.order_live, scenario.sla.commitment)
        self.broker.tap(self.recorder.observe)
        self.client = Client(policy)
        self.pattern: Pattern = make(pattern or scenario.pattern, self.client)
        for topic, handler in self.pattern.handlers().items():
            self.broker.subscribe(topic, handler, scenario.broker.consumers)
        self.book = accounts(streams, work.accounts, work.currencies, work.inactive_account_rate)
        for account in self.book:
            self.crm.add(account)
        self.plans: list[Plan] = [
            (p.name, p.sku, p.unit_price, p.seats[0], p.seats[1]) for p in work.plans
        ]
        self.arriving = True
        self.last_arrival = 0.0
        self.interrupted = False

    def _vendor_args(self, system: str) -> dict[str, Any]:
        knobs = self.scenario.knobs(system)
        rate = knobs.rejection_rate
        dice = self.streams.draws(f"{system}.business", lambda gen, n: gen.random(n))
        return {
            "ledger": self.ledger,
            "idempotency_ttl": knobs.idempotency_ttl,
            "refuse": (lambda: dice() < rate) if rate else None,
        }

    def _arrivals(self, limit: int | None) -> Generator[simpy.Event, Any, None]:
        env = self.env
        start = self.runtime.start
        close = self.pattern.close
        record = self.recorder.close
        rate = self.scenario.workload.arrivals_per_hour
        for count, (gap, deal) in enumerate(deals(self.streams, self.book, self.plans, rate), 1):
            yield env.timeout(gap)
            record(deal.id, env.now)
            start(close(deal))
            if count == limit:
                break
        self.arriving = False
        self.last_arrival = env.now

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
        env = self.env
        self.env.process(self._arrivals(orders))
        with fewer_gc_pauses():
            self._run(env, duration, orders, progress)

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
                    self.trace.fold()
                    gc.freeze()
                    if progress:
                        progress(n / 100)
            else:
                step = 600.0
                recorder = self.recorder
                while self.arriving or recorder.pending:
                    if not self.arriving and (
                        env.now >= self.last_arrival + SETTLE_CAP or drained(env)
                    ):
                        break
                    env.run(until=env.now + step)
                    self.trace.fold()
                    gc.freeze()
                    if progress:
                        progress(len(recorder.ended) / orders)
        except KeyboardInterrupt:
            self.interrupted = True

    def result(self) -> dict[str, Any]:
        """Everything the run measured, as a JSON-ready dict."""
        now = self.env.now
        recorder = self.recorder
        metrics = recorder.summary(now)
        pending = recorder.pending
        ended = recorder.ended
        closed_at = recorder.closed_at
        onboarding = []
        for case in self.support.cases.values():
            order = self.erp.orders.get(case.sales_order_id)
            # The desk's work time is drawn when a case opens, so every open
            # onboarding case has a known finish, even past the horizon.
            if case.type == "onboarding" and case.status == "open" and order is not None:
                onboarding.append(case.resolve_at - closed_at[order.external_id])
        metrics["onboarding_duration_s"] = quantiles(onboarding)
        findings = audit(
            self.crm,
            self.erp,
            self.billing,
            self.provisioning,
            self.support,
            lambda deal: deal not in pending and ended.get(deal) != "escalated",
        )
        metrics["manual_reconciliation_items"] = metrics["orders_escalated"] + recorder.stale_xrefs
        metrics["data_quality_exceptions"] = sum(findings.values())
        metrics["audit"] = findings
        metrics["dlq_depth"] = len(self.broker.dlq)
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
        subs = [s for group in self.broker.subscriptions.values() for s in group]
        metrics["broker"] = {
            "published": self.broker.published,
            "delivered": sum(s.delivered for s in subs),
            "redelivered": sum(s.redelivered for s in subs),
            "dead_lettered": len(self.broker.dlq),
        }
        return {
            "scenario": self.scenario.name,
            "pattern": self.pattern.name,
            "seed": self.seed,
            "simulated_s": round(now, 3),
            "interrupted": self.interrupted,
            "metrics": metrics,
            "trace_hash": self.trace.hexdigest(),
        }


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
