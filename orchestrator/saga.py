"""Sagas: a list of undo steps, run backwards when the story cannot finish.

Like a hiker who drops a breadcrumb at every fork, a saga records how to undo each
committed step as it goes; on failure it walks the crumbs back in reverse order.
An undo that cannot finish is handed to people: the saga escalates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from orchestrator.client import Client
from orchestrator.effects import Workflow
from orchestrator.errors import CallError

__all__ = ["Escalated", "Saga", "Undo"]


class Undo(NamedTuple):
    """How to undo one committed step."""

    step: str
    system: str
    operation: str
    params: Mapping[str, Any]


class Escalated(Exception):
    """Compensation could not finish; the workflow needs a person.

    Attributes:
        reason: What failed, e.g. ``"erp.cancelSalesOrder: 503"``.
        pending: The undo steps still to do, most recent first.
    """

    def __init__(self, reason: str, pending: tuple[Undo, ...]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.pending = pending


@dataclass(slots=True)
class Saga:
    """The committed steps of one workflow, and how to undo them.

    Attributes:
        workflow_id: The workflow's id; undo keys derive from it.
        client: The client used for undo calls.
        done: Undo steps in commit order.
    """

    workflow_id: str
    client: Client
    done: list[Undo] = field(default_factory=list)

    def did(self, step: str, system: str, operation: str, params: Mapping[str, Any]) -> None:
        """Record that ``step`` committed and is undone by ``system.operation(params)``."""
        self.done.append(Undo(step, system, operation, params))

    def compensate(self) -> Workflow:
        """Undo the committed steps in reverse order (a sub-workflow).

        Returns:
            True if something was undone, False if there was nothing to undo or
            compensation is switched off.

        Raises:
            Escalated: An undo step failed after the compensation retry budget.
        """
        client = self.client
        if not client.policy.compensation or not self.done:
            return False
        while self.done:
            undo = self.done[-1]
            try:
                yield from client.call(
                    self.workflow_id,
                    f"{undo.step}:undo",
                    undo.system,
                    undo.operation,
                    undo.params,
                    retry=client.policy.compensation_retry,
                )
            except CallError as exc:
                raise Escalated(str(exc), tuple(reversed(self.done))) from exc
            self.done.pop()
        return True
