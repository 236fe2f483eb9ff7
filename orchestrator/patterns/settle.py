"""How a failed quote-to-cash saga ends: rejected, failed, compensated or escalated."""

from __future__ import annotations

from orchestrator.effects import Publish, Workflow
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
    """Compensate what ``saga`` committed and publish how the deal ended."""
    if not saga.done:
        topic = ORDER_REJECTED if isinstance(error, Rejected) else ORDER_FAILED
    else:
        try:
            undone = yield from saga.compensate()
        except Escalated as exc:
            yield Publish(ORDER_ESCALATED, deal_id, {"reason": exc.reason, "cause": str(error)})
            return
        topic = ORDER_COMPENSATED if undone else ORDER_ABANDONED
    yield Publish(topic, deal_id, {"reason": str(error)})
