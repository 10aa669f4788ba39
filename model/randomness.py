"""Seeded random streams: every draw of a run comes from one ``numpy.random.SeedSequence``.

A run spawns independent child streams for each purpose (trainers' availability and detection,
validators' availability, validators' score noise, Mesa's own generator), so adding draws for one
purpose never shifts another's. Draws are made a block of rounds at a time — one numpy call per
block instead of per round — and a block of rows is the same stream of numbers as the rows drawn
one by one, so the block size changes no result.
"""

from __future__ import annotations

import numpy as np

#: Numbers drawn per block, at most (256 KiB of float64; the buffer
#: is refilled in place, so fresh memory is not faulted in for every block).
BLOCK_NUMBERS = 1 << 15


def seed_sequence(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    """The run's root SeedSequence from an integer seed (or the sequence itself)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    return np.random.SeedSequence(int(seed))


def block_rounds(width: int, rounds: int) -> int:
    """Rounds per block for draws ``width`` numbers wide in a run of ``rounds`` rounds."""
    return max(1, min(rounds, BLOCK_NUMBERS // max(width, 1)))


class RoundDraws:
    """Blocks of ``rows`` rows of ``width`` uniform (or standard normal) numbers, one row a round."""

    def __init__(self, rng: np.random.Generator, width: int, rows: int, normal: bool = False):
        self._rng = rng
        self._normal = normal
        self._buffer = np.empty((rows, width))
        self._first = 0  # round of the block's first row
        self._filled = False

    def block(self) -> np.ndarray:
        """The next block of rows. The array is refilled by the following call."""
        if self._normal:
            self._rng.standard_normal(out=self._buffer)
        else:
            self._rng.random(out=self._buffer)
        return self._buffer

    def row(self, round_index: int) -> np.ndarray:
        """The row for ``round_index``; rounds must be asked for in order, one row each."""
        offset = round_index - self._first
        if not self._filled or offset >= len(self._buffer):
            self.block()
            self._first, self._filled, offset = round_index, True, 0
        return self._buffer[offset]
