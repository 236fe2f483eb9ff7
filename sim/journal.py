"""The event log of a run: every call and every event, one JSON line each, in order.

The trace hash says *whether* two runs differ; the journal says *what* happened, to
whom, like a ship's log: each vendor call (time, correlation id, workflow, system,
operation, attempt, idempotency key, outcome, latency) and each event on the broker
(published, refused while the broker was down, delivered, delivered again as a
duplicate, dropped, dead-lettered). The correlation id is the deal's id on every
line, so one deal's story is one filter away::

    jq -c 'select(.correlation == "D-000042")' build/events.jsonl

Lines are written as the run goes, in batches, so memory stays flat; a run without
``--events`` has no journal at all and pays nothing.
"""

from __future__ import annotations

import json
from typing import IO, Any

from orchestrator.effects import Call

__all__ = ["Journal"]

FLUSH_EVERY = 4096
"""Lines buffered before they are written out."""


class Journal:
    """Writes the run's event log as JSON Lines.

    Args:
        out: An open text file.
    """

    __slots__ = ("_lines", "lines", "out")

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self._lines: list[str] = []
        self.lines = 0

    def _write(self, entry: dict[str, Any]) -> None:
        self._lines.append(json.dumps(entry, separators=(",", ":"), default=str))
        self.lines += 1
        if len(self._lines) >= FLUSH_EVERY:
            self.flush()

    def call(self, sent: float, call: Call, status: int, latency: float) -> None:
        """One vendor call and its outcome, logged when the caller has it.

        Args:
            sent: When it was sent.
            call: The call.
            status: The HTTP-like status, 0 when no response came in time.
            latency: Seconds until the caller had its answer (or gave up).
        """
        self._write(
            {
                "t": round(sent + latency, 6),
                "kind": "call",
                "sent": round(sent, 6),
                "correlation": call.correlation,
                "workflow": call.workflow,
                "system": call.system,
                "operation": call.operation,
                "attempt": call.attempt,
                "key": call.key,
                "status": status,
                "outcome": _outcome(status),
                "latency": round(latency, 6),
            }
        )

    def event(
        self,
        now: float,
        kind: str,
        topic: str,
        key: str,
        correlation: str | None,
        event_id: str | None = None,
        group: str | None = None,
        attempt: int | None = None,
        reason: str | None = None,
    ) -> None:
        """One thing that happened to an event on the broker.

        Args:
            now: When.
            kind: ``publish``, ``refused``, ``deliver``, ``duplicate``, ``drop``,
                ``dead_letter``.
            topic: The event's topic.
            key: Its partition key.
            correlation: The deal it belongs to.
            event_id: Its id, once it has one.
            group: The consumer group concerned.
            attempt: The delivery's number.
            reason: Why it was dropped or dead-lettered.
        """
        entry: dict[str, Any] = {
            "t": round(now, 6),
            "kind": kind,
            "correlation": correlation or key,
            "topic": topic,
            "key": key,
        }
        if event_id is not None:
            entry["event"] = event_id
        if group is not None:
            entry["group"] = group
        if attempt is not None:
            entry["attempt"] = attempt
        if reason is not None:
            entry["reason"] = reason
        self._write(entry)

    def flush(self) -> None:
        """Write out what is buffered."""
        if self._lines:
            self.out.write("\n".join(self._lines) + "\n")
            self._lines.clear()


def _outcome(status: int) -> str:
    if status == 0:
        return "timeout"
    if status < 300:
        return "ok"
    if status == 429:
        return "throttled"
    if status >= 500:
        return "unavailable"
    return "rejected"
