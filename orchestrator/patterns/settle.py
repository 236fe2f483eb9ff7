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


def settle(saga: Saga, deal_id: str, error: CallError) -> Workflow:
    """Compensate what ``saga`` committed and publish how the deal ended.

    Compensated if something was undone; abandoned if something stands and
    compensation is switched off; otherwise nothing had committed, and the deal
    was rejected (a business "no") or failed (systems down).
    """
    publish = saga.client.publish
    if saga.done and not saga.client.policy.compensation:
        yield from publish(ORDER_ABANDONED, deal_id, {"reason": str(error)})
        return
    try:
        undone = yield from saga.compensate()
    except Escalated as exc:
        yield from publish(ORDER_ESCALATED, deal_id, {"reason": exc.reason, "cause": str(error)})
        return
    if undone:
        topic = ORDER_COMPENSATED
    else:
        topic = ORDER_REJECTED if isinstance(error, Rejected) else ORDER_FAILED
    yield from publish(topic, deal_id, {"reason": str(error)})
