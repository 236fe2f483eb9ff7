"""Named random streams derived from one seed.

Each part of the world gets its own stream by name (``streams.get("erp.latency")``),
like giving every player at a table their own shuffled deck: adding a player, or a
system, does not change the cards anyone else draws.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np

__all__ = ["Draws", "Streams"]

BATCH = 4096
"""Draws taken from numpy at a time: per-draw numpy calls cost more than the draw."""


class Streams:
    """The random streams of one run.

    Args:
        seed: The run's seed; every stream derives from it and its own name.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def get(self, name: str) -> np.random.Generator:
        """The generator called ``name``: same seed and name, same draws."""
        spawn_key = (zlib.crc32(name.encode()),)
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=spawn_key))

    def draws(self, name: str, sample: Callable[[np.random.Generator, int], np.ndarray]) -> Draws:
        """Batched draws from ``sample(generator, n)`` on the stream ``name``."""
        return Draws(self.get(name), sample)


class Draws:
    """An endless supply of floats, drawn from numpy in batches.

    Call it for the next value: ``latency = draws()``. Hot loops may inline the
    call as ``batch.pop() if batch else draws.refill()`` with ``batch = draws.batch``.

    Attributes:
        batch: The values not used yet, next one last.
    """

    __slots__ = ("_gen", "_sample", "batch")

    def __init__(
        self, gen: np.random.Generator, sample: Callable[[np.random.Generator, int], np.ndarray]
    ) -> None:
        self._gen = gen
        self._sample = sample
        self.batch: list[float] = []

    def refill(self) -> float:
        """Draw the next batch and return its first value."""
        self.batch.extend(reversed(self._sample(self._gen, BATCH).tolist()))
        return self.batch.pop()

    def __call__(self) -> float:
        """The next draw."""
        batch = self.batch
        return batch.pop() if batch else self.refill()
