"""``jupyter flows report RUN_ID -o FILE``: export a run report."""

from __future__ import annotations

import sys
from typing import Any

from jupyter_core.application import JupyterApp
from traitlets import Enum, Unicode

__all__ = ["ReportApp"]


class ReportApp(JupyterApp):  # type: ignore[misc]
    """Write the report of a flow run as one self-contained HTML file or Markdown."""

    name = "jupyter-flows-report"
    description = "Export the report of a flow run (HTML or Markdown)."
    examples = """jupyter flows report 01a20d91d736a88ee12d2d6029c0d445 -o run.html
jupyter flows report 01a20d91d736a88ee12d2d6029c0d445 --format md > run.md
"""
    output = Unicode("", config=True, help="File to write (default: standard output).")
    format = Enum(
        ["html", "md", ""],
        default_value="",
        config=True,
        help="html or md (default: from the -o extension, else html).",
    )
    db_url = Unicode("", config=True, help="Run database URL (default: the embedded SQLite).")
    aliases = {
        "o": "ReportApp.output",
        "output": "ReportApp.output",
        "format": "ReportApp.format",
        "db-url": "ReportApp.db_url",
    }
    flags: dict[str, Any] = {}

    def start(self) -> None:
        from ..exceptions import NotFound, StoreError
        from ..reports import report

        if len(self.extra_args) != 1:
            self.log.error("give exactly one flow run id (see --help)")
            self.exit(1)
        fmt = self.format or ("md" if self.output.endswith(".md") else "html")
        try:
            text = report(self.extra_args[0], fmt, self.output or None, self.db_url or None)
        except (NotFound, StoreError, ValueError) as exc:
            print(f"jupyter flows report: {exc}", file=sys.stderr)
            self.exit(1)
        if self.output:
            print(f"wrote {self.output}", file=sys.stderr)
        else:
            sys.stdout.write(text)
