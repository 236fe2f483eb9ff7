"""How a failed saga ends: rejected, failed, compensated, abandoned or escalated."""

from __future__ import annotations

from typing import Any

from orchestrator.effects import Workflow
from orchestrator.errors import CallError, Rejected
from orchestrator.events import ORDER, Endings
from orchestrator.saga import Escalated, Saga, spent

__all__ = ["settle"]


def settle(
    saga: Saga,
    deal_id: str,
    error: CallError,
    announce: bool = True,
    endings: Endings = ORDER,
) -> Workflow:
    """Compensate what ``saga`` committed and publish how the workflow ended.

    Compensated if something was undone; abandoned if something stands and
    compensation is switched off; otherwise nothing had committed, and the deal
    was rejected (a business "no") or failed (systems down).

    Args:
        saga: The failed saga.
        deal_id: Its deal.
        error: What failed.
        announce: Publish the ending; ``False`` leaves that to the caller (the
            outbox writes it to its store with the state change).
        endings: The workflow's ending topics (quote-to-cash's by default); the
            ending is published with ``deal_id`` as key and the workflow id as
            ``workflow`` in the body.

    Returns:
        The ending's ``(topic, payload)`` (via ``yield from``).
    """
    ending: tuple[str, dict[str, Any]]
    if saga.done and not saga.client.policy.compensation:
        ending = endings.abandoned, {"reason": str(error)}
    else:
        try:
            undone = yield from saga.compensate()
        except Escalated as exc:
            ending = (
                endings.escalated,
                {
                    "reason": exc.reason,
                    "cause": str(error),
                    "budget": exc.budget,
                },
            )
        else:
            if undone:
                topic = endings.compensated
            else:
                topic = endings.rejected if isinstance(error, Rejected) else endings.failed
            # how much of its budget the failed step spent, so that a reader can
            # tell a spent budget from a refusal
            ending = topic, {"reason": str(error), "budget": spent(error)}
    ending[1]["workflow"] = saga.workflow_id
    if announce:
        yield from saga.client.publish(ending[0], deal_id, ending[1])
    return ending
