"""``jupyter flows deploy|deployments|run|cancel|pools``: talk to a running server over HTTP."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from jupyter_core.application import JupyterApp
from traitlets import Bool, Float, Int, List, Unicode

from ..client.discovery import parse_params, server_address
from ..client.http import ClientError, FlowsClient
from ..core import state_policy

__all__ = [
    "DeployApp",
    "DeploymentsApp",
    "RunApp",
    "CancelApp",
    "RemoveRunsApp",
    "PruneRunsApp",
    "PoolsApp",
]

FINAL = state_policy.FINAL_VALUES
T = TypeVar("T")


_parse_params = parse_params


def _json_object(text: str, option: str) -> dict[str, Any]:
    """``text`` (a JSON object, or ``@FILE`` holding one) as a dict; ``""``: ``{}``."""
    if not text:
        return {}
    if text.startswith("@"):
        with open(text[1:], encoding="utf-8") as f:
            text = f.read()
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{option} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{option} must be a JSON object")
    return value


class _ServerApp(JupyterApp):  # type: ignore[misc]
    url = Unicode(
        "", config=True, help="Server URL (default: $JUPYTER_FLOWS_URL or a running server)."
    )
    token = Unicode("", config=True, help="Server token (default: $JUPYTER_FLOWS_TOKEN).")
    flags: dict[str, Any] = {}

    def client(self) -> FlowsClient:
        url, token = server_address(self.url, self.token)
        if not url:
            self.fail("no running Jupyter server found: pass --url and --token")
        return FlowsClient(url, token)

    def fail(self, message: str, code: int = 1) -> NoReturn:
        print(f"jupyter flows: {message}", file=sys.stderr)
        self.exit(code)
        raise SystemExit(code)  # exit() raises; this line is for the type checker

    def call(self, verb: Callable[..., T], *args: Any) -> T:
        """``verb(*args)`` (a ``FlowsClient`` method); a refused request ends the command."""
        try:
            return verb(*args)
        except ClientError as exc:
            self.fail(str(exc))


def _aliases(cls: str, **extra: str) -> dict[str, str]:
    return {"url": f"{cls}.url", "token": f"{cls}.token", **extra}


class DeployApp(_ServerApp):
    """Create a deployment of a notebook or a ``file.py:flow`` entrypoint."""

    name = "jupyter-flows-deploy"
    description = "Deploy a notebook or a Python flow, optionally on a schedule."
    examples = """jupyter flows deploy notebooks/etl.ipynb --name nightly --cron "0 6 * * *" \\
    --param n=5
jupyter flows deploy flows.py:etl --name weekly --rrule "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9" \\
    --version 1.2 --description "Monday's load"
"""
    deployment_name = Unicode("", config=True, help="Deployment name (default: the file's name).")
    cron = Unicode("", config=True, help="Cron schedule, e.g. '0 6 * * *'.")
    interval = Float(0.0, config=True, help="Interval schedule in seconds.")
    rrule = Unicode("", config=True, help="RFC 5545 recurrence rule, e.g. 'FREQ=DAILY;BYHOUR=9'.")
    version = Unicode("", config=True, help="The deployment's version (text).")
    deployment_description = Unicode("", config=True, help="The deployment's description.")
    timezone = Unicode("UTC", config=True, help="Timezone of the cron or rrule schedule.")
    pool = Unicode("default", config=True, help="Work pool.")
    param = List(Unicode(), config=True, help="Default parameter key=value (repeatable).")
    tags = List(Unicode(), config=True, help="Tags (repeatable).")
    priority = Int(0, config=True, help="Higher runs first when the pool is busy.")
    job_variable = List(
        Unicode(), config=True, help="A job variable KEY=VALUE of the pool's template (repeatable)."
    )
    job_variables = Unicode("", config=True, help="Job variables as a JSON object.")
    upload = Bool(
        True,
        config=True,
        help="Upload the notebook, .py file or package found here as the deployment's source "
        "bundle (workers fetch it); off: the entrypoint is a path on the server's side.",
    )
    flags = {
        "no-upload": (
            {"DeployApp": {"upload": False}},
            "Do not upload the source: the entrypoint names a path the workers have.",
        )
    }
    aliases = _aliases(
        "DeployApp",
        name="DeployApp.deployment_name",
        cron="DeployApp.cron",
        interval="DeployApp.interval",
        rrule="DeployApp.rrule",
        version="DeployApp.version",
        deployment_version="DeployApp.version",
        description="DeployApp.deployment_description",
        timezone="DeployApp.timezone",
        pool="DeployApp.pool",
        param="DeployApp.param",
        tag="DeployApp.tags",
        priority="DeployApp.priority",
    )
    aliases["job-variable"] = "DeployApp.job_variable"
    aliases["job-variables"] = "DeployApp.job_variables"

    def parse_command_line(self, argv: Any = None) -> None:
        # traitlets answers a bare --version with the app's version and exits: here it is
        # the deployment's version, as in `prefect deploy --version`
        args = list(sys.argv[1:] if argv is None else argv)
        renamed = [
            "--deployment_version" + a[len("--version") :]
            if a == "--version" or a.startswith("--version=")
            else a
            for a in args
        ]
        super().parse_command_line(renamed)

    def start(self) -> None:
        if len(self.extra_args) != 1:
            self.fail("give exactly one notebook or entrypoint", 2)
        entrypoint = self.extra_args[0]
        schedules: list[dict[str, Any]] = []
        if self.cron:
            schedules.append({"cron": self.cron, "timezone": self.timezone})
        if self.interval:
            schedules.append({"interval_seconds": self.interval})
        if self.rrule:
            schedules.append({"rrule": self.rrule, "timezone": self.timezone})
        try:
            params = _parse_params(self.param)
            job_variables = _json_object(self.job_variables, "--job-variables")
            job_variables.update(_parse_params(self.job_variable, "--job-variable"))
        except ValueError as exc:
            self.fail(str(exc), 2)
        name = self.deployment_name or os.path.splitext(os.path.basename(entrypoint))[0]
        client = self.client()
        source: dict[str, Any] = {}
        if self.upload:
            from ..client.deploy import upload_entrypoint
            from ..execution.source_bundle import BundleError

            try:
                source = self.call(upload_entrypoint, client, entrypoint)
            except BundleError as exc:
                self.fail(str(exc), 2)
            if source:
                print(f"uploaded {source['entrypoint']} as source {source['source_digest']}")
        created = self.call(
            client.create_deployment,
            {
                "name": name,
                "entrypoint": entrypoint,
                **source,
                "parameters": params,
                "schedules": schedules,
                "work_pool": self.pool,
                "tags": self.tags,
                "priority": self.priority,
                "job_variables": job_variables,
                "version": self.version or None,
                "description": self.deployment_description or None,
            },
        )
        print(
            f"deployment {created.name!r} ({created.id}), next run: "
            f"{created.next_run_time or 'on demand'}"
        )


class DeploymentsApp(_ServerApp):
    """``jupyter flows deployments ls|pause|resume|rm [NAME]``."""

    name = "jupyter-flows-deployments"
    description = "List, pause, resume or remove deployments."
    examples = "jupyter flows deployments ls\njupyter flows deployments pause nightly"
    aliases = _aliases("DeploymentsApp")

    def start(self) -> None:
        action, *rest = self.extra_args or ["ls"]
        if action == "ls":
            for d in self.call(self.client().list_deployments):
                state = "paused" if d.paused else "active"
                print(f"{d.name:<24} {state:<7} {d.entrypoint:<32} next: {d.next_run_time or '-'}")
            return
        if action not in ("pause", "resume", "rm") or len(rest) != 1:
            self.fail("usage: jupyter flows deployments ls|pause|resume|rm NAME", 2)
        if action == "rm":
            self.call(self.client().delete_deployment, rest[0])
            print(f"removed {rest[0]}")
        else:
            d = self.call(self.client().pause_deployment, rest[0], action == "pause")
            print(f"{d.name}: {'paused' if d.paused else 'active'}")


class RunApp(_ServerApp):
    """Run a deployment now; ``--watch`` follows it until it ends (exit 0 only if Completed)."""

    name = "jupyter-flows-run"
    description = "Run a deployment now, with parameter overrides."
    examples = "jupyter flows run nightly --param n=10 --watch"
    param = List(Unicode(), config=True, help="Parameter key=value (repeatable).")
    watch = Bool(False, config=True, help="Follow the run until it ends.")
    timeout = Float(3600.0, config=True, help="With --watch: give up after this many seconds.")
    aliases = _aliases("RunApp", param="RunApp.param", timeout="RunApp.timeout")
    flags = {"watch": ({"RunApp": {"watch": True}}, "Follow the run until it ends.")}

    def start(self) -> None:
        if len(self.extra_args) != 1:
            self.fail("give exactly one deployment name or id", 2)
        try:
            params = _parse_params(self.param)
        except ValueError as exc:
            self.fail(str(exc), 2)
        client = self.client()
        started = self.call(client.run_deployment, self.extra_args[0], params)
        print(f"flow run {started.name!r} ({started.id}) {started.state_name}")
        if not self.watch:
            return
        deadline = time.monotonic() + self.timeout
        last = None
        while time.monotonic() < deadline:
            run = self.call(client.read_run, started.id)
            if run.state_name != last:
                last = run.state_name
                counts = run.task_run_counts or {}
                done = sum(n for state, n in counts.items() if state in FINAL)
                print(f"  {last} ({done}/{run.task_run_total} task runs done)", flush=True)
            if run.state_type in FINAL:
                self.exit(0 if run.state_type == "COMPLETED" else 1)
            time.sleep(1)
        self.fail("timed out waiting for the run", 3)


class CancelApp(_ServerApp):
    """Cancel a flow run."""

    name = "jupyter-flows-cancel"
    description = "Cancel a scheduled or running flow run."
    aliases = _aliases("CancelApp")

    def start(self) -> None:
        if len(self.extra_args) != 1:
            self.fail("give exactly one flow run id", 2)
        run = self.call(self.client().cancel_run, self.extra_args[0])
        print(f"{run.id}: {run.state_name}")


class RetryRunApp(_ServerApp):
    """Retry a failed deployment run from its failure."""

    name = "jupyter-flows-runs-retry"
    description = (
        "Retry a Failed, Crashed or Cancelled deployment run: a new run with its parameters "
        "that reuses its completed task runs' persisted results (persist_result=True) and "
        "runs the failed ones and what depends on them again."
    )
    aliases = _aliases("RetryRunApp")

    def start(self) -> None:
        if len(self.extra_args) != 1:
            self.fail("give exactly one flow run id", 2)
        run = self.call(self.client().retry_run, self.extra_args[0])
        print(f"{run.name} ({run.id}) retries {run.retry_of}: {run.state_name}")


class ResumeRunApp(_ServerApp):
    """Resume a paused (or suspended) flow run, with the input it waits for."""

    name = "jupyter-flows-runs-resume"
    description = (
        "Resume a Paused or Suspended flow run; --input gives what it waits for (a JSON object)."
    )
    run_input = Unicode("", config=True, help="The input, a JSON object (the pause's schema).")
    aliases = _aliases("ResumeRunApp", input="ResumeRunApp.run_input")

    def start(self) -> None:
        if len(self.extra_args) != 1:
            self.fail("give exactly one flow run id", 2)
        run_input = None
        if self.run_input:
            try:
                run_input = json.loads(self.run_input)
            except ValueError as exc:
                self.fail(f"--input is not JSON: {exc}", 2)
            if not isinstance(run_input, dict):
                self.fail("--input must be a JSON object", 2)
        state = self.call(self.client().resume_run, self.extra_args[0], run_input)
        print(f"{state.id}: {state.state_name}")


class RemoveRunsApp(_ServerApp):
    """Delete flow runs (ended, or not started) with everything of theirs."""

    name = "jupyter-flows-runs-rm"
    description = "Delete flow runs that nothing runs, with their task runs, logs and outputs."
    aliases = _aliases("RemoveRunsApp")

    def start(self) -> None:
        if not self.extra_args:
            self.fail("give one or more flow run ids", 2)
        client = self.client()
        for run_id in self.extra_args:
            self.call(client.delete_run, run_id)
            print(f"removed {run_id}")


class PruneRunsApp(_ServerApp):
    """Delete ended flow runs by age (``--older-than DAYS``) or count (``--keep N`` per flow)."""

    name = "jupyter-flows-runs-prune"
    description = "Delete ended flow runs older than DAYS, or beyond the newest N of each flow."
    older_than = Float(0.0, config=True, help="Runs that ended this many days ago.")
    keep = Int(0, config=True, help="Keep the newest N ended runs of each flow.")
    aliases = _aliases("PruneRunsApp", **{"older-than": "PruneRunsApp.older_than"},
                       keep="PruneRunsApp.keep")  # fmt: skip

    def start(self) -> None:
        if self.older_than <= 0 and self.keep <= 0:
            self.fail("prune needs --older-than DAYS or --keep N", 2)
        deleted = self.call(self.client().prune_runs, self.older_than or None, self.keep or None)
        print(f"deleted {deleted} flow runs")


class PoolsApp(_ServerApp):
    """``jupyter flows pools ls|create NAME [--type process|dask] [--limit N]
    [--base-job-template JSON|@FILE]|show NAME|pause NAME|resume NAME|token NAME``."""

    name = "jupyter-flows-pools"
    description = (
        "List, create, pause or resume work pools; print a token for one worker of a pool "
        "(it may heartbeat, claim, report and record its own runs, nothing else)."
    )
    examples = (
        "jupyter flows pools create gpu --limit 2\n"
        "jupyter flows pools create cluster --type dask "
        "--base-job-template @template.json\n"
        "jupyter flows pools show cluster   # its base job template\n"
        "jupyter flows pools token gpu --worker gpu-1   # then: jupyter flows worker --token ..."
    )
    limit = Int(0, config=True, help="Concurrency limit for create (0: none).")
    worker = Unicode("", config=True, help="token: the worker's name.")
    pool_type = Unicode("process", config=True, help="create: the pool's type (process, dask).")
    base_job_template = Unicode(
        "", config=True, help="create: the base job template, JSON or @FILE (default: the type's)."
    )
    aliases = _aliases(
        "PoolsApp",
        limit="PoolsApp.limit",
        worker="PoolsApp.worker",
        type="PoolsApp.pool_type",
    )
    aliases["base-job-template"] = "PoolsApp.base_job_template"

    def start(self) -> None:
        action, *rest = self.extra_args or ["ls"]
        if action == "ls":
            client = self.client()
            workers = self.call(client.list_workers)
            for p in self.call(client.list_work_pools):
                mine = [w.name for w in workers if w.work_pool == p.name]
                print(
                    f"{p.name:<16} {p.type:<8} {'paused' if p.paused else 'active':<7} "
                    f"limit={p.concurrency_limit or '-'} workers={','.join(mine) or '-'}"
                )
            return
        if action not in ("create", "show", "pause", "resume", "token") or len(rest) != 1:
            self.fail("usage: jupyter flows pools ls|create|show|pause|resume|token NAME", 2)
        if action == "show":
            shown = self.call(self.client().read_work_pool, rest[0])
            print(json.dumps(shown.model_dump(mode="json"), indent=2))
            return
        if action == "token":
            if not self.worker:
                self.fail("token needs --worker NAME (the name the worker will run under)", 2)
            print(self.call(self.client().worker_token, rest[0], self.worker).token)
            return
        if action == "create":
            body: dict[str, Any] = {"name": rest[0], "type": self.pool_type}
            try:
                body["base_job_template"] = _json_object(
                    self.base_job_template, "--base-job-template"
                )
            except (ValueError, OSError) as exc:
                self.fail(str(exc), 2)
            if self.limit:
                body["concurrency_limit"] = self.limit
            p = self.call(self.client().create_work_pool, body)
        else:
            p = self.call(self.client().pause_work_pool, rest[0], action == "pause")
        print(f"{p.name}: {'paused' if p.paused else 'active'}")
