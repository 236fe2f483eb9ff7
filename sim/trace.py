"""The trace hash: a fingerprint of everything that happened in a run.

Like the checksum at the bottom of a bank statement: two runs with the same
scenario, seed and code produce the same hash, and any difference in any call's
time, target, key or answer changes it. Entries are packed into columns (times as
doubles, labels as text, statuses as integers) and folded into a BLAKE2 hash in
batches, so memory stays flat however long the run, and an entry costs three
list appends rather than a string format.
"""

from __future__ import annotations

import hashlib
from array import array

__all__ = ["Trace"]

FOLD_EVERY = 8192


class Trace:
    """An append-only event log that keeps only its running hash.

    Attributes:
        entries: How many entries were recorded.
        keep: If True, entries are also kept in ``log`` (for timelines and tests).
        log: ``(time, label, status)`` of every entry, when ``keep``.
    """

    __slots__ = ("_hash", "_labels", "_statuses", "_times", "entries", "keep", "log")

    def __init__(self, keep: bool = False) -> None:
        self._hash = hashlib.blake2b(digest_size=16)
        self._times: list[float] = []
        self._labels: list[str] = []
        self._statuses: list[int] = []
        self.entries = 0
        self.keep = keep
        self.log: list[tuple[float, str, int]] = []

    def add(self, now: float, label: str, status: int) -> None:
        """Record that ``label`` (e.g. ``"erp.createSalesOrder D-1:order"``) got ``status``."""
        times = self._times
        times.append(now)
        self._labels.append(label)
        self._statuses.append(status)
        if len(times) >= FOLD_EVERY:
            self._fold()

    def _fold(self) -> None:
        times, labels, statuses = self._times, self._labels, self._statuses
        self.entries += len(times)
        update = self._hash.update
        update(array("d", times).tobytes())
        update("\n".join(labels).encode())
        update(array("q", statuses).tobytes())
        if self.keep:
            self.log.extend(zip(times, labels, statuses, strict=True))
        self._times, self._labels, self._statuses = [], [], []

    def hexdigest(self) -> str:
        """The hash of every entry so far."""
        self._fold()
        return self._hash.hexdigest()
