"""Seeded random streams: every draw of a run comes from one ``numpy.random.SeedSequence``.

A run spawns independent child streams for each purpose (availability and detection, validators'
score noise, Mesa's own generator), so adding draws for one purpose never shifts another's. Draws
are made a block of rounds at a time — one numpy call per block instead of per round — and a block
of rows is the same stream of numbers as the rows drawn one by one, so the block size changes no
result.
"""

from __future__ import annotations

import numpy as np

#: Upper bound on numbers drawn per block (256 KiB of float64: stays in cache, and the buffer is
#: refilled in place so fresh memory is not faulted in for every block).
BLOCK_NUMBERS = 1 << 15


def seed_sequence(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    """The run's root SeedSequence from an integer seed (or the sequence itself)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    return np.random.SeedSequence(int(seed))


class RoundDraws:
    """Per-round rows of ``width`` uniform (or standard normal) numbers from one generator."""

    def __init__(self, rng: np.random.Generator, width: int, rounds: int, normal: bool = False):
        self._rng = rng
        self._normal = normal
        self._buffer = np.empty((max(1, min(rounds, BLOCK_NUMBERS // max(width, 1))), width))
        self._block = self._buffer[:0]
        self._first = 0  # round index of the block's first row

    def row(self, round_index: int) -> np.ndarray:
        """The numbers for ``round_index``; rounds must be asked for in order."""
        offset = round_index - self._first
        if offset >= len(self._block):
            self.block(round_index)
            offset = 0
        return self._block[offset]

    def block(self, round_index: int) -> np.ndarray:
        """Draw the next block of rows, the first of which is for ``round_index``; return it."""
        if self._normal:
            self._rng.standard_normal(out=self._buffer)
        else:
            self._rng.random(out=self._buffer)
        self._block = self._buffer
        self._first = round_index
        return self._block
