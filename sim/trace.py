"""The trace hash: a fingerprint of everything that happened in a run.

Like the checksum at the bottom of a bank statement: two runs with the same
scenario, seed and code produce the same hash, and any difference in any call's
time, target, key or answer changes it. Entries are packed into columns (times as
doubles, labels as text, statuses as integers), each folded into its own BLAKE2
hash in batches: memory stays flat however long the run, an entry costs three list
appends rather than a string format, and where the batches are cut (reading the
hash mid-run, say) does not change the hash.
"""

from __future__ import annotations

import hashlib
import sys
from array import array
from typing import Any

__all__ = ["Trace"]

FOLD_EVERY = 8192


class Trace:
    """An append-only event log that keeps only its running hash.

    Attributes:
        entries: How many entries were folded into the hash so far.
        keep: If True, entries are also kept in ``log`` (for timelines and tests).
    """

    __slots__ = ("_columns", "_labels", "_log", "_statuses", "_times", "entries", "keep")

    def __init__(self, keep: bool = False) -> None:
        self._columns = tuple(hashlib.blake2b(digest_size=16) for _ in range(3))
        self._times: list[float] = []
        self._labels: list[str] = []
        self._statuses: list[int] = []
        self._log: list[tuple[float, str, int]] = []
        self.entries = 0
        self.keep = keep

    def add(self, now: float, label: str, status: int) -> None:
        """Record that ``label`` (e.g. ``"D-1:order"``) got ``status`` at ``now``."""
        times = self._times
        times.append(now)
        self._labels.append(label)
        self._statuses.append(status)
        if len(times) >= FOLD_EVERY:
            self._fold()

    @property
    def columns(self) -> tuple[list[float], list[str], list[int]]:
        """The unfolded columns, for a hot loop that appends to them directly.

        Whoever appends this way must call ``fold`` now and then (the driver's
        owner does, between steps of a run) to keep memory flat.
        """
        return self._times, self._labels, self._statuses

    def fold(self) -> None:
        """Hash the entries collected so far and let them go."""
        self._fold()

    def _fold(self) -> None:
        times, labels, statuses = self._times, self._labels, self._statuses
        if not times:
            return
        self.entries += len(times)
        at, names, codes = self._columns
        at.update(_little_endian(array("d", times)))
        names.update(("\n".join(labels) + "\n").encode())
        codes.update(_little_endian(array("q", statuses)))
        if self.keep:
            self._log.extend(zip(times, labels, statuses, strict=True))
        # cleared in place: a hot loop may hold the lists' append methods
        times.clear()
        labels.clear()
        statuses.clear()

    @property
    def log(self) -> list[tuple[float, str, int]]:
        """``(time, label, status)`` of every entry so far (empty unless ``keep``)."""
        self._fold()
        return self._log

    def hexdigest(self) -> str:
        """The hash of every entry so far; reading it changes nothing."""
        self._fold()
        whole = hashlib.blake2b(digest_size=16)
        for column in self._columns:
            whole.update(column.digest())
        return whole.hexdigest()


def _little_endian(numbers: array[Any]) -> bytes:
    """The bytes of ``numbers`` in one byte order, whatever the machine's."""
    if sys.byteorder == "big":
        numbers.byteswap()
    return numbers.tobytes()
