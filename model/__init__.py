"""fedstake's model: the scenario schema, the token economy and the Mesa network.

Typical use::

    from model import load_scenario, with_overrides, run_scenario
    s = with_overrides(load_scenario("scenarios/baseline.toml"), {"slashing.slash_fraction": 0.3})
    result = run_scenario(s, seed=7, trajectory=True)
    result.strategies, result.trajectory   # pandas DataFrames

The names below are imported on first use, so that ``agents`` (which the network imports) can
import ``model``'s interface modules without a circular import.
"""

from importlib import import_module

_EXPORTS = {
    "RunResult": "model.run",
    "run_scenario": "model.run",
    "Scenario": "model.scenario",
    "load_scenario": "model.scenario",
    "scenario_from_dict": "model.scenario",
    "with_overrides": "model.scenario",
    "ScenarioError": "model.params",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'model' has no attribute {name!r}")
