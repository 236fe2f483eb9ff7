"""The reference orchestrator: pure workflow logic that yields effects.

Think of a workflow as a recipe read aloud in a kitchen: it says "call the ERP",
"wait thirty seconds", "announce that the order was accepted", and somebody else
(a runtime) does the cooking. The recipe never touches a stove, a clock or a die,
so the same recipe runs in simulated time (``sim.driver``) and against real HTTP.
"""

from orchestrator.effects import Call, Effect, Now, Publish, Sleep, Workflow
from orchestrator.errors import (
    CallError,
    CircuitOpen,
    Conflict,
    Rejected,
    Retryable,
    Throttled,
    TimeoutUnknown,
    Unavailable,
)

__all__ = [
    "Call",
    "CallError",
    "CircuitOpen",
    "Conflict",
    "Effect",
    "Now",
    "Publish",
    "Rejected",
    "Retryable",
    "Sleep",
    "Throttled",
    "TimeoutUnknown",
    "Unavailable",
    "Workflow",
]
