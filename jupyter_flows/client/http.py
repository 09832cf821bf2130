"""``FlowsClient``: the one HTTP client of a jupyter-flows server's REST API.

The CLI, workers, run processes, ``deploy()`` and the kernel's magics talk to a server only
through it. Replies are validated into the same pydantic models the server answers with, so
a field the server renames fails here, loudly, not three modules later. Errors:
``AuthError`` (401/403: the token is refused, retrying will not help), ``StateConflict``
(409: the state policy refused a proposed state) and ``ClientError`` (anything else,
including an unreachable server).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from ..orchestration.automation_schemas import PreviewAutomationResponse
from ..orchestration.block_schemas import DescribeBlockDocument
from ..orchestration.concurrency_schemas import (
    DescribeConcurrencyLimit,
    DescribeSlotLease,
)
from ..orchestration.schemas import (
    ClaimedRun,
    DescribeAutomation,
    DescribeDeployment,
    DescribeEvent,
    DescribeRunState,
    DescribeWorker,
    DescribeWorkerToken,
    DescribeWorkPool,
    RecordsVerdict,
)
from ..orchestration.variable_schemas import DescribeVariable
from ..store.schemas import (
    DescribeBackgroundTaskRun,
    DescribeFlowRun,
    DescribeFlowRunDetail,
    DescribeFlowRunItem,
)
from .artifact_calls import ArtifactCalls
from .source_calls import SourceCalls

__all__ = ["FlowsClient", "ClientError", "AuthError", "StateConflict", "Body"]

M = TypeVar("M", bound=BaseModel)
#: a request body: one of the API's models, or the same fields as a mapping
Body = BaseModel | Mapping[str, Any]


class ClientError(Exception):
    """The server refused a request (``status``) or could not be reached (``status`` None)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class AuthError(ClientError):
    """The server does not accept this client's token (HTTP 401/403): retrying won't help."""


class StateConflict(ClientError):
    """The state policy refused a proposed state (HTTP 409): the run is not where we thought."""


def _json(body: Body | None) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, BaseModel):
        return body.model_dump_json(exclude_unset=True).encode()
    return json.dumps(dict(body), default=str).encode()


class FlowsClient(ArtifactCalls, SourceCalls):
    """The REST API of a Jupyter server with jupyter-flows (``Authorization: token``)."""

    def __init__(self, url: str, token: str, timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.base = self.url + "/jupyter-flows/api/"
        self.token = token
        self.timeout = timeout

    def __repr__(self) -> str:  # never the token
        return f"FlowsClient({self.url!r})"

    def __enter__(self) -> FlowsClient:  # ``with get_client(sync_client=True) as client:``
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    # -- transport ---------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Body | None = None,
        query: Mapping[str, Any] | None = None,
    ) -> Any:
        """One call; the decoded JSON reply (``None`` for 204)."""
        target = self.base + path
        if query:
            given = {k: v for k, v in query.items() if v is not None}
            target += "?" + urllib.parse.urlencode(given)
        request = urllib.request.Request(target, data=_json(body), method=method)
        request.add_header("Authorization", f"token {self.token}")
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as exc:
            raise self._error(method, path, exc) from None
        except OSError as exc:
            raise ClientError(f"{method} {path}: {exc}") from None
        return json.loads(text) if text else None

    def _error(self, method: str, path: str, exc: urllib.error.HTTPError) -> ClientError:
        detail = exc.read().decode(errors="replace")
        try:
            detail = json.loads(detail).get("message", detail)
        except (ValueError, AttributeError):
            pass
        if exc.code in (401, 403):
            return AuthError(
                f"the server at {self.url} refused this token (HTTP {exc.code} on "
                f"{method} {path}: {detail}): check --token / JUPYTER_FLOWS_TOKEN and that "
                "the user may execute runs",
                exc.code,
            )
        error = StateConflict if exc.code == 409 else ClientError
        return error(f"{method} {path}: HTTP {exc.code}: {detail}", exc.code)

    def _model(self, model: type[M], method: str, path: str, body: Body | None = None) -> M:
        return model.model_validate(self.request(method, path, body))

    def _items(self, model: type[M], path: str, query: Mapping[str, Any] | None = None) -> list[M]:
        reply = self.request("GET", path, query=query)
        return [model.model_validate(item) for item in reply["items"]]

    # -- server ------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``/health``: version, masked database URL, which services run."""
        return dict(self.request("GET", "health"))

    # -- flow runs ---------------------------------------------------------------------

    def read_flow_runs(self, limit: int = 50, **filters: Any) -> list[DescribeFlowRunItem]:
        """Flow runs, newest first (filters of ``GET flow_runs``: flow_name, state, tags,
        deployment_id, since, until, offset)."""
        query = {"limit": limit, **filters}
        return self._items(DescribeFlowRunItem, "flow_runs", query)

    def read_background_task_runs(
        self, limit: int = 50, **filters: Any
    ) -> list[DescribeBackgroundTaskRun]:
        """Background task runs (``task.delay``), newest first (filters: state, task_name,
        offset)."""
        query = {"limit": limit, **filters}
        return self._items(DescribeBackgroundTaskRun, "background_task_runs", query)

    def read_flow_run(self, run_id: str) -> DescribeFlowRunDetail:
        """One flow run (Prefect's name of ``read_run``)."""
        return self.read_run(run_id)

    def read_run(self, run_id: str) -> DescribeFlowRunDetail:
        return self._model(DescribeFlowRunDetail, "GET", f"flow_runs/{run_id}")

    def read_run_state(self, run_id: str) -> DescribeRunState:
        """The light state view (what workers and run processes poll)."""
        return self._model(DescribeRunState, "GET", f"flow_runs/{run_id}/state")

    def set_state(self, run_id: str, body: Body) -> DescribeRunState:
        """Propose a state (``UpdateRunState``); ``StateConflict`` if the policy refuses it."""
        return self._model(DescribeRunState, "POST", f"flow_runs/{run_id}/state", body)

    def resume_run(self, run_id: str, run_input: dict[str, Any] | None = None) -> DescribeRunState:
        """Resume a Paused run (``StateConflict``, 409, if it is not paused; 400 naming the
        field of an input its pause's schema refuses)."""
        body = {"run_input": run_input}
        return self._model(DescribeRunState, "POST", f"flow_runs/{run_id}/resume", body)

    def read_run_input(self, run_id: str, key: str) -> Any:
        """The value of a flow run's input ``key`` (``ClientError`` 404 if it has none)."""
        path = f"flow_runs/{run_id}/inputs/{urllib.parse.quote(key, safe='')}"
        return self.request("GET", path)["value"]

    def set_run_input(self, run_id: str, key: str, value: Any) -> None:
        path = f"flow_runs/{run_id}/inputs/{urllib.parse.quote(key, safe='')}"
        self.request("PUT", path, {"value": value})

    def retry_run(self, run_id: str) -> DescribeFlowRun:
        """A new run retrying a Failed/Crashed/Cancelled deployment run from its failure
        (``StateConflict``, 409, for a run that cannot be retried)."""
        return self._model(DescribeFlowRun, "POST", f"flow_runs/{run_id}/retry", {})

    def cancel_run(self, run_id: str) -> DescribeRunState:
        return self._model(DescribeRunState, "POST", f"flow_runs/{run_id}/cancel", {})

    def delete_run(self, run_id: str) -> None:
        """Delete a flow run nothing runs, with everything of it (``StateConflict`` if it runs)."""
        self.request("DELETE", f"flow_runs/{run_id}")

    def prune_runs(
        self, older_than_days: float | None = None, keep_per_flow: int | None = None
    ) -> int:
        """Delete ended flow runs by age or beyond the newest N per flow; how many."""
        body = {"older_than_days": older_than_days, "keep_per_flow": keep_per_flow}
        return int(self.request("POST", "retention/prune", body)["deleted"])

    def append_logs(self, run_id: str, lines: list[dict[str, Any]]) -> None:
        self.request("POST", f"flow_runs/{run_id}/logs/append", {"items": lines})

    def post_records(self, items: list[dict[str, Any]]) -> RecordsVerdict:
        """What a run process recorded (``record_codec`` items); which runs' states were refused."""
        reply = self.request("POST", "records", {"items": items})
        return RecordsVerdict.model_validate(reply or {})

    # -- deployments -------------------------------------------------------------------

    def list_deployments(self) -> list[DescribeDeployment]:
        return self._items(DescribeDeployment, "deployments", {"limit": 1000})

    def create_deployment(self, body: Body) -> DescribeDeployment:
        return self._model(DescribeDeployment, "POST", "deployments", body)

    def delete_deployment(self, name: str) -> None:
        self.request("DELETE", f"deployments/{name}")

    def pause_deployment(self, name: str, paused: bool = True) -> DescribeDeployment:
        verb = "pause" if paused else "resume"
        return self._model(DescribeDeployment, "POST", f"deployments/{name}/{verb}", {})

    def run_deployment(
        self,
        name: str,
        parameters: dict[str, Any],
        job_variables: dict[str, Any] | None = None,
    ) -> DescribeFlowRun:
        body = {"parameters": parameters, "job_variables": job_variables or {}}
        return self._model(DescribeFlowRun, "POST", f"deployments/{name}/run", body)

    # -- work pools and workers --------------------------------------------------------

    def list_work_pools(self) -> list[DescribeWorkPool]:
        return self._items(DescribeWorkPool, "work_pools")

    def read_work_pool(self, name: str) -> DescribeWorkPool:
        return self._model(DescribeWorkPool, "GET", f"work_pools/{name}")

    def create_work_pool(self, body: Body) -> DescribeWorkPool:
        return self._model(DescribeWorkPool, "POST", "work_pools", body)

    def pause_work_pool(self, name: str, paused: bool = True) -> DescribeWorkPool:
        verb = "pause" if paused else "resume"
        return self._model(DescribeWorkPool, "POST", f"work_pools/{name}/{verb}", {})

    def worker_token(self, pool: str, worker: str) -> DescribeWorkerToken:
        """A token for one worker of ``pool``: it may do that worker's calls, nothing else."""
        body = {"worker": worker}
        return self._model(DescribeWorkerToken, "POST", f"work_pools/{pool}/worker_token", body)

    def list_workers(self) -> list[DescribeWorker]:
        return self._items(DescribeWorker, "workers")

    def heartbeat(self, pool: str, worker: str) -> DescribeWorker:
        body = {"worker": worker}
        return self._model(DescribeWorker, "POST", f"work_pools/{pool}/workers/heartbeat", body)

    def claim(
        self, pool: str, worker: str, limit: int, outputs_dir: str | None = None
    ) -> list[ClaimedRun]:
        """Due runs of ``pool`` for ``worker``; notebook runs will write into ``outputs_dir``."""
        body = {"worker": worker, "limit": limit, "outputs_dir": outputs_dir}
        reply = self.request("POST", f"work_pools/{pool}/claim", body)
        return [ClaimedRun.model_validate(item) for item in reply["items"]]

    # -- automations and events --------------------------------------------------------

    def list_automations(self) -> list[DescribeAutomation]:
        return self._items(DescribeAutomation, "automations")

    def create_automation(self, body: Body) -> DescribeAutomation:
        return self._model(DescribeAutomation, "POST", "automations", body)

    def preview_automation(self, body: Body) -> PreviewAutomationResponse:
        return self._model(PreviewAutomationResponse, "POST", "automations/preview", body)

    def update_automation(self, name: str, body: Body) -> DescribeAutomation:
        return self._model(DescribeAutomation, "PATCH", f"automations/{name}", body)

    def delete_automation(self, name: str) -> None:
        self.request("DELETE", f"automations/{name}")

    def list_events(self, event: str | None = None, limit: int = 100) -> list[DescribeEvent]:
        """The newest ``limit`` events (named like the glob ``event``), newest first."""
        return self._items(DescribeEvent, "events", {"event": event, "limit": limit})

    def emit_event(self, body: Body) -> DescribeEvent:
        return self._model(DescribeEvent, "POST", "events", body)

    # -- variables ---------------------------------------------------------------------

    def read_variable(self, name: str) -> DescribeVariable:
        """Variable ``name`` (``ClientError`` with status 404 if there is none)."""
        return self._model(DescribeVariable, "GET", _variable_path(name))

    def set_variable(
        self, name: str, value: Any, tags: list[str] | None = None, overwrite: bool = False
    ) -> DescribeVariable:
        """Create variable ``name`` (replace it with ``overwrite``; else ``StateConflict``, 409,
        if it exists)."""
        body = {"value": value, "tags": tags, "overwrite": overwrite}
        return self._model(DescribeVariable, "PUT", _variable_path(name), body)

    def delete_variable(self, name: str) -> None:
        """Delete variable ``name`` (``ClientError`` with status 404 if there is none)."""
        self.request("DELETE", _variable_path(name))

    def read_variables(
        self,
        tag: str | None = None,
        prefix: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[DescribeVariable]:
        """A page of variables by name (with ``tag``, names starting with ``prefix``)."""
        query = {"tag": tag, "prefix": prefix, "limit": limit, "offset": offset}
        return self._items(DescribeVariable, "variables", query)

    # -- concurrency limits --------------------------------------------------------------

    def create_concurrency_limit(self, body: Body) -> DescribeConcurrencyLimit:
        """A new limit (``CreateConcurrencyLimit``); ``StateConflict`` (409) if it exists."""
        return self._model(DescribeConcurrencyLimit, "POST", "concurrency_limits", body)

    def read_concurrency_limit(self, name: str) -> DescribeConcurrencyLimit:
        """Limit ``name`` with its holders (``ClientError`` with status 404 if none)."""
        return self._model(DescribeConcurrencyLimit, "GET", _limit_path(name))

    def read_concurrency_limits(
        self, prefix: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[DescribeConcurrencyLimit]:
        """A page of limits by name (names starting with ``prefix``)."""
        query = {"prefix": prefix, "limit": limit, "offset": offset}
        return self._items(DescribeConcurrencyLimit, "concurrency_limits", query)

    def update_concurrency_limit(self, name: str, body: Body) -> DescribeConcurrencyLimit:
        """Change fields of limit ``name`` (``UpdateConcurrencyLimit``)."""
        return self._model(DescribeConcurrencyLimit, "PATCH", _limit_path(name), body)

    def reset_concurrency_limit(self, name: str) -> DescribeConcurrencyLimit:
        """Free every slot of limit ``name`` (its holders' leases end)."""
        return self._model(DescribeConcurrencyLimit, "POST", _limit_path(name) + "/reset", {})

    def delete_concurrency_limit(self, name: str) -> None:
        self.request("DELETE", _limit_path(name))

    def acquire_slots(self, body: Body) -> DescribeSlotLease:
        """One attempt to take slots (``AcquireSlots``): a denial is ``acquired=False``."""
        return self._model(DescribeSlotLease, "POST", "concurrency_leases", body)

    def renew_lease(self, lease_id: str, lease_duration: float) -> bool:
        """Extend a lease; ``False`` if it is gone (its slots were taken back)."""
        try:
            self.request(
                "POST", _lease_path(lease_id) + "/renew", {"lease_duration": lease_duration}
            )
        except ClientError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def release_lease(self, lease_id: str) -> None:
        """Give a lease's slots back (nothing happens if it is gone)."""
        self.request("DELETE", _lease_path(lease_id))

    # -- block documents ---------------------------------------------------------------

    def read_block_document(
        self, slug: str, name: str, include_secrets: bool = False
    ) -> DescribeBlockDocument:
        """Document ``slug/name``, masked unless ``include_secrets`` (which needs ``write``,
        or the run's token); ``ClientError`` with status 404 if there is none."""
        query = {"include_secrets": "true"} if include_secrets else None
        reply = self.request("GET", _block_path(slug, name), query=query)
        return DescribeBlockDocument.model_validate(reply)

    def save_block_document(
        self,
        slug: str,
        name: str,
        data: dict[str, Any],
        secret_fields: list[str] | None = None,
        overwrite: bool = False,
    ) -> DescribeBlockDocument:
        """Create document ``slug/name`` (replace its values with ``overwrite``; else
        ``StateConflict``, 409, if it exists); it, masked."""
        body = {"data": data, "secret_fields": secret_fields or [], "overwrite": overwrite}
        return self._model(DescribeBlockDocument, "PUT", _block_path(slug, name), body)

    def delete_block_document(self, slug: str, name: str) -> None:
        self.request("DELETE", _block_path(slug, name))

    def read_block_documents(
        self, block_type: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[DescribeBlockDocument]:
        """A page of documents by block type and name (secret fields masked)."""
        query = {"block_type": block_type, "limit": limit, "offset": offset}
        return self._items(DescribeBlockDocument, "block_documents", query)


def _limit_path(name: str) -> str:
    return "concurrency_limits/" + urllib.parse.quote(name, safe="")


def _lease_path(lease_id: str) -> str:
    return "concurrency_leases/" + urllib.parse.quote(lease_id, safe="")


def _block_path(slug: str, name: str) -> str:
    quote = urllib.parse.quote
    return f"block_documents/{quote(slug, safe='')}/{quote(name, safe='')}"


def _variable_path(name: str) -> str:
    return "variables/" + urllib.parse.quote(name, safe="")
