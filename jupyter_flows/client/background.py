"""``Task.delay`` through the server, for a run process with no database.

``jupyter_flows.task_worker`` sends here what it would write to the run database when the
process records over HTTP: the run is queued with ``POST background_task_runs`` (its run's
token), followed with ``GET background_task_runs/{id}`` and its result read from
``.../result``. Pickled arguments were uploaded as the result ``parameters/<id>`` already
(``core.background`` writes them to result storage, which the server mirrors).
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from ..core.records import TaskRunInfo
from ..core.results import parse_result
from ..core.states import State, StateType
from ..exceptions import MissingResult
from ..store.schemas import DescribeBackgroundTaskRun
from .http import ClientError, FlowsClient
from .results import mirror_from_environment

__all__ = ["enqueue", "read_state", "read_error"]


def _client() -> FlowsClient:
    mirror = mirror_from_environment()
    if mirror is None:
        raise RuntimeError("this process does not record through a server")
    return mirror.client


def _path(task_run_id: str) -> str:
    return "background_task_runs/" + urllib.parse.quote(task_run_id, safe="")


def enqueue(
    info: TaskRunInfo,
    queue_key: str,
    *,
    parameters: dict[str, Any] | None,
    parameters_location: str | None,
    wait_for: list[str],
    origin_flow_run_id: str | None,
) -> None:
    """Queue the background run on the server (for the run of this process's token)."""
    body = {
        "id": info.id,
        "task_key": info.task_key,
        "task_name": info.task_name,
        "name": info.name,
        "queue_key": queue_key,
        "tags": list(info.tags),
        "description": info.description,
        "version": info.version,
        "parameters": parameters,
        "parameters_key": f"parameters/{info.id}" if parameters_location is not None else None,
        "wait_for": wait_for,
        "created": info.created.isoformat(),
    }
    _client().request("POST", "background_task_runs", body)


class _ServerResult:
    """A background run's persisted result, read through the server when asked."""

    def __init__(self, task_run_id: str):
        self.task_run_id = task_run_id

    def load_result(self) -> Any:
        found = _result_file(self.task_run_id)
        if found is None:
            raise MissingResult(f"background task run {self.task_run_id} has no result")
        return found


def _result_file(task_run_id: str) -> Any:
    client = _client()
    request = urllib.request.Request(client.base + _path(task_run_id) + "/result")
    request.add_header("Authorization", f"token {client.token}")
    try:
        with urllib.request.urlopen(request, timeout=client.timeout) as response:
            content = response.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise client._error("GET", "background_task_runs/{id}/result", exc) from None
    except OSError as exc:
        raise ClientError(f"GET background_task_runs/{{id}}/result: {exc}") from None
    hit, value = parse_result(content, f"the result of {task_run_id} (from the server)")
    return value if hit else None


def read_state(task_run_id: str) -> State:
    """The background run's current state; ``.result()`` reads its result via the server."""
    run = DescribeBackgroundTaskRun.model_validate(_client().request("GET", _path(task_run_id)))
    if run.state_type is None:
        raise RuntimeError(f"task run {task_run_id} has no state")
    return State(
        StateType(run.state_type),
        run.state_name or "",
        run.end_time or run.start_time or run.created,
        run.state_message,
        _ServerResult(task_run_id),
        run_id=task_run_id,
    )


def read_error(task_run_id: str) -> BaseException | None:
    """The exception a failed background run raised, as its task worker persisted it."""
    value = _result_file(task_run_id)
    return value if isinstance(value, BaseException) else None
