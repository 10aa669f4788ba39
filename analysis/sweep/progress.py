"""Progress of a sweep: a tqdm bar on a terminal, plain periodic lines otherwise (logs, CI)."""

from __future__ import annotations

import sys
import time

#: Seconds between plain progress lines when not on a terminal.
PLAIN_INTERVAL_S = 10.0


class Progress:
    """Runs done out of ``total``, runs/s and time left; ``initial`` runs were done before."""

    def __init__(self, total: int, initial: int = 0, *, enabled: bool = True, stream=None):
        self._stream = stream or sys.stderr
        self._total, self._done, self._initial = total, initial, initial
        self._start = self._last = time.perf_counter()
        self._bar = None
        self._enabled = enabled
        if enabled and self._stream.isatty():
            from tqdm import tqdm

            tqdm.monitor_interval = 0  # no monitor thread: worker processes are forked after this
            self._bar = tqdm(
                total=total, initial=initial, unit="run", file=self._stream, dynamic_ncols=True, smoothing=0.1
            )

    def update(self, runs: int) -> None:
        """``runs`` more runs are done."""
        self._done += runs
        if self._bar is not None:
            self._bar.update(runs)
            return
        now = time.perf_counter()
        if self._enabled and (now - self._last >= PLAIN_INTERVAL_S or self._done == self._total):
            self._last = now
            print(self.line(now), file=self._stream, flush=True)

    def line(self, now: float) -> str:
        """``runs 1,200/2,000 (60%), 180.0 runs/s, about 4 s left``."""
        rate = (self._done - self._initial) / max(now - self._start, 1e-9)
        left = (self._total - self._done) / rate if rate > 0 else float("inf")
        share = self._done / self._total if self._total else 1.0
        return (
            f"runs {self._done:,}/{self._total:,} ({share:.0%}), {rate:,.1f} runs/s, about {left:,.0f} s left"
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
