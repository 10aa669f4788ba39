"""fedstake's analysis of sweeps, in three layers whose arrows run one way:

* ``analysis.sweep`` — the sweep engine, which writes a results directory (the data contract);
* ``analysis`` itself — modules that read only that contract: dominance, boundaries, theory,
  regions, sensitivity and findings;
* ``analysis.report`` — figures and the HTML report over the findings.

``analysis.cli`` is the ``fedstake`` command, a thin layer over all three.
"""
