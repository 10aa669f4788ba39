"""The page ``fedstake viz`` serves (``solara run analysis.viz_page``): the scenario whose path is in
``FEDSTAKE_VIZ_SCENARIO`` (``fedstake viz`` checks it before the server starts), played by
``analysis.viz``."""

from __future__ import annotations

import os

from analysis.viz import make_page
from model import load_scenario

SCENARIO = os.environ.get("FEDSTAKE_VIZ_SCENARIO", "scenarios/baseline.toml")
Page = make_page(load_scenario(SCENARIO))
