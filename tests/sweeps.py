"""Helpers for the sweep tests: small sweep files and a content hash of a results table."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from .conftest import BASELINE

SMALL_FIXED = """
[fixed]
rounds = 20
"population.honest_trainers" = 12
"population.lazy_trainers" = 3
"population.sybil_owners" = 1
"population.poisoning_trainers" = 2
"population.honest_validators" = 3
"population.copying_validators" = 1
"costs.poison_gain_fiat_per_round" = 1.0
"""


def write_sweep(directory: Path, body: str, *, name: str = "sweep.toml", header: str | None = None) -> Path:
    """A sweep file over the baseline with a small population, plus ``body`` (parameters)."""
    header = header or f'[sweep]\nbase = "{BASELINE}"\ndesign = "grid"\nreplications = 3\nseed = 11\n'
    path = directory / name
    path.write_text(header + SMALL_FIXED + body, encoding="utf-8")
    return path


GRID = """
[[parameters]]
path = "slashing.slash_fraction"
low = 0.0
high = 0.5
steps = 4

[[parameters]]
path = "rewards.rule"
values = ["equal", "stake_weighted"]
"""


#: Two tokenomics designs (where slashed tokens go) and two population mixes, for GRID.
DESIGNS_AND_MIXES = """
[designs.burn]
"slashing.burn_share" = 1.0
"slashing.insurance_share" = 0.0
"slashing.validator_share" = 0.0

[designs.insurance]
"slashing.burn_share" = 0.0
"slashing.insurance_share" = 0.8
"slashing.validator_share" = 0.2

[mixes.base]

[mixes.no-lazy]
"population.lazy_trainers" = 0
"""


def table_hash(df: pd.DataFrame) -> str:
    """SHA-256 of a results table sorted by run id (columns in a fixed order)."""
    df = df.sort_values("run_id").reset_index(drop=True)
    df = df[sorted(df.columns)]
    return hashlib.sha256(pd.util.hash_pandas_object(df, index=False).values.tobytes()).hexdigest()
