"""The event log of a run: every call and every event, one JSON line each, in order.

The trace hash says *whether* two runs differ; the journal says *what* happened, to
whom, like a ship's log: each vendor call (time, correlation id, workflow, system,
operation, attempt, idempotency key, outcome, latency) and each event on the broker
(published, refused while the broker was down, delivered, delivered again as a
duplicate, failed and coming again, dropped, dead-lettered). The correlation id is
the deal's id on every line, so one deal's story is one filter away::

    jq -c 'select(.correlation == "D-000042")' build/events.jsonl

Lines are written as the run goes, in batches, so memory stays flat; a run without
``--events`` has no journal at all and pays nothing.
"""

from __future__ import annotations

from json.encoder import encode_basestring_ascii
from typing import IO, Protocol

from orchestrator.effects import Call

__all__ = ["EventLog", "Journal", "Logs", "outcome"]

FLUSH_EVERY = 4096
"""Lines buffered before they are written out."""


class EventLog(Protocol):
    """What a run tells about every call and every event (a journal, traces)."""

    def call(
        self, sent: float, call: Call, status: int, latency: float, blind: bool = False
    ) -> None:
        """One vendor call and its outcome (``blind``: the system dropped the
        correlation header)."""

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
        """One thing that happened to an event on the broker."""

    def flush(self) -> None:
        """Write out what is buffered."""


class Logs:
    """Several event logs told the same things (``--events`` and ``--otlp`` at once)."""

    def __init__(self, *logs: EventLog) -> None:
        self.logs = logs

    def call(
        self, sent: float, call: Call, status: int, latency: float, blind: bool = False
    ) -> None:
        """One vendor call, to every log."""
        for log in self.logs:
            log.call(sent, call, status, latency, blind)

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
        """One broker event, to every log."""
        for log in self.logs:
            log.event(now, kind, topic, key, correlation, event_id, group, attempt, reason)

    def flush(self) -> None:
        """Flush every log."""
        for log in self.logs:
            log.flush()


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

    def _write(self, line: str) -> None:
        self._lines.append(line)
        self.lines += 1
        if len(self._lines) >= FLUSH_EVERY:
            self.flush()

    def call(
        self, sent: float, call: Call, status: int, latency: float, blind: bool = False
    ) -> None:
        """One vendor call and its outcome, logged when the caller has it.

        Args:
            sent: When it was sent.
            call: The call.
            status: The HTTP-like status, 0 when no response came in time.
            latency: Seconds until the caller had its answer (or gave up).
            blind: The system dropped the correlation header: the line has none,
                as the vendor's own log would.
        """
        correlation = None if blind else call.correlation
        # Written field by field, not with json.dumps of a dict: a third of the cost.
        # Times in microseconds, always six decimals.
        self._write(
            f'{{"t":{sent + latency:.6f},"kind":"call","sent":{sent:.6f},'
            f'"correlation":{_text(correlation)},"workflow":{_text(call.workflow)},'
            f'"system":{_text(call.system)},"operation":{_text(call.operation)},'
            f'"attempt":{call.attempt},"key":{_text(call.key)},"status":{status},'
            f'"outcome":"{outcome(status)}","latency":{latency:.6f}}}'
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
            kind: ``publish``, ``refused`` (the broker was down), ``deliver``,
                ``duplicate`` (a delivery of an event already applied, or a copy),
                ``retry`` (the consumer failed; it comes again), ``crash`` (applied,
                but the acknowledgement was lost), ``drop``, ``dead_letter``.
            topic: The event's topic.
            key: Its partition key.
            correlation: The deal it belongs to.
            event_id: Its id, once it has one.
            group: The consumer group concerned.
            attempt: The delivery's number.
            reason: Why it failed, was dropped or dead-lettered.
        """
        line = (
            f'{{"t":{now:.6f},"kind":"{kind}","correlation":{_text(correlation or key)},'
            f'"topic":{_text(topic)},"key":{_text(key)}'
        )
        if event_id is not None:
            line += f',"event":{_text(event_id)}'
        if group is not None:
            line += f',"group":{_text(group)}'
        if attempt is not None:
            line += f',"attempt":{attempt}'
        if reason is not None:
            line += f',"reason":{_text(reason)}'
        self._write(line + "}")

    def flush(self) -> None:
        """Write out what is buffered."""
        if self._lines:
            self.out.write("\n".join(self._lines) + "\n")
            self._lines.clear()


def _text(value: str | None) -> str:
    """A JSON string (or null), as ``json.dumps`` writes it."""
    return "null" if value is None else encode_basestring_ascii(value)


def outcome(status: int) -> str:
    """A call's outcome by its status: ok, timeout, throttled, unavailable or rejected."""
    if status == 0:
        return "timeout"
    if status < 300:
        return "ok"
    if status == 429:
        return "throttled"
    if status >= 500:
        return "unavailable"
    return "rejected"
