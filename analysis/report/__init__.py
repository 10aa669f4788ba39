"""The report: figures (matplotlib, PNG) and the self-contained HTML page, over ``analysis``."""

from analysis.report.page import build_report, write_report

__all__ = ["build_report", "write_report"]
