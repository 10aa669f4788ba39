"""fedstake's analysis: the command line, and (in later modules) sweeps and reports."""
