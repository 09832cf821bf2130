"""``jupyter flows runs``: recent flow runs from the run database."""

from __future__ import annotations

from typing import Any

from jupyter_core.application import JupyterApp
from traitlets import Int, Unicode

__all__ = ["RunsApp"]


class RunsApp(JupyterApp):  # type: ignore[misc]
    """List recent flow runs (newest first)."""

    name = "jupyter-flows-runs"
    description = "List recent flow runs, newest first."
    examples = "jupyter flows runs --flow etl --limit 5"
    flow = Unicode("", config=True, help="Only runs of this flow.")
    state = Unicode("", config=True, help="Only runs in this state (type or name).")
    limit = Int(20, config=True, help="How many runs.")
    db_url = Unicode("", config=True, help="Run database URL (default: the embedded SQLite).")
    aliases = {
        "flow": "RunsApp.flow",
        "state": "RunsApp.state",
        "limit": "RunsApp.limit",
        "db-url": "RunsApp.db_url",
    }
    flags: dict[str, Any] = {}

    def start(self) -> None:
        from ..store.api import read_flow_runs

        page = read_flow_runs(
            flow_name=self.flow or None,
            state=self.state or None,
            limit=self.limit,
            url=self.db_url or None,
        )
        print(f"{'run':<22} {'flow':<24} {'state':<11} {'started':<20} id")
        for r in page.items:
            started = r.start_time.strftime("%Y-%m-%d %H:%M:%S") if r.start_time else ""
            print(
                f"{r.name:<22} {r.flow_name[:24]:<24} {r.state_name or '':<11} {started:<20} {r.id}"
            )
        print(f"({len(page.items)} of {page.total})")
