"""Mesa's agent-id counters held weakly, so a model is freed once nothing else refers to it.

Mesa 3.3 numbers each model's agents from a class-level ``mesa.Agent._ids``: a ``defaultdict``
from model to an ``itertools.count(1)`` that is never emptied. It keeps every model ever built
alive, with its agents and arrays — about 0.5 MB per baseline run, so a sweep worker grew past
1.6 GB within two minutes (Mesa issue 3179; fixed upstream only in releases that need Python ≥
3.12). :func:`hold_models_weakly` swaps that dict for one that holds its models weakly and behaves
the same otherwise: a model's first agent gets id 1 and ids continue wherever agents are created.
"""

from __future__ import annotations

import itertools
import weakref

import mesa


class WeakIdCounters(weakref.WeakKeyDictionary):
    """Agent-id counters per model, created on first use and dropped with their model."""

    def __getitem__(self, model) -> itertools.count:
        try:
            return super().__getitem__(model)
        except KeyError:
            counter = itertools.count(1)
            self[model] = counter
            return counter


def hold_models_weakly() -> None:
    """Replace Mesa's strong per-model id registry by :class:`WeakIdCounters` (once; keeps the
    counters of models already built). Does nothing on a Mesa that no longer has the registry."""
    ids = getattr(mesa.Agent, "_ids", None)
    if ids is None or isinstance(ids, WeakIdCounters):
        return
    counters = WeakIdCounters()
    counters.update(ids)
    mesa.Agent._ids = counters
