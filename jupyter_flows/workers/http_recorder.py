"""``HttpRecorder``: a run recorder for processes with a server URL but no database.

A worker started with ``--url``/``--token`` (and no ``JUPYTER_FLOWS_DB_URL``) gives its run
processes ``JUPYTER_FLOWS_RECORD_URL`` and ``JUPYTER_FLOWS_RECORD_TOKEN``: their flows, task
runs, states and logs then reach the server's database through ``POST records``, in batches
(every second, when a batch is full, and on ``flush``). While the server is unreachable the
calls are kept, and sent once it answers again (beyond ``max_kept`` records, new log lines
are dropped; runs and states never are).
"""

from __future__ import annotations

import atexit
import logging
import threading
from typing import Any

from ..core.record_codec import encode
from ..core.records import (
    ArtifactInfo,
    FlowRunInfo,
    LogInfo,
    ResultInfo,
    RunKind,
    TaskRunInfo,
)
from ..core.run_environment import RunEnvironment
from ..core.states import State

__all__ = ["HttpRecorder", "record_url", "from_environment"]

logger = logging.getLogger(__name__)


#: answers that mean "these records, never": split the batch, drop the refused ones
_REFUSED = (400, 403, 413)
#: about this much JSON per request (the server takes up to FlowsApp.max_body_size)
_BATCH_BYTES = 4 * 1024 * 1024


def _batch_end(items: list[dict[str, Any]], most: int) -> int:
    """How many of ``items`` go in the next request: at most ``most``, about
    ``_BATCH_BYTES`` (log lines counted by their length), at least one."""
    size = 0
    for i, item in enumerate(items[:most]):
        info = item.get("info") or {}
        op = item.get("op")
        if op == "log":
            size += 300 + len(info.get("message") or "")
        elif op == "artifact_saved":  # up to MAX_ARTIFACT_BYTES of data
            size += 300 + len(str(info.get("data") or ""))
        else:
            size += 300
        if size > _BATCH_BYTES and i:
            return i
    return min(len(items), most)


def record_url() -> str | None:
    """The server this process records through: set by a worker, and no database URL given."""
    env = RunEnvironment.current()
    return env.record_url if env.records_over_http() else None


def from_environment() -> HttpRecorder | None:
    """An ``HttpRecorder`` when ``record_url()`` says so."""
    env = RunEnvironment.current()
    if not env.records_over_http():
        return None
    return HttpRecorder(str(env.record_url), env.record_token or "")


class HttpRecorder:
    """Sends what the engine records to a jupyter-flows server."""

    def __init__(
        self,
        url: str,
        token: str,
        interval: float = 1.0,
        batch: int = 1000,
        max_kept: int = 200_000,
    ):
        from ..client.http import FlowsClient  # here: the check above stays free of urllib

        self.client = FlowsClient(url, token)
        self.interval = interval
        self.batch = batch
        self.max_kept = max_kept
        self.dropped_logs = 0
        self._items: list[dict[str, Any]] = []
        self._rejected: dict[str, tuple[str, str | None]] = {}
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._warned = False
        self._thread = threading.Thread(target=self._loop, name="flows-http-recorder", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    # -- RunRecorder -------------------------------------------------------------------

    def flow_run_created(self, run: FlowRunInfo) -> None:
        self._add(encode("flow_run_created", run))

    def task_run_created(self, run: TaskRunInfo) -> None:
        self._add(encode("task_run_created", run))

    def set_state(self, kind: RunKind, run_id: str, state: State, run_count: int) -> None:
        self._add(encode("set_state", kind, run_id, state, run_count))

    def log(self, record: LogInfo) -> None:
        self._add(encode("log", record))

    def result_stored(self, info: ResultInfo) -> None:
        self._add(encode("result_stored", info))

    def artifact_saved(self, info: ArtifactInfo) -> None:
        self._add(encode("artifact_saved", info))

    def flush(self) -> None:
        """Send everything recorded so far; kept for later if the server does not answer."""
        from ..client.http import ClientError

        with self._send_lock:
            while True:
                with self._lock:
                    n = _batch_end(self._items, self.batch)
                    items, self._items = self._items[:n], self._items[n:]
                if not items:
                    return
                try:
                    self._post(items)
                except ClientError as exc:
                    with self._lock:
                        self._items[:0] = items
                    if not self._warned:
                        self._warned = True
                        logger.warning("runs are not recorded on the server yet: %s", exc)
                    return
                self._warned = False

    def _post(self, items: list[dict[str, Any]]) -> None:
        """Post a batch; one the server refuses as such (400, 403, 413) is split until the
        refused records are found, and those are dropped with an error: they would be
        refused forever, and must not hold back the others."""
        from ..client.http import ClientError

        try:
            verdict = self.client.post_records(items)
        except ClientError as exc:
            if exc.status not in _REFUSED:
                raise
            if len(items) == 1:
                logger.error("the server refused a %s record: %s", items[0].get("op"), exc)
                return
            half = len(items) // 2
            self._post(items[:half])
            self._post(items[half:])
            return
        for run_id, refused in verdict.rejected.items():
            self._rejected[run_id] = (refused.type, refused.name)
        for dropped in verdict.dropped:
            logger.error("the server's database refused a %s record of run %s: %s",
                         dropped.what, dropped.run_id, dropped.reason)  # fmt: skip

    def rejected(self, run_id: str) -> tuple[str, str | None] | None:
        """``(state type, name)`` the run is in, if the server refused a state of it."""
        return self._rejected.get(run_id)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        self._thread.join(timeout=5)
        self.flush()

    # -- internals -----------------------------------------------------------------------

    def _add(self, item: dict[str, Any]) -> None:
        with self._lock:
            if len(self._items) >= self.max_kept and item["op"] == "log":
                # the server has been away long: keep runs and states, drop new log lines
                self.dropped_logs += 1
                if self.dropped_logs == 1:
                    logger.warning("server away: dropping log lines beyond %d kept records",
                                   self.max_kept)  # fmt: skip
                return
            self._items.append(item)
            full = len(self._items) >= self.batch
        if full:
            self._wake.set()

    def _loop(self) -> None:
        while not self._closed:
            self._wake.wait(self.interval)
            self._wake.clear()
            if not self._closed:
                self.flush()
