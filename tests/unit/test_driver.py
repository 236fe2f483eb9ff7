"""The SimPy runtime: ``sim.driver.Runtime`` runs workflows in simulated time."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import pytest
import simpy

from orchestrator.effects import NOW, Call, Publish, Sleep, Workflow
from orchestrator.errors import Rejected, Throttled, TimeoutUnknown, Unavailable
from sim.bulkhead import Bulkhead
from sim.driver import Line, Runtime
from sim.faults import Faults, ScriptedFault, latency_sampler
from sim.knobs import Latency, SystemKnobs
from sim.rng import Streams
from sim.systems import Erp
from sim.trace import Trace
from tests.support import customer_params, order_params


def _create(n: int = 1, timeout: float = 2.0, attempt: int = 1) -> Call:
    return Call("erp", "createSalesOrder", order_params(n), f"D-{n}:order", timeout, attempt)


class World:
    """An ERP behind its weather, one line to it, and a runtime."""

    def __init__(
        self,
        bulkhead: int | None = None,
        script: Mapping[int, ScriptedFault] | None = None,
        seed: int = 1,
        refuse: bool = False,
        **knobs: Any,
    ) -> None:
        knobs.setdefault("latency", "300ms")
        self.env = simpy.Environment()
        self.erp = Erp(refuse=(lambda: True) if refuse else None)
        self.erp("upsertCustomer", customer_params(), None, 0.0)
        self.knobs = SystemKnobs.model_validate(knobs)
        self.faults = Faults(self.erp, self.knobs, Streams(seed), script)
        resource = Bulkhead(self.env, bulkhead) if bulkhead else None
        self.line = Line(self.faults, resource)
        self.published: list[tuple[Publish, float]] = []
        self.trace = Trace(keep=True)
        self.runtime = Runtime(self.env, {"erp": self.line}, sink=self, trace=self.trace)

    def publish(self, effect: Publish, now: float) -> None:
        self.published.append((effect, now))

    def run(self, workflow: Workflow) -> Any:
        process = self.runtime.start(workflow)
        self.env.run()
        return process.value


def test_call_takes_the_drawn_latency_and_returns_the_body() -> None:
    world = World(latency={"p50": "300ms", "p99": "3s"}, seed=9)
    expected = Streams(9).draws(
        "erp.latency", latency_sampler(Latency.model_validate({"p50": "300ms", "p99": "3s"}))
    )
    first, second = expected(), expected()
    assert first < 2.0 and first + second < 10.0

    def workflow() -> Workflow:
        order = yield _create(1, timeout=10.0)
        t1 = yield NOW
        again = yield _create(2, timeout=10.0)
        t2 = yield NOW
        return order, t1, again, t2

    order, t1, again, t2 = world.run(workflow())
    assert order["id"] == "SO-000001"
    assert again["id"] == "SO-000002"
    assert t1 == pytest.approx(first)
    assert t2 == pytest.approx(first + second)
    assert world.line.calls == 2
    assert world.line.errors == 0
    assert world.faults.in_flight == 0


def test_lost_response_raises_timeout_unknown_after_exactly_the_timeout() -> None:
    world = World(script={1: "timeout"})

    def workflow() -> Workflow:
        try:
            yield _create(1, timeout=2.0)
        except TimeoutUnknown as exc:
            return "timeout", (yield NOW), exc
        return "answered", (yield NOW), None

    outcome, at, exc = world.run(workflow())
    assert outcome == "timeout"
    assert at == pytest.approx(2.0)
    assert exc.system == "erp"
    assert exc.operation == "createSalesOrder"
    assert [o.external_id for o in world.erp.orders.values()] == ["D-000001"]  # it happened
    assert world.line.timeouts == 1
    assert world.line.errors == 1
    assert world.faults.in_flight == 0  # the vendor finished its work at 0.3 s


def test_latency_above_the_timeout_is_a_timeout_at_the_timeout() -> None:
    world = World(latency="5s")

    def workflow() -> Workflow:
        try:
            yield _create(1, timeout=1.5)
        except TimeoutUnknown:
            return (yield NOW)
        return None

    assert world.run(workflow()) == pytest.approx(1.5)
    assert len(world.erp.orders) == 1
    assert world.line.timeouts == 1


def test_a_response_just_inside_the_timeout_arrives() -> None:
    world = World(latency="1999ms")

    def workflow() -> Workflow:
        body = yield _create(1, timeout=2.0)
        return body, (yield NOW)

    body, at = world.run(workflow())
    assert body["id"] == "SO-000001"
    assert at == pytest.approx(1.999)
    assert world.line.timeouts == 0


def test_429_becomes_throttled_with_retry_after() -> None:
    world = World(latency="100ms", rate_limit={"per_second": 0.5, "burst": 1})

    def workflow() -> Workflow:
        yield _create(1)
        try:
            yield _create(2)
        except Throttled as exc:
            return exc, (yield NOW)
        return None, None

    exc, at = world.run(workflow())
    assert isinstance(exc, Throttled)
    assert exc.status == 429
    # second call at 0.1 s: 0.05 token saved, 0.95 to go at 0.5 per second
    assert exc.retry_after == pytest.approx(1.9)
    assert at == pytest.approx(0.1 + 0.1 * 0.1)  # refusals answer fast
    assert world.line.rate_limited == 1
    assert world.line.errors == 1
    assert world.line.rejected == 0
    assert len(world.erp.orders) == 1


def test_concurrency_refusal_becomes_throttled_and_counts_as_rate_limited() -> None:
    world = World(concurrency=1, latency="1s")
    caught: list[BaseException] = []

    def workflow(n: int) -> Workflow:
        try:
            yield _create(n)
        except Throttled as exc:
            caught.append(exc)

    world.runtime.start(workflow(1))
    world.runtime.start(workflow(2))
    world.env.run()
    assert len(caught) == 1
    assert isinstance(caught[0], Throttled)
    assert caught[0].status == 400
    assert caught[0].code == "SSS_REQUEST_LIMIT_EXCEEDED"
    assert world.line.rate_limited == 1


def test_422_becomes_rejected_and_counts_as_rejected() -> None:
    world = World(refuse=True)

    def workflow() -> Workflow:
        try:
            yield _create(1)
        except Rejected as exc:
            return exc
        return None

    exc = world.run(workflow())
    assert isinstance(exc, Rejected)
    assert exc.status == 422
    assert exc.code == "CREDIT_HOLD"
    assert world.line.rejected == 1
    assert world.line.errors == 0
    assert world.line.rate_limited == 0


def test_503_becomes_unavailable() -> None:
    world = World(script={1: "error"})

    def workflow() -> Workflow:
        try:
            yield _create(1)
        except Unavailable as exc:
            return exc.status
        return None

    assert world.run(workflow()) == 503
    assert world.line.errors == 1
    assert world.erp.orders == {}


def test_uncaught_error_fails_the_process_with_that_error() -> None:
    # Runtime.run: "Its uncaught exception propagates." SimPy re-raises a process's
    # failure as ``type(exc)(*exc.args)``, so the error must survive that copy.
    world = World(refuse=True)

    def workflow() -> Workflow:
        yield _create(1)

    world.runtime.start(workflow())
    with pytest.raises(Rejected) as caught:
        world.env.run()
    assert (caught.value.status, caught.value.code) == (422, "CREDIT_HOLD")


def test_retries_are_counted_by_attempt_number() -> None:
    world = World()

    def workflow() -> Workflow:
        yield _create(1, attempt=1)
        yield _create(1, attempt=2)
        yield _create(1, attempt=3)

    world.run(workflow())
    assert world.line.calls == 3
    assert world.line.retries == 2
    assert len(world.erp.orders) == 1  # same key, same params: replayed
    assert world.erp.replays == 2


def _crowd(world: World, n: int) -> list[str]:
    outcomes: list[str] = []

    def workflow(i: int) -> Workflow:
        try:
            yield _create(i, timeout=60.0)
        except Throttled:
            outcomes.append("throttled")
        else:
            outcomes.append("ok")

    for i in range(1, n + 1):
        world.runtime.start(workflow(i))
    world.env.run()
    return outcomes


def test_bulkhead_keeps_the_vendor_within_its_limit() -> None:
    world = World(bulkhead=3, concurrency=3, latency="1s")
    outcomes = _crowd(world, 20)
    assert outcomes == ["ok"] * 20
    assert world.faults.peak == 3
    assert world.line.rate_limited == 0
    assert world.env.now == pytest.approx(7.0)  # ceil(20 / 3) rounds of 1 s
    # waiting calls are let through in the order they came
    assert [o.external_id for o in world.erp.orders.values()] == [
        f"D-{n:06d}" for n in range(1, 21)
    ]


def test_without_a_bulkhead_the_crowd_exceeds_the_vendor_limit() -> None:
    world = World(concurrency=3, latency="1s")
    outcomes = _crowd(world, 20)
    assert world.faults.peak > 3
    assert outcomes.count("ok") == 3
    assert world.line.rate_limited == 17


def test_sleep_advances_simulated_time() -> None:
    world = World()

    def workflow() -> Workflow:
        before = yield NOW
        result = yield Sleep(42.5)
        after = yield NOW
        return before, result, after

    assert world.run(workflow()) == (0.0, None, 42.5)
    assert world.runtime.sleeps == 1


def test_now_returns_env_now() -> None:
    world = World()
    world.env.run(until=123.0)

    def workflow() -> Workflow:
        return (yield NOW)

    assert world.run(workflow()) == 123.0


def test_publish_reaches_the_sink_at_the_current_time() -> None:
    world = World()
    event = Publish("order.accepted", "D-000001", {"orderId": "SO-000001"})

    def workflow() -> Workflow:
        yield Sleep(3.0)
        return (yield event)

    assert world.run(workflow()) is None
    assert world.published == [(event, 3.0)]


def test_non_effect_yield_throws_type_error_into_the_workflow() -> None:
    world = World()

    def workflow() -> Workflow:
        try:
            yield "not an effect"  # type: ignore[misc]
        except TypeError as exc:
            after = yield NOW
            return str(exc), after
        return None

    message, after = world.run(workflow())
    assert "'not an effect'" in message
    assert "not an effect" in message
    assert after == 0.0


def test_trace_records_every_call_with_its_status() -> None:
    world = World(script={2: "timeout"})

    def workflow() -> Workflow:
        yield _create(1)
        with contextlib.suppress(TimeoutUnknown):
            yield _create(2)
        yield Publish("order.accepted", "D-1", {})

    world.run(workflow())
    world.trace.hexdigest()
    assert world.trace.log == [
        (0.0, "D-1:order", 201),
        (0.3, "D-2:order", 0),
        (pytest.approx(2.3), "order.accepted D-1", 1),
    ]


def test_vendor_keeps_working_after_the_caller_times_out() -> None:
    # Faults.__call__: "The caller must call done() when the vendor's work on it
    # ends." When the caller gives up first, the vendor is still busy until the
    # drawn latency has passed, and that busy slot counts against its concurrency.
    world = World(concurrency=1, latency="5s")
    outcomes: list[tuple[str, float, int]] = []
    busy: dict[float, int] = {}

    def workflow() -> Workflow:
        try:
            yield _create(1, timeout=1.0)
        except TimeoutUnknown:
            outcomes.append(("timeout", (yield NOW), 0))
        try:
            yield _create(2, timeout=10.0)
        except Throttled as exc:
            outcomes.append(("throttled", (yield NOW), exc.status))
        else:
            outcomes.append(("answered", (yield NOW), 201))

    def probe() -> Any:
        for _ in range(2):
            yield world.env.timeout(3.0)
            busy[world.env.now] = world.faults.in_flight

    world.runtime.start(workflow())
    world.env.process(probe())
    world.env.run()
    # the second call meets a vendor still busy with the first: refused at the door
    assert outcomes == [("timeout", 1.0, 0), ("throttled", pytest.approx(1.5), 400)]
    assert busy == {3.0: 1, 6.0: 0}
    assert world.faults.peak == 2
    assert [o.external_id for o in world.erp.orders.values()] == ["D-000001"]


def _traced_run(peek_at: float | None) -> tuple[str, Trace]:
    world = World(latency={"p50": "300ms", "p99": "2s"}, script={3: "timeout", 5: "error"})

    def workflow(n: int) -> Workflow:
        for attempt in range(1, 4):
            try:
                yield _create(n, attempt=attempt)
                return
            except (TimeoutUnknown, Unavailable):
                yield Sleep(1.0)

    def peek() -> Any:
        assert peek_at is not None
        yield world.env.timeout(peek_at)
        world.trace.hexdigest()

    for n in range(1, 6):
        world.runtime.start(workflow(n))
    if peek_at is not None:
        world.env.process(peek())
    world.env.run()
    return world.trace.hexdigest(), world.trace


def test_reading_the_trace_hash_mid_run_does_not_change_the_final_hash() -> None:
    # "same scenario + seed + code -> same hash": looking at the hash (a progress
    # display, a timeline) must not change it
    quiet, quiet_trace = _traced_run(None)
    peeked, trace = _traced_run(1.0)
    assert trace.entries > 5
    assert trace.log == quiet_trace.log  # the very same entries...
    assert peeked == quiet  # ...so the same hash


def test_kept_trace_log_has_every_entry_so_far() -> None:
    # Trace.log: "(time, label, status) of every entry, when keep"
    world = World()

    def workflow() -> Workflow:
        yield _create(1)
        yield _create(2)

    world.run(workflow())
    assert [label for _, label, _ in world.trace.log] == ["D-1:order", "D-2:order"]
