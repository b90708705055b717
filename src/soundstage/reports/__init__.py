"""Reports for the people around the film: breakdown sheets, cost against a traditional bid, AI disclosure.

Each report is HTML a person reads at a glance (rendered from a Jinja2 template on one shared page) plus a
machine-readable file (CSV or JSON) with the same figures.
"""

from soundstage.reports.page import Money, render_report, write_report

__all__ = ["Money", "render_report", "write_report"]
