"""What every vendor model shares: operations by operationId, and idempotency keys.

A vendor model is a callable, like an httpx transport: hand it an operation, its
parameters, an idempotency key and the time, and it answers ``(status, body)``.
It is a plain state machine of records; the weather (latency, outages, throttling)
is added around it by ``sim.faults``.

Idempotency keys follow Stripe's rules: the first response to a key is stored for
a day, errors included once the operation started executing; the same key with the
same parameters gets the stored response; the same key with other parameters gets
409. Requests refused at the door (throttled, down) store nothing.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Self, TypeVar

__all__ = ["Later", "Ledger", "Outlet", "Reply", "Vendor", "VendorError", "Versioned"]

R = TypeVar("R")
Reply = tuple[int, dict[str, Any]]
"""A response: status code and JSON-like body."""
Outlet = Callable[[str, str, dict[str, Any], float], None]
"""Where a vendor's webhooks go: ``(event type, entity key, data, now)``."""
Later = Callable[[float, Callable[[float], None]], None]
"""Runs ``action(now)`` after ``delay`` simulated seconds: a vendor's own clockwork
(a payment collected tomorrow, a case the desk resolves in four hours)."""

DAY = 86400.0


class VendorError(Exception):
    """Raised inside an operation to answer with an error status."""

    def __init__(self, status: int, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.status = status
        self.code = code
        self.message = message or code


class Versioned:
    """The versions one record took from its sources, applied only when newer.

    A record that copies a field from another system (a payment status from billing,
    a company name from the CRM) remembers the source version it holds per field,
    and every version it ever applied (``applied``), so the per-entity ordering
    property can be read off the vendor: an update older than one applied before
    it must never have been applied. Vendors keep these beside their records
    (:meth:`Vendor.versions`), made on a record's first update, so that the many
    records no source ever updates cost nothing.
    """

    __slots__ = ("applied", "versions")

    def __init__(self) -> None:
        self.versions: dict[str, int] = {}
        self.applied: list[tuple[str, int]] = []

    def apply(self, source: str, version: int, if_newer: bool) -> None:
        """Take ``version`` of ``source``'s data.

        Args:
            source: Which source field, e.g. ``"crm.account"``.
            version: The source's version of it.
            if_newer: Refuse a version not newer than the one held (a conditional
                write); ``False`` lets the last writer win.

        Raises:
            VendorError: 409 ``STALE_VERSION`` when refused.
        """
        held = self.versions.get(source, 0)
        if if_newer and version <= held:
            raise VendorError(
                409, "STALE_VERSION", f"holds version {held} of {source}, got {version}"
            )
        self.versions[source] = version
        self.applied.append((source, version))


class Ledger:
    """A world-wide sequence number, so tests can order effects across vendors."""

    __slots__ = ("next",)

    def __init__(self) -> None:
        self.next: Callable[[], int] = itertools.count(1).__next__


class Vendor:
    """Base of the vendor models.

    Subclasses define operations as methods named like the vendor's operationIds,
    taking ``(params, now)`` and returning the response body (status 200) or a
    ``(status, body)`` tuple, or raising ``VendorError``.

    Attributes:
        name: The system's name, e.g. ``"erp"``.
        reads: The operationIds that change nothing.
        writes: The operationIds that change records.
        idempotency_ttl: Seconds a stored key lives.
        keys: Idempotency key -> (params, reply, stored at), the current generation
            (a key is kept for ``idempotency_ttl``, then forgotten).
        refuse: Asked once per business check (credit check, payment method);
            True means the vendor says no. Drawn from the scenario's rejection rate.
        outlet: Where its webhooks go; None: it sends none.
        later: Its clockwork (see :data:`Later`); None: nothing happens by itself.
        sources: Record id -> the source versions it holds (records updated from
            another system only).
        key_conflicts: How many requests reused a key with other parameters.
        replays: How many requests were answered from the key store.
        filed: Deal id -> its records, as ``(store, key)`` pairs (see :meth:`file`).
        busy: Deal id -> how many of its clockwork actions are still to come.
        stirred: Deal id -> when its clockwork last went off.
    """

    name = "vendor"
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    bulk: Mapping[str, str] = {}
    """List operations -> the field of their records (each record adds latency)."""
    archived: tuple[str, ...] = ()
    """The stores (attributes) whose records belong to one deal, which the archive may
    file away once the deal is settled (see ``sim.archive``); every other record
    (customers, accounts, prices) is kept for the whole run."""

    def __init__(
        self,
        ledger: Ledger | None = None,
        idempotency_ttl: float = DAY,
        refuse: Callable[[], bool] | None = None,
        outlet: Outlet | None = None,
        later: Later | None = None,
    ) -> None:
        self.ledger = ledger or Ledger()
        self.refuse = refuse or _never
        self.outlet = outlet
        self.later = later
        self.idempotency_ttl = idempotency_ttl
        self.keys: dict[str, tuple[Mapping[str, Any], Reply, float]] = {}
        self._older: dict[str, tuple[Mapping[str, Any], Reply, float]] = {}
        self._rotated_at = 0.0
        self.key_conflicts = 0
        self.replays = 0
        self._ops: dict[str, Callable[[Mapping[str, Any], float], Any]] = {
            name: getattr(self, name) for name in (*self.reads, *self.writes)
        }
        self._counters: dict[str, Callable[[], int]] = {}
        self.sources: dict[str, Versioned] = {}
        self.filed: dict[str, list[tuple[str, str]]] = {}
        self.filing = True  # keep ``filed``; off when nothing will file the deals away
        self.busy: dict[str, int] = {}
        self.stirred: dict[str, float] = {}

    not_found = "NOT_FOUND"
    """The error code this vendor answers for a missing record."""

    def find(self, records: Mapping[str, R], record_id: str, noun: str) -> R:
        """The record ``record_id`` of ``records``, or a 404 naming the ``noun``."""
        record = records.get(record_id)
        if record is None:
            raise VendorError(404, self.not_found, f"no {noun} {record_id}")
        return record

    def new_id(self, prefix: str) -> str:
        """The next id of a record kind, e.g. ``SO-000001``: deterministic."""
        counter = self._counters.get(prefix)
        if counter is None:
            counter = self._counters[prefix] = itertools.count(1).__next__
        return f"{prefix}-{counter():06d}"

    def versions(self, record_id: str) -> Versioned:
        """The source versions record ``record_id`` holds (made on first use)."""
        found = self.sources.get(record_id)
        if found is None:
            found = self.sources[record_id] = Versioned()
        return found

    def file(self, deal: str, store: str, key: str) -> None:
        """Note that entry ``key`` of ``store`` (one of :attr:`archived`) belongs to
        ``deal``, so that the deal's records can be read and filed away together.
        A record of no deal (an empty id) is kept for the whole run; with
        :attr:`filing` off (no archive), nothing is noted."""
        if deal and self.filing:
            rows = self.filed.get(deal)
            if rows is None:
                self.filed[deal] = [(store, key)]
            else:
                rows.append((store, key))

    def remind(self, deal: str, delay: float, action: Callable[[float], None]) -> None:
        """Run ``action(now)`` on the vendor's clockwork after ``delay`` seconds; the
        deal counts as :attr:`busy` until then (it is not settled while its payment
        or its case has yet to happen), and :attr:`stirred` says when it went off."""
        assert self.later is not None
        busy, stirred = self.busy, self.stirred
        busy[deal] = busy.get(deal, 0) + 1

        def fire(now: float) -> None:
            left = busy[deal] - 1
            if left:
                busy[deal] = left
            else:
                del busy[deal]
            stirred[deal] = now
            action(now)

        self.later(delay, fire)

    def holds(self, deal: str) -> bool:
        """Whether the vendor still has work of its own open for ``deal`` (the order
        store: a commitment not settled, an outbox entry not published)."""
        return False

    def view(self, deals: Iterable[str]) -> Self:
        """A copy of the vendor that holds, in its :attr:`archived` stores, only the
        records of ``deals`` (its other stores are shared, not copied): what the
        auditor reads of a few deals without walking every record of the run."""
        held = {store: getattr(self, store) for store in self.archived}
        found: dict[str, dict[str, Any]] = {store: {} for store in self.archived}
        filed = self.filed
        for deal in deals:
            for store, key in filed.get(deal, ()):
                record = held[store].get(key)
                if record is not None:
                    found[store][key] = record
        seen = copy.copy(self)
        for store, records in found.items():
            setattr(seen, store, records)
        return seen

    def forget(self, deals: Iterable[str]) -> int:
        """File ``deals`` away: drop their records and the source versions they hold.

        Returns:
            How many entries were dropped.
        """
        held = {store: getattr(self, store) for store in self.archived}
        filed, sources, stirred = self.filed, self.sources, self.stirred
        dropped = 0
        for deal in deals:
            rows = filed.pop(deal, None)
            if rows is None:
                continue
            stirred.pop(deal, None)
            for store, key in rows:
                if held[store].pop(key, None) is not None:
                    dropped += 1
                if sources:
                    sources.pop(key, None)
        return dropped

    def emit(self, event_type: str, key: str, data: dict[str, Any], now: float) -> None:
        """Send a webhook about a change, if this vendor sends webhooks."""
        if self.outlet is not None:
            self.outlet(event_type, key, data, now)

    def remembers(self, key: str | None, now: float) -> bool:
        """Whether ``key`` is in the key store and not expired at ``now``."""
        return key is not None and self._stored(key, now) is not None

    def _stored(self, key: str, now: float) -> tuple[Mapping[str, Any], Reply, float] | None:
        """The live entry for ``key``; rotates the store's generations as time passes.

        Keys live in two generations of one TTL each: a key stored now stays in
        ``keys`` until the next rotation, then in ``older`` for one more TTL, then
        it is dropped wholesale. So the store holds at most two TTLs of keys,
        however long the run, at the price of one more dict lookup on a miss.
        """
        if now - self._rotated_at >= self.idempotency_ttl:
            self._older, self.keys = self.keys, {}
            self._rotated_at = now
        stored = self.keys.get(key) or self._older.get(key)
        if stored is not None and now - stored[2] < self.idempotency_ttl:
            return stored
        return None

    def __call__(
        self, operation: str, params: Mapping[str, Any], key: str | None, now: float
    ) -> Reply:
        """Apply one operation and answer it.

        Args:
            operation: The operationId.
            params: The request fields.
            key: The idempotency key, or None.
            now: Simulated time in seconds.

        Returns:
            ``(status, body)``.
        """
        if key is not None:
            stored = self._stored(key, now)
            if stored is not None:
                if stored[0] != params:
                    self.key_conflicts += 1
                    return 409, {
                        "code": "IDEMPOTENCY_KEY_REUSED",
                        "message": f"key {key!r} was used with other parameters",
                    }
                self.replays += 1
                return stored[1]
        op = self._ops.get(operation)
        if op is None:
            return 404, {"code": "UNKNOWN_OPERATION", "message": f"{self.name} has no {operation}"}
        try:
            result = op(params, now)
        except VendorError as exc:
            result = exc.status, {"code": exc.code, "message": exc.message}
        reply: Reply = result if type(result) is tuple else (200, result)
        if key is not None:
            self.keys[key] = (params, reply, now)
        return reply


def _never() -> bool:
    return False
