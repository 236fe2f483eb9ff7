"""Helpers for tests: small scenarios, and a runtime that needs no SimPy.

``Plan`` interprets a workflow's effects from a script of answers, the way a
stand-in actor reads lines from a card: each ``Call`` gets the next scripted answer
for its ``system.operation`` (a body, or an exception to throw), ``Now`` reads a
clock that ``Sleep`` advances, and ``Publish`` is noted. A lenient plan ad-libs a
generic body for a line it was not given; a strict one (``strict=True``) stops the
play instead, so a test that claims a sequence of calls cannot pass on an answer
nobody wrote.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from typing import Any, Final

from orchestrator.effects import Call, Now, Publish, Sleep, Workflow
from sim.scenario import Scenario
from sim.systems import Erp

__all__ = [
    "DEFAULT",
    "Plan",
    "UnexpectedCall",
    "customer_params",
    "erp_with_customer",
    "quiet_scenario",
]


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Final = _Default()
"""A scripted answer that is the generic body (``{"id": ...}``), for a strict plan's
calls whose answer does not matter."""


class UnexpectedCall(AssertionError):
    """A strict plan met a call its script did not expect."""


class Plan:
    """Runs a workflow against scripted answers, with no simulator.

    Args:
        answers: ``"system.operation"`` -> answers in order; an answer is a body
            (returned) or an exception instance (thrown). When a list runs out,
            the last answer repeats; an operation with no script answers ``{"id": ...}``.
            ``publish.<topic>``: errors the broker raises to the next publishes
            on that topic, one each; then publishing succeeds.
        strict: Every call must be scripted, and each answer is given once: an
            unscripted operation, or one called more often than it has answers,
            raises ``UnexpectedCall`` out of :meth:`run`. :meth:`leftover` then
            says which answers were never asked for.
    """

    def __init__(
        self, answers: Mapping[str, Iterable[Any]] | None = None, strict: bool = False
    ) -> None:
        self.answers = {name: deque(items) for name, items in (answers or {}).items()}
        self.strict = strict
        self.calls: list[Call] = []
        self.published: list[Publish] = []
        self.slept: list[float] = []
        self.now = 0.0
        self._ids: defaultdict[str, int] = defaultdict(int)

    def answer(self, call: Call) -> Any:
        """The scripted answer to ``call``."""
        name = f"{call.system}.{call.operation}"
        queue = self.answers.get(name)
        if self.strict:
            return self._strictly(name, queue)
        if queue:
            answer = queue.popleft() if len(queue) > 1 else queue[0]
            return self._generic(call) if answer is DEFAULT else answer
        return self._generic(call)

    def _strictly(self, name: str, queue: deque[Any] | None) -> Any:
        made = sum(1 for c in self.calls if f"{c.system}.{c.operation}" == name)
        if queue is None:
            scripted = ", ".join(sorted(n for n in self.answers if not n.startswith("publish.")))
            raise UnexpectedCall(
                f"{name} was called (call {len(self.calls)}), but the strict script has no "
                f"answer for it; it scripts: {scripted or 'nothing'}. Script it (DEFAULT for "
                "the generic body) or, if any answer will do, use a lenient Plan"
            )
        if not queue:
            raise UnexpectedCall(
                f"{name} was called {made} times, but the strict script has "
                f"{made - 1} answers for it: add one, or find why it was called again"
            )
        answer = queue.popleft()
        return self._generic(self.calls[-1]) if answer is DEFAULT else answer

    def leftover(self) -> dict[str, int]:
        """Operation -> how many of its scripted answers were never asked for."""
        return {
            name: len(queue)
            for name, queue in self.answers.items()
            if queue and not name.startswith("publish.")
        }

    def _generic(self, call: Call) -> dict[str, Any]:
        name = f"{call.system}.{call.operation}"
        self._ids[name] += 1
        return {
            "id": f"{call.operation}-{self._ids[name]}",
            "status": "active",
            "customerId": "cus-1",
            "name": "Acme",
            "email": "billing@acme.example.com",
        }

    def run(self, workflow: Workflow, sleeps: int | None = None) -> Any:
        """Drive ``workflow`` to its end and return its value (or raise its error).

        Args:
            workflow: The workflow.
            sleeps: Stop after this many ``Sleep`` effects (a workflow that runs
                forever, like the outbox relay); None: run to the end.
        """
        value: Any = None
        error: BaseException | None = None
        while sleeps is None or len(self.slept) < sleeps:
            try:
                effect = workflow.throw(error) if error is not None else workflow.send(value)
            except StopIteration as stop:
                return stop.value
            value, error = None, None
            if isinstance(effect, Call):
                self.calls.append(effect)
                answer = self.answer(effect)
                if isinstance(answer, BaseException):
                    error = answer
                else:
                    value = answer
            elif isinstance(effect, Now):
                value = self.now
            elif isinstance(effect, Sleep):
                self.slept.append(effect.seconds)
                self.now += effect.seconds
            elif isinstance(effect, Publish):
                refusal = self.answers.get(f"publish.{effect.topic}")
                if refusal and isinstance(refusal[0], BaseException):
                    error = refusal.popleft()  # the broker refuses this attempt
                else:
                    self.published.append(effect)

    def operations(self) -> list[str]:
        """``system.operation`` of every call made, in order."""
        return [f"{c.system}.{c.operation}" for c in self.calls]


def quiet_scenario(**overrides: Any) -> Scenario:
    """A small scenario with no random weather: faults come only from a test's script.

    Keyword arguments replace top-level fields (``policy={...}`` and so on).
    """
    data: dict[str, Any] = {
        "name": "quiet",
        "seed": 1,
        "horizon": "2h",
        "pattern": "sync_chain",
        "workload": {
            "arrivals_per_hour": 600,
            "accounts": 20,
            "inactive_account_rate": 0,
            "onboarding_time": "1h",
        },
        "systems": {
            "crm": {"latency": "100ms"},
            "erp": {"latency": "300ms", "concurrency": 3},
            "billing": {"latency": "200ms"},
            "provisioning": {"latency": "200ms", "concurrency": 2},
            "support": {"latency": "150ms"},
        },
        "policy": {
            "timeout": "2s",
            "retry": {"max_attempts": 4, "base": "200ms", "cap": "2s"},
            "compensation_retry": {"max_attempts": 8, "base": "500ms", "cap": "5s"},
            "breaker": None,
        },
        "broker": {"consumers": 4, "max_deliveries": 5, "redelivery": {"base": "5s", "cap": "30s"}},
    }
    data.update(overrides)
    return Scenario.model_validate(data)


def customer_params(external_id: str = "ACC-000001") -> dict[str, Any]:
    """The ``upsertCustomer`` body for a CRM account."""
    return {
        "externalId": external_id,
        "companyName": "Acme",
        "email": "billing@acme.example.com",
        "currency": "USD",
        "crmAccountId": external_id,
    }


def order_params(n: int = 1) -> dict[str, Any]:
    """A ``createSalesOrder`` body for deal ``D-00000n`` of customer ``CUS-000001``."""
    return {
        "customerId": "CUS-000001",
        "externalId": f"D-{n:06d}",
        "currency": "USD",
        "lines": [{"sku": "PRO-SEAT", "quantity": 1, "unitPrice": 10.0}],
    }


def erp_with_customer(**kwargs: Any) -> Erp:
    """An ERP model (built with ``kwargs``) holding customer ``CUS-000001``."""
    erp = Erp(**kwargs)
    status, _ = erp("upsertCustomer", customer_params(), None, 0.0)
    assert status == 200
    return erp
