"""Results through the server, for a run process with no database (``PUT/GET results``).

``ServerResults`` is the ``core.results.ResultMirror`` the package root installs in such a
process: every result file it persists is uploaded too, and a result missing locally (a
retry or resumed run on another worker) is downloaded. ``prior_task_results`` is the
``core.prior_runs`` loader there: the completed task runs of the run it retries.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.parse
import urllib.request

from ..core.results import ResultRef
from ..core.run_environment import RunEnvironment
from ..orchestration.uploaded_results import ListTaskResultsResponse
from .http import ClientError, FlowsClient

__all__ = ["ServerResults", "mirror_from_environment", "prior_task_results"]

logger = logging.getLogger(__name__)


class ServerResults:
    """``upload``/``download`` result files with a run's token."""

    def __init__(self, client: FlowsClient):
        self.client = client

    def _send(self, method: str, key: str, data: bytes | None = None) -> bytes | None:
        target = self.client.base + "results/" + urllib.parse.quote(key, safe="")
        request = urllib.request.Request(target, data=data, method=method)
        request.add_header("Authorization", f"token {self.client.token}")
        request.add_header("Content-Type", "application/octet-stream")
        try:
            with urllib.request.urlopen(request, timeout=self.client.timeout) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            if method == "GET" and exc.code == 404:
                return None
            raise self.client._error(method, "results/{key}", exc) from None
        except OSError as exc:
            raise ClientError(f"{method} results/{{key}}: {exc}") from None

    def upload(self, key: str, content: bytes) -> None:
        self._send("PUT", key, content)

    def download(self, key: str) -> bytes | None:
        return self._send("GET", key)

    def task_results(self, flow_run_id: str) -> ListTaskResultsResponse:
        path = "flow_runs/" + urllib.parse.quote(flow_run_id, safe="") + "/results"
        return ListTaskResultsResponse.model_validate(self.client.request("GET", path))


_lock = threading.Lock()
_cached: tuple[tuple[str, str], ServerResults] | None = None


def mirror_from_environment() -> ServerResults | None:
    """The server's results for this process, if it records over HTTP (else None)."""
    global _cached
    env = RunEnvironment.current()
    if not env.records_over_http():
        return None
    ident = (str(env.record_url), env.record_token or "")
    with _lock:
        if _cached is None or _cached[0] != ident:
            _cached = (ident, ServerResults(FlowsClient(*ident)))
        return _cached[1]


def prior_task_results(flow_run_id: str) -> dict[tuple[str, int], tuple[str, ResultRef]]:
    """The completed task runs of ``flow_run_id`` with a result, read through the server
    (each read from this process's result storage, else downloaded)."""
    mirror = mirror_from_environment()
    if mirror is None:
        raise RuntimeError("this process does not record through a server")
    return {
        (item.task_key, item.dynamic_key): (item.task_run_id, ResultRef(item.key))
        for item in mirror.task_results(flow_run_id).items
    }
