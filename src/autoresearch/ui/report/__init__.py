"""The self-contained HTML report of a study: what the research found, why, at what cost."""

from autoresearch.ui.report._build import (
    EmptyStudyError,
    ReportOptions,
    render_report,
    write_report,
)

__all__ = ["EmptyStudyError", "ReportOptions", "render_report", "write_report"]
