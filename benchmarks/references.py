"""The yardsticks the throughput benchmark measures the simulator against.

- ``skeleton``: bare SimPy, as issue 2 defines it. A process per deal that makes
  the run's timeouts and ``simpy.Resource`` requests and nothing else.
- ``straightforward``: how one would write this model in plain SimPy without an
  orchestrator. A process per deal, bulkheads, a ``simpy.Store`` for the
  ``order.accepted`` hop, an inline retry loop, and the same vendor models and
  weather as the real run (built from a fresh ``World``). It has no breaker, saga,
  compensation, cross-reference write-back, metrics or trace, so it does a little
  less than the real run. With ``simpy.Resource`` bulkheads it is what plain SimPy
  code costs; with the simulator's own ``Bulkhead`` it differs from the simulator
  by the orchestrator layer alone.

The issue assumes a straightforward model costs 1.2-1.3x its skeleton; measuring
one here tells whether that holds for these vendor models.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Generator, Mapping
from typing import Any, Literal

import numpy as np
import simpy

from orchestrator.deal import Deal
from sim.bulkhead import Bulkhead
from sim.faults import latency_sampler
from sim.workload import deals
from sim.world import World, drained, fewer_gc_pauses

__all__ = ["skeleton", "straightforward"]

Process = Generator[simpy.Event, Any, Any]
Bulkheads = Literal["resource", "simulator"]
QUOTE_TO_CASH = ["crm", "erp", "erp", "billing", "provisioning", "support", "erp", "crm"]
"""The systems one deal calls, in order (the last call only when ids changed)."""


def skeleton(world: World, deals: int, seed: int) -> float:
    """Wall seconds of a bare SimPy model with ``world``'s timeouts and requests.

    Each deal is a process that makes, system by system in quote-to-cash order, the
    same number of calls the real run made (a resource request on systems with a
    bulkhead, then a timeout of a latency drawn from the system's distribution), plus
    its share of the run's retry sleeps; an arrivals process starts the deals.
    """
    env = simpy.Environment()
    gen = np.random.default_rng(seed)
    calls = {name: line.calls for name, line in world.lines.items()}
    caps = {name: line.bulkhead.capacity for name, line in world.lines.items() if line.bulkhead}
    # The skeleton takes a simpy.Resource slot wherever the run took a bulkhead slot.
    resources = {name: simpy.Resource(env, cap) for name, cap in caps.items()}
    latency = {
        name: latency_sampler(world.scenario.knobs(name).latency)(gen, count).tolist()
        for name, count in calls.items()
    }
    sleeps = world.runtime.sleeps
    plan: list[list[str]] = [[] for _ in range(deals)]
    remaining = dict(calls)
    i = 0
    while any(remaining.values()):  # deal the calls out round-robin, in workflow order
        for system in QUOTE_TO_CASH:
            if remaining[system]:
                plan[i % deals].append(system)
                remaining[system] -= 1
        i += 1
    gaps = gen.exponential(3600.0 / world.scenario.workload.arrivals_per_hour, deals).tolist()

    def deal(steps: list[str], naps: int) -> Process:
        for system in steps:
            res = resources.get(system)
            if res is not None:
                with res.request() as req:
                    yield req
                    yield env.timeout(latency[system].pop())
            else:
                yield env.timeout(latency[system].pop())
        for _ in range(naps):
            yield env.timeout(1.0)

    def arrivals() -> Process:
        for n in range(deals):
            yield env.timeout(gaps[n])
            env.process(deal(plan[n], sleeps // deals + (n < sleeps % deals)))

    env.process(arrivals())
    return _timed(env)


def straightforward(world: World, count: int, bulkheads: Bulkheads = "resource") -> float:
    """Wall seconds of ``count`` deals through a plain SimPy model of quote-to-cash.

    Args:
        world: A fresh world (not run): its vendor models, weather, workload and
            policy are used, its orchestrator and runtime are not.
        count: Deals to close.
        bulkheads: ``"resource"``: a ``simpy.Resource`` per capped system, as plain
            SimPy code would have it (an event per request and per release).
            ``"simulator"``: the simulator's own ``Bulkhead`` (an event only when a
            caller must wait), so that the two differ by the orchestrator alone.
    """
    env = simpy.Environment()
    policy = world.policy
    retry, timeout = policy.retry, policy.timeout
    faults = {name: line.faults for name, line in world.lines.items()}
    capped = {name: line.bulkhead.capacity for name, line in world.lines.items() if line.bulkhead}
    plain = bulkheads == "resource"  # one kind or the other, never both
    resources = {name: simpy.Resource(env, cap) for name, cap in capped.items() if plain}
    shared = {name: Bulkhead(env, cap) for name, cap in capped.items() if not plain}
    accepted: simpy.Store = simpy.Store(env)
    rate = world.scenario.workload.arrivals_per_hour

    def call(system: str, operation: str, params: Mapping[str, Any], key: str | None) -> Process:
        weather = faults[system]
        resource = resources.get(system)
        bulkhead = shared.get(system)
        for attempt in range(1, retry.max_attempts + 1):
            request = resource.request() if resource is not None else None
            if request is not None:
                yield request
            turn = bulkhead.acquire() if bulkhead is not None else None
            if turn is not None:
                yield turn
            status, body, retry_after, latency, lost = weather(operation, params, key, env.now)
            if latency < timeout:
                yield env.timeout(latency)
                weather.done()
                if lost:
                    yield env.timeout(timeout - latency)
            else:
                lost = True
                env.timeout(latency).callbacks.append(weather.done)
                yield env.timeout(timeout)
            if resource is not None and request is not None:
                resource.release(request)
            if bulkhead is not None:
                bulkhead.release()
            if not lost and status < 300:
                return body
            busy = status == 400 and body["code"] == "SSS_REQUEST_LIMIT_EXCEEDED"
            if not lost and status < 500 and status != 429 and not busy:
                return None  # a business "no"
            if attempt < retry.max_attempts:
                delay = min(retry.cap, retry.base * 2 ** (attempt - 1)) + (retry_after or 0.0)
                yield env.timeout(delay)
        return None

    def close(deal: Deal) -> Process:
        wf, cur = deal.id, deal.currency
        account = yield from call("crm", "getAccount", {"id": deal.account_id}, None)
        if account is None or account["status"] != "active":
            return
        acc, name, mail = account["id"], account["name"], account["email"]
        who = {"externalId": acc, "companyName": name, "email": mail, "currency": cur}
        who["crmAccountId"] = acc
        customer = yield from call("erp", "upsertCustomer", who, f"{wf}:customer")
        if customer is None:
            return
        lines = [
            {"sku": x.sku, "quantity": x.quantity, "unitPrice": x.unit_price} for x in deal.lines
        ]
        order = {"customerId": customer["id"], "externalId": wf, "currency": cur, "lines": lines}
        created = yield from call("erp", "createSalesOrder", order, f"{wf}:order")
        if created is not None:
            yield accepted.put((deal, account, customer["id"], created["id"]))

    def fulfil() -> Process:
        while True:
            deal, account, customer_id, order_id = yield accepted.get()
            wf, acc, name, plan = deal.id, account["id"], account["name"], deal.plan
            mail, seats, cur = account["email"], deal.seats, deal.currency
            buyer = {"externalId": acc, "name": name, "email": mail, "erpCustomerId": customer_id}
            sub = {"customer": buyer, "plan": plan, "quantity": seats, "currency": cur}
            sub["salesOrderId"] = order_id
            created = yield from call("billing", "createSubscription", sub, f"{wf}:subscription")
            if created is None:
                continue
            grant = {
                "accountId": acc,
                "subscriptionId": created["id"],
                "plan": plan,
                "seats": seats,
            }
            yield from call("provisioning", "createEntitlement", grant, f"{wf}:entitlement")
            subject = f"Onboard {name} ({plan})"
            case = {"accountId": acc, "type": "onboarding", "subject": subject}
            case["salesOrderId"] = order_id
            yield from call("support", "createCase", case, f"{wf}:onboarding")
            invoice = {"salesOrderId": order_id, "amount": deal.total, "currency": cur}
            yield from call("erp", "createInvoice", invoice, f"{wf}:invoice")

    def arrivals() -> Process:
        for n, (gap, deal) in enumerate(deals(world.streams, world.book, world.plans, rate), 1):
            yield env.timeout(gap)
            env.process(close(deal))
            if n == count:
                return

    for _ in range(world.scenario.broker.consumers):
        env.process(fulfil())
    env.process(arrivals())
    return _timed(env)


def _timed(env: simpy.Environment) -> float:
    """Wall seconds of running ``env`` to its end, run the way ``World.run`` runs.

    That is, in steps of 10 simulated minutes with ``gc.freeze`` between them, under
    the same garbage-collector setting: the yardsticks get the same treatment as the
    simulator.
    """
    with fewer_gc_pauses():
        start = time.perf_counter()
        while not drained(env):
            env.run(until=env.now + 600.0)
            gc.freeze()
        return time.perf_counter() - start
