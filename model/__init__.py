"""fedstake's model: the scenario schema, the token economy and the Mesa network.

Typical use::

    from model import load_scenario, with_overrides, run_scenario
    s = with_overrides(load_scenario("scenarios/baseline.toml"), {"slashing.slash_fraction": 0.3})
    result = run_scenario(s, seed=7, trajectory=True)
    result.strategies, result.trajectory   # pandas DataFrames
"""

from model.params import ScenarioError
from model.run import RunResult, run_scenario
from model.scenario import Scenario, load_scenario, scenario_from_dict, with_overrides

__all__ = [
    "RunResult",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "run_scenario",
    "scenario_from_dict",
    "with_overrides",
]
