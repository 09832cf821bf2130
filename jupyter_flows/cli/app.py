"""``jupyter flows``: the command-line entry point (``jupyter-flows`` on PATH)."""

from __future__ import annotations

import sys
from typing import Any

from jupyter_core.application import JupyterApp

from .._version import __version__

__all__ = ["FlowsCommand", "main"]

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "report": ("jupyter_flows.cli.report.ReportApp", "Export a flow run report (HTML, Markdown)."),
    "runs": ("jupyter_flows.cli.runs.RunsApp", "List recent flow runs."),
    "worker": ("jupyter_flows.cli.worker.WorkerApp", "Run the flow runs of a work pool."),
    "task-worker": (
        "jupyter_flows.cli.task_worker.TaskWorkerApp",
        "Run the background runs of tasks (task.delay) until Ctrl-C.",
    ),
    "task-runs": (
        "jupyter_flows.cli.task_worker.TaskRunsApp",
        "List background task runs (task.delay) and their task workers.",
    ),
    "deploy": ("jupyter_flows.cli.orchestration.DeployApp", "Deploy a notebook or a flow."),
    "deployments": (
        "jupyter_flows.cli.orchestration.DeploymentsApp",
        "List, pause, resume, remove deployments.",
    ),
    "run": ("jupyter_flows.cli.orchestration.RunApp", "Run a deployment now (--watch)."),
    "cancel": ("jupyter_flows.cli.orchestration.CancelApp", "Cancel a flow run."),
    "pools": ("jupyter_flows.cli.orchestration.PoolsApp", "List, create, pause work pools."),
    "automations": (
        "jupyter_flows.cli.automations.AutomationsApp",
        "When events match, run, pause or resume a deployment.",
    ),
    "events": ("jupyter_flows.cli.automations.EventsApp", "List or emit events."),
    "variables": (
        "jupyter_flows.cli.variables.VariablesApp",
        "List, get, set, remove variables (named JSON values).",
    ),
    "artifacts": (
        "jupyter_flows.cli.artifacts.ArtifactsApp",
        "List artifacts, inspect a key's versions, remove one.",
    ),
    "gcl": (
        "jupyter_flows.cli.concurrency.GlobalConcurrencyLimitApp",
        "Global concurrency limits: create, ls, inspect, update, enable, disable, rm.",
    ),
    "concurrency-limit": (
        "jupyter_flows.cli.concurrency.TagConcurrencyLimitApp",
        "Task tag concurrency limits: create TAG N, ls, inspect, reset, rm.",
    ),
    "block": (
        "jupyter_flows.cli.blocks.BlockApp",
        "List, inspect (masked), remove block documents.",
    ),
    "secret": (
        "jupyter_flows.cli.blocks.SecretApp",
        "Set (from a prompt or stdin), list, remove secrets.",
    ),
}


class FlowsCommand(JupyterApp):  # type: ignore[misc]
    """jupyter-flows: notebook-native workflow orchestration."""

    name = "jupyter-flows"
    version = __version__
    description = "Orchestrate notebooks and Python flows: runs, reports, deployments, workers."
    examples = """jupyter flows runs --limit 5
jupyter flows report RUN_ID -o run.html
"""
    subcommands: dict[str, Any] = dict(SUBCOMMANDS)

    def start(self) -> None:
        if self.subapp is not None:
            return self.subapp.start()  # type: ignore[no-any-return]
        self.print_help()
        print("\nSubcommands:")
        for name, (_path, help_text) in sorted(self.subcommands.items()):
            print(f"  {name:<12} {help_text}")
        self.exit(0 if len(sys.argv) <= 1 else 1)


main = FlowsCommand.launch_instance

if __name__ == "__main__":
    main()
