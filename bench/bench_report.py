"""Benchmark: the report of a 10,000-run sweep (bars: written in under 5 s, under 10 MB).

Runs a 10,000-run sweep of a small scenario (25 slash fractions × 4 reward levels × 2 mixes × 50
replications, trajectories kept) into a temporary directory, then times ``write_report`` on it and
prints the time and the file's size.

    python bench/bench_report.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from analysis.report.page import write_report
from analysis.sweep.engine import execute_sweep
from analysis.sweep.sweepfile import load_sweep

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"

SWEEP = f"""
[sweep]
name = "bench-report"
base = "{BASELINE}"
replications = 50
seed = 9
trajectories = true

[fixed]
rounds = 40
"population.honest_trainers" = 20
"population.lazy_trainers" = 4
"population.sybil_owners" = 1
"population.poisoning_trainers" = 3
"population.honest_validators" = 3
"population.copying_validators" = 1
"dropout.validator_dropout_probability" = 0.0
"staking.initial_liquid_tokens" = 20000
"token.genesis_supply_tokens" = 1e7

[[parameters]]
path = "slashing.slash_fraction"
low = 0.0
high = 0.6
steps = 25

[[parameters]]
path = "emission.initial_tokens_per_round"
low = 200
high = 3200
steps = 4
scale = "log"

[mixes.base]

[mixes.more-lazy]
"population.lazy_trainers" = 10
"""


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="fedstake-bench-report-") as tmp:
        path = Path(tmp) / "sweep.toml"
        path.write_text(SWEEP)
        summary = execute_sweep(load_sweep(path), Path(tmp) / "out", workers=2, progress=False)
        print(f"sweep: {summary.executed:,} runs in {summary.wall_time_s:.1f} s")
        start = time.perf_counter()
        out = write_report(Path(tmp) / "out", Path(tmp) / "report.html")
        seconds = time.perf_counter() - start
        print(f"report: {seconds:.1f} s, {out.stat().st_size / 1e6:.2f} MB  (bars: < 5 s, < 10 MB)")


if __name__ == "__main__":
    main()
