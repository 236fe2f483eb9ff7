"""The trace hash: a fingerprint of everything that happened in a run.

Like the checksum at the bottom of a bank statement: two runs with the same
scenario, seed and code produce the same hash, and any difference in any call's
time, target or answer changes it. Entries are folded into a BLAKE2 hash in
batches, so memory stays flat however long the run.
"""

from __future__ import annotations

import hashlib

__all__ = ["Trace"]

FOLD_EVERY = 8192


class Trace:
    """An append-only event log that keeps only its running hash.

    Attributes:
        entries: How many entries were appended.
        keep: If set, entries are also kept in ``log`` (for timelines and tests).
    """

    __slots__ = ("_buffer", "_hash", "entries", "keep", "log")

    def __init__(self, keep: bool = False) -> None:
        self._hash = hashlib.blake2b(digest_size=16)
        self._buffer: list[tuple[object, ...]] = []
        self.entries = 0
        self.keep = keep
        self.log: list[tuple[object, ...]] = []

    def add(self, entry: tuple[object, ...]) -> None:
        """Append one entry: a tuple of str, int and float."""
        buffer = self._buffer
        buffer.append(entry)
        if len(buffer) >= FOLD_EVERY:
            self._fold()

    def _fold(self) -> None:
        self.entries += len(self._buffer)
        self._hash.update(repr(self._buffer).encode())
        if self.keep:
            self.log.extend(self._buffer)
        self._buffer = []

    def hexdigest(self) -> str:
        """The hash of every entry so far."""
        self._fold()
        return self._hash.hexdigest()
