"""Business and technical metrics, recorded from the events a run publishes.

The recorder is the operations analyst with a stopwatch: it starts the watch when
a deal closes, notes when the order is accepted (what sales sees) and when it goes
live, and tallies how each deal ended. It listens to the broker's tap, so every
pattern is measured the same way, by the business events it emits.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator.client import OCCURRED
from orchestrator.events import (
    DEAD_LETTERED,
    ONBOARDING_COMPLETED,
    ORDER_ACCEPTED,
    ORDER_COMMITTED,
    ORDER_REVOKED,
    RECONCILED,
    XREF_STALE,
)
from orchestrator.workflows import LATER, Declaration, deal_of, declared
from orchestrator.workflows.quote_to_cash import DECLARED as QUOTE_TO_CASH
from sim.sample import Sample, quantiles

__all__ = ["Books", "Recorder", "quantiles"]

ENDINGS = {**QUOTE_TO_CASH.outcomes(), ORDER_REVOKED: "revoked", DEAD_LETTERED: "escalated"}
"""Terminal topic -> how the deal's first order ended (the outbox may also revoke a
commitment; a dead-lettered event of the order sends it to people)."""


@dataclass
class Books:
    """The books of one kind of workflow after the first order: asked for, running,
    and how each run ended.

    Like a ticket rail in a kitchen: a ticket goes up when an order comes in
    (``request``), comes down when the dish goes out or is sent back (``end``), and
    the count of tickets by outcome is the night's summary. Nothing here names a
    workflow: its declaration says what its endings are called.

    Attributes:
        declaration: The workflow's declaration.
        running: Workflow id -> its deal, kind and when it was asked for.
        ended: Workflow id -> how it ended.
        kinds: Kind -> how many were asked for.
        latency: Seconds from request to the intended ending, per run that got there.
        filed: Endings of the runs of deals filed away (gone from ``ended``).
    """

    declaration: Declaration
    running: dict[str, tuple[str, str, float]] = field(default_factory=dict)
    ended: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)
    latency: Sample = field(default_factory=Sample)
    filed: dict[str, int] = field(default_factory=dict)

    def request(self, workflow_id: str, deal_id: str, kind: str, now: float) -> None:
        """A run of kind ``kind`` was asked for at ``now``."""
        self.running[workflow_id] = (deal_id, kind, now)
        self.kinds[kind] = self.kinds.get(kind, 0) + 1

    def end(self, workflow_id: str, ending: str, at: float) -> None:
        """A run ended (``at``: when its fact happened); one not asked for, or
        already ended, is ignored (a duplicate announcement)."""
        asked = self.running.pop(workflow_id, None)
        if asked is None:
            return
        self.ended[workflow_id] = ending
        if ending == self.declaration.done_as:
            self.latency.append(at - asked[2])

    def summary(self) -> dict[str, Any]:
        """How many were asked for, by kind and by ending, and the latency to done."""
        counts = dict.fromkeys(self.declaration.outcomes().values(), 0)
        counts.update(self.filed)
        for ending in self.ended.values():
            counts[ending] += 1
        return {
            "requested": sum(self.kinds.values()),
            "by_kind": dict(sorted(self.kinds.items())),
            **counts,
            "in_flight": len(self.running),
            "latency_s": self.latency.quantiles(),
        }


@dataclass
class Recorder:
    """Tallies deals from the event stream.

    Attributes:
        sla_live: Seconds allowed from close to live.
        sla_commitment: Seconds allowed from close to acceptance.
        closed_at: Deal id -> when it closed (kept for onboarding and SLA).
        pending: Deals not ended yet -> when their order was accepted (or None).
        ended: Deal id -> how it ended.
        ended_at: Deal id -> when it was last active: its first order ended, or
            later a workflow of it (an amendment) did.
        filed: Deals filed away by the archive, by how they ended (their entries in
            ``closed_at``, ``ended`` and ``ended_at`` are gone; see :meth:`file`).
        commitment_latency: Seconds from close to acceptance, per accepted deal.
        cycle_time: Seconds from close to live, per live deal.
        ended_uncommitted: Deals that ended without their order ever accepted.
        stale_xrefs: Cross-references that could not be written back.
        onboarding: Seconds from close to the onboarding case resolved, as the
            support desk's webhook reported it (when it sends webhooks).
        redriven: Topics whose dead letters the pattern recovers by itself: not
            an escalation.
        books: Declaration prefix -> the books of each workflow after the first
            order (``amend``: amendments), derived from ``WORKFLOWS``.
    """

    sla_live: float
    sla_commitment: float
    closed_at: dict[str, float] = field(default_factory=dict)
    pending: dict[str, float | None] = field(default_factory=dict)
    ended: dict[str, str] = field(default_factory=dict)
    ended_at: dict[str, float] = field(default_factory=dict)
    filed: dict[str, int] = field(default_factory=dict)
    commitment_latency: Sample = field(default_factory=Sample)
    cycle_time: Sample = field(default_factory=Sample)
    live_in_sla: int = 0
    committed_in_sla: int = 0
    ended_uncommitted: int = 0
    stale_xrefs: int = 0
    onboarding: Sample = field(default_factory=Sample)
    redriven: frozenset[str] = frozenset()
    books: dict[str, Books] = field(default_factory=lambda: {d.prefix: Books(d) for d in LATER})
    reconciliations: int = 0
    reconciliation_failed: int = 0
    drift_found: int = 0
    drift_repaired: int = 0
    drift_retried: int = 0
    left_for_people: set[tuple[str, str, str]] = field(default_factory=set)
    repaired_deals: set[str] = field(default_factory=set)
    detection_lag: Sample = field(default_factory=Sample)
    resolved_filed: int = 0

    def __post_init__(self) -> None:
        self._outcomes = {
            topic: (books, ending)
            for books in self.books.values()
            for topic, ending in books.declaration.outcomes().items()
        }

    def fold(self) -> None:
        """Fold long samples into their sketches (a run calls it between steps)."""
        for sample in (
            self.commitment_latency,
            self.cycle_time,
            self.onboarding,
            self.detection_lag,
            *(books.latency for books in self.books.values()),
        ):
            sample.fold()

    def request(self, workflow_id: str, kind: str, now: float) -> None:
        """A declared workflow (``amend:D-1:2``) of kind ``kind`` was asked for at ``now``."""
        self.books_of(workflow_id).request(workflow_id, deal_of(workflow_id), kind, now)

    def books_of(self, workflow_id: str) -> Books:
        """The books a workflow after the first order is kept in.

        Raises:
            KeyError: ``workflow_id`` is no such workflow's id.
        """
        books = self._books(workflow_id)
        if books is None:
            raise KeyError(f"{workflow_id!r} is not the id of a workflow kept in books")
        return books

    def _books(self, workflow_id: str) -> Books | None:
        declaration = declared(workflow_id)
        return self.books.get(declaration.prefix) if declaration is not None else None

    def running(self) -> bool:
        """Whether any workflow after the first order is still running."""
        return any(books.running for books in self.books.values())

    def _ended(self, books: Books, workflow_id: str, ending: str, at: float, now: float) -> None:
        """A workflow after the first order ended: its deal was active until now."""
        books.end(workflow_id, ending, at)
        deal = deal_of(workflow_id)
        if deal in self.ended_at:
            self.ended_at[deal] = max(self.ended_at[deal], now)

    def crashed(self, workflow_id: str, reason: str, now: float) -> None:
        """A declared workflow gave up with an error nothing handled: it goes to
        people, as an escalation (an undeclared one, such as a relay, has no books)."""
        books = self._books(workflow_id)
        if books is not None:
            self._ended(books, workflow_id, "escalated", now, now)
        elif QUOTE_TO_CASH.owns(workflow_id):
            escalated = QUOTE_TO_CASH.endings.escalated
            self.observe(escalated, deal_of(workflow_id), {"reason": reason}, now)

    def close(self, deal_id: str, now: float) -> None:
        """A deal closed in the CRM at ``now``."""
        self.closed_at[deal_id] = now
        self.pending[deal_id] = None

    def observe(self, topic: str, key: str, payload: Mapping[str, Any], now: float) -> None:
        """The broker's tap: one published event."""
        pending = self.pending
        if topic == XREF_STALE:
            self.stale_xrefs += 1
            return
        if topic == RECONCILED:
            self._reconciled(payload, now)
            return
        if topic in (ORDER_ACCEPTED, ORDER_COMMITTED):
            if key in pending and pending[key] is None:
                # The outbox commits locally: the event carries the moment it did (as
                # does an event published late, after the broker came back).
                at = payload.get("committedAt", payload.get(OCCURRED, now))
                pending[key] = at
                latency = at - self.closed_at[key]
                self.commitment_latency.append(latency)
                if latency <= self.sla_commitment:
                    self.committed_in_sla += 1
            return
        if topic == DEAD_LETTERED:
            if payload.get("topic") in self.redriven:
                return
            workflow = str(payload.get("workflow", ""))
            books = self._books(workflow)
            if books is not None:  # e.g. an amendment's ERP posting went to people
                self._ended(books, workflow, "escalated", now, now)
                return
        if topic == ONBOARDING_COMPLETED:
            if key in self.closed_at:
                self.onboarding.append(now - self.closed_at[key])
            return
        ending = ENDINGS.get(topic)
        if ending is None:
            routed = self._outcomes.get(topic)
            if routed is not None:
                at = payload.get(OCCURRED, now)
                self._ended(routed[0], payload["workflow"], routed[1], at, now)
            return
        if key not in pending:
            return
        if pending.pop(key) is None:
            self.ended_uncommitted += 1
        self.ended[key] = ending
        self.ended_at[key] = now
        if ending == "completed":
            cycle = payload.get(OCCURRED, now) - self.closed_at[key]
            self.cycle_time.append(cycle)
            if cycle <= self.sla_live:
                self.live_in_sla += 1

    def file(self, deals: Collection[str]) -> None:
        """The archive filed these ended deals away: keep only the counts of how they
        and their later workflows ended."""
        filed = self.filed
        for deal in deals:
            del self.closed_at[deal]
            del self.ended_at[deal]
            ending = self.ended.pop(deal)
            filed[ending] = filed.get(ending, 0) + 1
        repaired = self.repaired_deals
        for books in self.books.values():
            ended, counts = books.ended, books.filed
            for wf in [wf for wf in ended if deal_of(wf) in deals]:
                ending = ended.pop(wf)
                counts[ending] = counts.get(ending, 0) + 1
                if ending == "escalated" and deal_of(wf) in repaired:
                    self.resolved_filed += 1

    def deals(self) -> int:
        """How many deals closed, filed away or not."""
        return len(self.closed_at) + sum(self.filed.values())

    def _reconciled(self, payload: Mapping[str, Any], now: float) -> None:
        self.reconciliations += 1
        if "failed" in payload:
            self.reconciliation_failed += 1
        for finding in payload["findings"]:
            outcome = finding["outcome"]
            if outcome == "retry":
                self.drift_retried += 1
                continue  # found again tomorrow: counted then
            self.drift_found += 1
            self.detection_lag.append(now - finding["since"])
            if outcome == "repaired":
                self.drift_repaired += 1
                self.repaired_deals.add(finding["deal"])
            else:
                self.left_for_people.add((finding["deal"], finding["what"], finding["reason"]))

    def reconciliation_summary(self) -> dict[str, Any]:
        """What the reconciliation runs found, repaired and left for people."""
        return {
            "runs": self.reconciliations,
            "runs_failed": self.reconciliation_failed,
            "drift_found": self.drift_found,
            "repaired": self.drift_repaired,
            "left_for_people": len(self.left_for_people),
            "repairs_deferred": self.drift_retried,
            "detection_lag_s": self.detection_lag.quantiles(),
        }

    def resolved_escalations(self) -> int:
        """Escalated workflows (amendments) whose books a reconciliation run then
        repaired."""
        repaired = self.repaired_deals
        return self.resolved_filed + sum(
            1
            for books in self.books.values()
            for wf, ending in books.ended.items()
            if ending == "escalated" and deal_of(wf) in repaired
        )

    def workflow_summaries(self) -> dict[str, dict[str, Any]]:
        """Each workflow's books after the first order, by plural noun (``amendments``)."""
        return {f"{b.declaration.noun}s": b.summary() for b in self.books.values()}

    def summary(self, now: float) -> dict[str, Any]:
        """Deal-level metrics as of simulated time ``now``."""
        counts = dict.fromkeys(ENDINGS.values(), 0)
        counts.update(self.filed)
        for ending in self.ended.values():
            counts[ending] += 1
        closed_at = self.closed_at
        # Still waiting for acceptance past the commitment SLA: sales gave up.
        timed_out = sum(
            1
            for deal, accepted in self.pending.items()
            if accepted is None and now - closed_at[deal] > self.sla_commitment
        )
        # SLA compliance counts deals that went live, failed, or are past their
        # deadline; a business "no" (credit hold, inactive account) is no breach.
        overdue = sum(1 for deal in self.pending if now - closed_at[deal] > self.sla_live)
        went_wrong = (
            counts["compensated"]
            + counts["escalated"]
            + counts["failed"]
            + counts["abandoned"]
            + counts["revoked"]
        )
        due = len(self.cycle_time) + went_wrong + overdue
        # Commitment SLA: every deal that asked for a commitment and got an answer
        # (or waited too long), except business rejections.
        asked = (
            len(self.commitment_latency) + timed_out + self.ended_uncommitted - counts["rejected"]
        )
        return {
            "deals": self.deals(),
            "orders_completed": counts["completed"],
            "orders_compensated": counts["compensated"],
            "orders_escalated": counts["escalated"],
            "orders_in_flight": len(self.pending),
            "orders_rejected": counts["rejected"],
            "orders_failed": counts["failed"],
            "orders_abandoned": counts["abandoned"],
            "commitments_revoked": counts["revoked"],
            "commitments_failed": self.ended_uncommitted + timed_out,
            "cycle_time_s": self.cycle_time.quantiles(),
            "commitment_latency_s": self.commitment_latency.quantiles(),
            "sla_compliance": round(self.live_in_sla / due, 4) if due else None,
            "commitment_sla_compliance": round(self.committed_in_sla / asked, 4) if asked else None,
        }
