"""Reports: a report definition compiled to one SQL statement of grouped aggregates (with subtotals and a
grand total) plus one statement for its tabular rows, run as the user who asks (see docs/reports.md)."""

from .runner import ReportResult, report_rows, run_report

__all__ = ["ReportResult", "report_rows", "run_report"]
