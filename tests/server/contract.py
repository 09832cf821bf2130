"""The REST contract of docs/rest-api.md, as data the server tests check the server against."""

from __future__ import annotations

import re

# every operation: (method, route under api/), "{}" standing for any path parameter
OPERATIONS = {
    ("get", "health"),
    ("get", "openapi.json"),
    ("get", "flows"),
    ("get", "flow_runs"),
    ("get", "flow_runs/{}"),
    ("delete", "flow_runs/{}"),
    ("post", "retention/prune"),
    ("get", "flow_runs/{}/task_runs"),
    ("get", "flow_runs/{}/graph"),
    ("get", "flow_runs/{}/logs"),
    ("get", "flow_runs/{}/report"),
    ("get", "flow_runs/{}/output"),
    ("put", "flow_runs/{}/output"),
    ("put", "sources/{}"),
    ("get", "sources/{}"),
    ("post", "flow_runs/{}/cancel"),
    ("get", "task_runs/{}"),
    ("get", "background_task_runs"),
    ("post", "background_task_runs"),
    ("get", "background_task_runs/{}"),
    ("get", "background_task_runs/{}/result"),
    ("post", "deployments"),
    ("get", "deployments"),
    ("get", "deployments/{}"),
    ("patch", "deployments/{}"),
    ("delete", "deployments/{}"),
    ("post", "deployments/{}/pause"),
    ("post", "deployments/{}/resume"),
    ("post", "deployments/{}/run"),
    ("get", "deployments/{}/next_runs"),
    ("post", "schedules/preview"),
    ("post", "notebooks/parameters"),
    ("get", "work_pools"),
    ("post", "work_pools"),
    ("get", "work_pools/{}"),
    ("patch", "work_pools/{}"),
    ("delete", "work_pools/{}"),
    ("post", "work_pools/{}/pause"),
    ("post", "work_pools/{}/resume"),
    ("get", "workers"),
    ("post", "work_pools/{}/workers/heartbeat"),
    ("post", "work_pools/{}/claim"),
    ("post", "work_pools/{}/worker_token"),
    ("get", "flow_runs/{}/state"),
    ("post", "flow_runs/{}/state"),
    ("post", "flow_runs/{}/logs/append"),
    ("post", "records"),
    ("get", "automations"),
    ("post", "automations"),
    ("post", "automations/preview"),
    ("get", "automations/{}"),
    ("patch", "automations/{}"),
    ("delete", "automations/{}"),
    ("get", "events"),
    ("post", "events"),
    ("get", "dashboard"),
    ("get", "variables"),
    ("get", "variables/{}"),
    ("put", "variables/{}"),
    ("delete", "variables/{}"),
    ("post", "flow_runs/{}/retry"),
    ("put", "results/{}"),
    ("get", "results/{}"),
    ("get", "flow_runs/{}/results"),
    ("get", "flow_runs/{}/pause"),
    ("post", "flow_runs/{}/resume"),
    ("get", "flow_runs/{}/inputs/{}"),
    ("put", "flow_runs/{}/inputs/{}"),
    ("get", "artifacts"),
    ("post", "artifacts"),
    ("get", "artifacts/{}"),
    ("delete", "artifacts/{}"),
    ("get", "artifacts/{}/latest"),
    ("get", "concurrency_limits"),
    ("post", "concurrency_limits"),
    ("get", "concurrency_limits/{}"),
    ("patch", "concurrency_limits/{}"),
    ("delete", "concurrency_limits/{}"),
    ("post", "concurrency_limits/{}/reset"),
    ("post", "concurrency_leases"),
    ("delete", "concurrency_leases/{}"),
    ("post", "concurrency_leases/{}/renew"),
    ("get", "block_documents"),
    ("get", "block_documents/{}/{}"),
    ("put", "block_documents/{}/{}"),
    ("delete", "block_documents/{}/{}"),
}

#: reads that, asked for secret values (``include_secrets=true``), also check this action
SECRET_READS = {("GET", "block_documents/{}/{}"): "write"}

_EXECUTE = (
    "/run",
    "/cancel",
    "/retry",
    "/claim",
    "/state",
    "/logs/append",
    "/workers/heartbeat",
    "/worker_token",
)
_READ_POSTS = (
    "schedules/preview",
    "notebooks/parameters",
    "automations/preview",
)  # compute or read, change nothing
#: arming or firing automations starts runs: execute, like "run now"; so does creating,
#: changing or resuming a deployment (code that workers will run, maybe on a schedule)
_STARTS_RUNS = {
    ("POST", "deployments"),
    ("PATCH", "deployments/{}"),
    ("POST", "deployments/{}/resume"),
    ("POST", "flow_runs/{}/resume"),  # the paused run's code goes on
    ("POST", "events"),
    ("POST", "automations"),
    ("PATCH", "automations/{}"),
    ("POST", "records"),  # what run processes record: the worker protocol
    ("POST", "background_task_runs"),  # a task worker runs it
    ("PUT", "results/{}"),  # a pickled result: other runs of the deployment load it
}


def expected_action(method: str, route: str) -> str:
    """The action the contract assigns: execute to start/stop runs and worker calls."""
    method = method.upper()
    if (method, re.sub(r"\{\w*\}", "{}", route)) in _STARTS_RUNS:
        return "execute"
    if method == "POST" and route.endswith(_EXECUTE):
        return "execute"
    if method == "POST" and route.endswith(_READ_POSTS):
        return "read"
    return "read" if method == "GET" else "write"
