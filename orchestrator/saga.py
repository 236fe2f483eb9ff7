"""Sagas: a list of undo steps, run backwards when the story cannot finish.

Like a hiker who drops a breadcrumb at every fork, a saga records how to undo each
committed step as it goes; on failure it walks the crumbs back in reverse order.
An undo that cannot finish is handed to people: the saga escalates.

Some crumbs are uncertain. When a create timed out and its retries then failed,
the vendor may hold the record anyway, and we never learnt its id. The saga keeps
the create itself: compensation first replays it with the same idempotency key
(the vendor answers with the stored result if it had committed, or commits it
now), then undoes whatever that answer names. No orphan survives an unknown outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from orchestrator.client import Client
from orchestrator.effects import Workflow
from orchestrator.errors import CallError, Rejected, Retryable

__all__ = ["Escalated", "Saga", "Undo", "UndoFor"]

UndoFor = Callable[[Mapping[str, Any]], tuple[str, str, Mapping[str, Any]]]
"""Given a create's response body, the ``(system, operation, params)`` that undoes it."""


class Undo(NamedTuple):
    """How to undo one committed (or possibly committed) step.

    ``system.operation(params)`` is the step's create (blank for a step committed by
    an earlier workflow, see ``Saga.did``). ``body`` is what the create answered,
    and ``undo_for(body)`` is the call that undoes it: worked out only when the saga
    walks back, since most sagas never do. An uncertain step (the create's outcome is
    unknown) has no ``body`` yet: compensation replays the create with its key first.
    """

    step: str
    system: str
    operation: str
    params: Mapping[str, Any]
    undo_for: UndoFor
    body: Mapping[str, Any] | None = None

    def call(self) -> tuple[str, str, Mapping[str, Any]] | None:
        """The ``(system, operation, params)`` that undoes this step; None if uncertain."""
        return None if self.body is None else self.undo_for(self.body)


class Escalated(Exception):
    """Compensation could not finish; the workflow needs a person.

    Attributes:
        reason: What failed and after how much of which budget, e.g.
            ``"erp.cancelSalesOrder: 503 UNAVAILABLE after 10 of 10 attempts
            (compensation_retry)"``.
        pending: The steps not undone yet, most recent first: what a person must
            undo by hand (``Undo.call`` names the call for each certain step).
        budget: ``{"name", "attempts", "max_attempts", "retryable"}``: the retry
            budget the failed undo had, and how much of it was spent (all of it,
            unless the vendor refused outright).
    """

    def __init__(
        self, reason: str, pending: tuple[Undo, ...], budget: dict[str, Any] | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.pending = pending
        self.budget = budget or {}


def spent(error: CallError) -> dict[str, Any]:
    """``{"name", "attempts", "max_attempts", "retryable"}``: the budget a failed call
    had and how much of it it spent (a refusal spends one attempt)."""
    name, attempts, most = error.spent or ("none", 1, 1)
    retryable = isinstance(error, Retryable)
    return {"name": name, "attempts": attempts, "max_attempts": most, "retryable": retryable}


@dataclass(slots=True)
class Saga:
    """The committed steps of one workflow, and how to undo them.

    Attributes:
        workflow_id: The workflow's id; step keys derive from it.
        client: The client used for every call of the saga.
        correlation: The deal the workflow serves, sent with every call (the
            workflow id when None).
        done: Undo steps in commit order.
    """

    workflow_id: str
    client: Client
    correlation: str | None = None
    done: list[Undo] = field(default_factory=list)

    def did(self, step: str, body: Mapping[str, Any], undo_for: UndoFor) -> None:
        """Record that ``step`` committed earlier, answering ``body``; ``undo_for`` undoes it."""
        self.done.append(Undo(step, "", "", {}, undo_for, body))

    def step(
        self,
        step: str,
        system: str,
        operation: str,
        params: Mapping[str, Any],
        undo_for: UndoFor,
    ) -> Workflow:
        """Run one committing step and record its undo (a sub-workflow).

        Returns:
            The step's response body.

        Raises:
            CallError: The step failed; if it may have committed anyway, an
                uncertain undo was recorded first.
        """
        try:
            body = yield from self.client.call(
                self.workflow_id, step, system, operation, params, correlation=self.correlation
            )
        except CallError as exc:
            if exc.maybe_committed:
                self.done.append(Undo(step, system, operation, params, undo_for))
            raise
        self.done.append(Undo(step, system, operation, params, undo_for, body))
        return body

    def compensate(self) -> Workflow:
        """Undo the committed steps in reverse order (a sub-workflow).

        Returns:
            How many steps were undone: 0 if there was nothing to undo (uncertain
            steps that turned out never to have committed included), or if
            compensation is switched off.

        Raises:
            Escalated: An undo step failed after the compensation retry budget.
        """
        client = self.client
        if not client.policy.compensation:
            return 0
        retry = client.policy.compensation_retry
        undone = 0
        while self.done:
            undo = self.done[-1]
            try:
                body = undo.body
                if body is None:
                    try:
                        body = yield from client.call(
                            self.workflow_id,
                            undo.step,
                            undo.system,
                            undo.operation,
                            undo.params,
                            retry=retry,
                            correlation=self.correlation,
                        )
                    except Rejected:
                        self.done.pop()  # the vendor says it never committed
                        continue
                    # Now certain: should the undo fail, the person sees what to undo.
                    self.done[-1] = undo._replace(body=body)
                system, operation, params = undo.undo_for(body)
                yield from client.call(
                    self.workflow_id,
                    f"{undo.step}:undo",
                    system,
                    operation,
                    params,
                    retry=retry,
                    correlation=self.correlation,
                )
            except CallError as exc:
                budget = spent(exc)
                reason = f"{exc} after {budget['attempts']} of {budget['max_attempts']} attempts"
                raise Escalated(
                    f"{reason} ({budget['name']})", tuple(reversed(self.done)), budget
                ) from exc
            self.done.pop()
            undone += 1
        return undone
