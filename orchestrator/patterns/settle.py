"""How a failed quote-to-cash saga ends: rejected, failed, compensated or escalated."""

from __future__ import annotations

from orchestrator.effects import Workflow
from orchestrator.errors import CallError, Rejected
from orchestrator.events import (
    ORDER_ABANDONED,
    ORDER_COMPENSATED,
    ORDER_ESCALATED,
    ORDER_FAILED,
    ORDER_REJECTED,
)
from orchestrator.saga import Escalated, Saga

__all__ = ["settle"]


def settle(saga: Saga, deal_id: str, error: CallError, announce: bool = True) -> Workflow:
    """Compensate what ``saga`` committed and publish how the deal ended.

    Compensated if something was undone; abandoned if something stands and
    compensation is switched off; otherwise nothing had committed, and the deal
    was rejected (a business "no") or failed (systems down).

    Args:
        saga: The failed saga.
        deal_id: Its deal.
        error: What failed.
        announce: Publish the ending; ``False`` leaves that to the caller (the
            outbox writes it to its store with the state change).

    Returns:
        The ending's ``(topic, payload)`` (via ``yield from``).
    """
    if saga.done and not saga.client.policy.compensation:
        ending = ORDER_ABANDONED, {"reason": str(error)}
    else:
        try:
            undone = yield from saga.compensate()
        except Escalated as exc:
            ending = ORDER_ESCALATED, {"reason": exc.reason, "cause": str(error)}
        else:
            if undone:
                topic = ORDER_COMPENSATED
            else:
                topic = ORDER_REJECTED if isinstance(error, Rejected) else ORDER_FAILED
            ending = topic, {"reason": str(error)}
    if announce:
        yield from saga.client.publish(ending[0], deal_id, ending[1])
    return ending
