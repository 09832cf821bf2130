"""``jupyter flows runs``: recent flow runs from the run database."""

from __future__ import annotations

import sys
from typing import Any

from jupyter_core.application import JupyterApp
from traitlets import Float, Int, Unicode

__all__ = ["RunsApp"]


class RunsApp(JupyterApp):  # type: ignore[misc]
    """List recent flow runs (newest first)."""

    name = "jupyter-flows-runs"
    description = (
        "List recent flow runs (ls), show one (show ID), cancel one (cancel ID), retry a "
        "failed deployment run from its failure (retry ID), delete runs that nothing runs "
        "(rm ID...), or prune ended runs by age or count (prune)."
    )
    examples = (
        "jupyter flows runs --flow etl --limit 5\njupyter flows runs show RUN_ID\n"
        "jupyter flows runs retry RUN_ID"
    )
    flow = Unicode("", config=True, help="Only runs of this flow.")
    state = Unicode("", config=True, help="Only runs in this state (type or name).")
    limit = Int(20, config=True, help="How many runs.")
    db_url = Unicode("", config=True, help="Run database URL (default: the embedded SQLite).")
    url = Unicode(
        "", config=True, help="cancel, retry, rm: server URL (default: a running server)."
    )
    token = Unicode("", config=True, help="cancel, retry, rm: server token.")
    older_than = Float(0.0, config=True, help="prune: runs that ended this many days ago.")
    keep = Int(0, config=True, help="prune: keep the newest N ended runs of each flow.")
    run_input = Unicode("", config=True, help="resume: the input, a JSON object.")
    aliases = {
        "flow": "RunsApp.flow",
        "state": "RunsApp.state",
        "limit": "RunsApp.limit",
        "db-url": "RunsApp.db_url",
        "url": "RunsApp.url",
        "token": "RunsApp.token",
        "older-than": "RunsApp.older_than",
        "keep": "RunsApp.keep",
        "input": "RunsApp.run_input",
    }
    flags: dict[str, Any] = {}

    def start(self) -> None:
        action, *rest = self.extra_args or ["ls"]
        if action == "ls":
            self._ls()
        elif action == "show" and len(rest) == 1:
            self._show(rest[0])
        elif action == "prune" and not rest:
            from .orchestration import PruneRunsApp

            pruner = PruneRunsApp(config=self.config)
            pruner.url, pruner.token = self.url, self.token
            pruner.older_than, pruner.keep = self.older_than, self.keep
            pruner.start()
        elif action in ("cancel", "rm", "retry", "resume") and (
            len(rest) == 1 or (action == "rm" and rest)
        ):
            from .orchestration import CancelApp, RemoveRunsApp, ResumeRunApp, RetryRunApp

            kinds = {"cancel": CancelApp, "rm": RemoveRunsApp, "retry": RetryRunApp,
                     "resume": ResumeRunApp}  # fmt: skip
            app = kinds[action](config=self.config)
            if isinstance(app, ResumeRunApp):
                app.run_input = self.run_input
            app.url, app.token, app.extra_args = self.url, self.token, rest
            app.start()
        else:
            print(
                "usage: jupyter flows runs [ls] | show RUN_ID | cancel RUN_ID | retry RUN_ID | "
                "resume RUN_ID [--input JSON] | rm RUN_ID... | prune [--older-than DAYS] "
                "[--keep N]",
                file=sys.stderr,
            )
            self.exit(2)

    def _ls(self) -> None:
        from ..store.api import read_flow_runs

        page = read_flow_runs(
            flow_name=self.flow or None,
            state=self.state or None,
            limit=self.limit,
            url=self.db_url or None,
        )
        print(f"{'run':<22} {'flow':<24} {'state':<11} {'started':<20} id")
        for r in page:
            started = r.start_time.strftime("%Y-%m-%d %H:%M:%S") if r.start_time else ""
            print(
                f"{r.name:<22} {r.flow_name[:24]:<24} {r.state_name or '':<11} {started:<20} {r.id}"
            )
        print(f"({len(page)} of {page.total})")

    def _show(self, run_id: str) -> None:
        from ..exceptions import NotFound
        from ..reports.html import duration
        from ..store.api import read_flow_run

        try:
            run = read_flow_run(run_id, url=self.db_url or None)
        except NotFound as exc:
            print(f"jupyter flows runs: {exc}", file=sys.stderr)
            self.exit(1)
        print(
            f"{run.flow_name} / {run.name} ({run.id}): {run.state_name} {run.state_message or ''}"
        )
        print(f"parameters: {run.parameters}  duration: {duration(run)}  tags: {run.tags}")
        for t in run.task_runs:
            print(
                f"  {t.name:<24} {t.state_name or '':<11} attempts={t.run_count} "
                f"{duration(t):>9} {t.state_message or ''}"
            )
