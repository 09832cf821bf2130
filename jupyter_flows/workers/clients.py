"""How a worker talks to the orchestrator: over HTTP (token auth), or in-process."""

from __future__ import annotations

import functools
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

__all__ = ["HttpClient", "LocalClient", "WorkerClientError", "WorkerAuthError", "StateConflict"]


class WorkerClientError(Exception):
    """The server refused or could not be reached."""


class WorkerAuthError(WorkerClientError):
    """The server does not accept this client's token (HTTP 401/403): retrying won't help."""


class StateConflict(WorkerClientError):
    """The state policy refused a proposed state (HTTP 409): the run is not where we thought."""


class HttpClient:
    """The REST API of a Jupyter server with jupyter-flows (``Authorization: token``)."""

    def __init__(self, url: str, token: str, timeout: float = 30.0):
        self.base = url.rstrip("/") + "/jupyter-flows/api/"
        self.token = token
        self.timeout = timeout

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", f"token {self.token}")
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            try:
                detail = json.loads(detail).get("message", detail)
            except ValueError:
                pass
            if exc.code in (401, 403):
                raise WorkerAuthError(
                    f"the server at {self.base} refused this token (HTTP {exc.code} on "
                    f"{method} {path}: {detail}): check --token / JUPYTER_FLOWS_TOKEN and that "
                    "the user may execute runs"
                ) from None
            error = StateConflict if exc.code == 409 else WorkerClientError
            raise error(f"{method} {path}: HTTP {exc.code}: {detail}") from None
        except OSError as exc:
            raise WorkerClientError(f"{method} {path}: {exc}") from None
        return json.loads(text) if text else None

    def heartbeat(self, pool: str, worker: str) -> Any:
        return self._call("POST", f"work_pools/{pool}/workers/heartbeat", {"worker": worker})

    def claim(self, pool: str, worker: str, limit: int) -> list[dict[str, Any]]:
        result = self._call("POST", f"work_pools/{pool}/claim", {"worker": worker, "limit": limit})
        return list(result["items"])

    def read_run(self, run_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"flow_runs/{run_id}"))

    def read_run_state(self, run_id: str) -> dict[str, Any]:
        """The light state view (``DescribeRunState``)."""
        return dict(self._call("GET", f"flow_runs/{run_id}/state"))

    def set_state(self, run_id: str, body: dict[str, Any]) -> Any:
        return self._call("POST", f"flow_runs/{run_id}/state", body)

    def append_logs(self, run_id: str, lines: list[dict[str, Any]]) -> None:
        self._call("POST", f"flow_runs/{run_id}/logs/append", {"items": lines})


def _domain_errors(method: Callable[..., Any]) -> Callable[..., Any]:
    """``FlowsError`` (NotFound, Conflict, ...) as ``WorkerClientError``, like HTTP errors."""

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        from ..exceptions import Conflict, FlowsError

        try:
            return method(*args, **kwargs)
        except Conflict as exc:
            raise StateConflict(f"{method.__name__}: {exc}") from exc
        except FlowsError as exc:
            raise WorkerClientError(f"{method.__name__}: {exc}") from exc

    return call


class LocalClient:
    """The same calls straight on an ``OrchestrationService`` (the server's embedded worker)."""

    def __init__(self, service: Any):
        self.service = service

    @_domain_errors
    def heartbeat(self, pool: str, worker: str) -> Any:
        return self.service.heartbeat(pool, worker).model_dump(mode="json")

    @_domain_errors
    def claim(self, pool: str, worker: str, limit: int) -> list[dict[str, Any]]:
        return [c.model_dump(mode="json") for c in self.service.claim_runs(pool, worker, limit)]

    @_domain_errors
    def read_run(self, run_id: str) -> dict[str, Any]:
        return dict(self.service.runs.read_flow_run(run_id).model_dump(mode="json"))

    @_domain_errors
    def read_run_state(self, run_id: str) -> dict[str, Any]:
        return dict(self.service.read_run_state(run_id).model_dump(mode="json"))

    @_domain_errors
    def set_state(self, run_id: str, body: dict[str, Any]) -> Any:
        from ..orchestration.schemas import UpdateRunState

        return self.service.set_run_state(run_id, UpdateRunState(**body)).model_dump(mode="json")

    @_domain_errors
    def append_logs(self, run_id: str, lines: list[dict[str, Any]]) -> None:
        from ..orchestration.schemas import AppendLogs

        self.service.append_logs(run_id, AppendLogs.model_validate({"items": lines}))
