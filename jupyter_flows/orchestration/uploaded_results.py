"""Results that run processes without a database upload to the server (``PUT results``).

A remote worker's run process persists its results on its own disk, and also sends each
result file here (``core.results.ResultMirror``): a retry or a resumed run that lands on
another worker (or on a fresh directory) reads them back. The server keeps them in its own
``ResultStore`` under ``FlowsApp.result_storage_dir``, one namespace per deployment (or per
flow, for a run no deployment made): a run reads only what runs of the same deployment
wrote. Content is checked (a result file: header line, payload), bounded
(``FlowsApp.max_result_size``) and written atomically.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from ..core.results import ResultStore, check_result_file
from ..exceptions import NotFound
from ..store.repository import RunStore
from ..store.results import completed_task_results

__all__ = [
    "UploadedResults",
    "DescribeUploadedResult",
    "DescribeTaskResult",
    "ListTaskResultsResponse",
    "check_key",
]

logger = logging.getLogger(__name__)
MAX_KEY_LENGTH = 512


class DescribeUploadedResult(BaseModel):
    """A result file the server keeps for a deployment's runs."""

    key: str
    size: int = Field(description="bytes stored")


class DescribeTaskResult(BaseModel):
    """A Completed task run of a flow run with a persisted result (what a retry reuses)."""

    task_run_id: str
    task_key: str
    dynamic_key: int
    key: str = Field(description="its result's key (GET results/{key})")


class ListTaskResultsResponse(BaseModel):
    items: list[DescribeTaskResult]


def check_key(key: str) -> None:
    """A ``ValueError`` naming the fault if ``key`` cannot name a stored result."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"key: must be 1 to {MAX_KEY_LENGTH} characters")
    parts = key.split("/")
    if key.startswith("/") or "\\" in key or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"key: {key!r} is not a relative path of plain names")
    if any(ord(c) < 32 for c in key):
        raise ValueError("key: contains a control character")


@dataclass
class UploadedResults:
    """The server's store of uploaded results, by namespace (deployment or flow)."""

    root: Path
    runs: RunStore
    max_size: int

    def namespace(self, flow_run_id: str) -> str:
        """``deployments/<id>`` (or ``flows/<name>``) of flow run ``flow_run_id`` (NotFound)."""
        run = self.runs.read_flow_run_item(flow_run_id)
        if run.deployment_id:
            return f"deployments/{run.deployment_id}"
        return f"flows/{run.flow_name}"

    def _store(self, namespace: str) -> ResultStore:
        return ResultStore(self.root / namespace)

    def write(self, flow_run_id: str, key: str, content: bytes) -> DescribeUploadedResult:
        """Keep ``content`` under ``key`` for the runs of ``flow_run_id``'s deployment."""
        check_key(key)
        problem = check_result_file(content)
        if problem is not None:
            raise ValueError(f"body: not a result file ({problem})")
        store = self._store(self.namespace(flow_run_id))
        store.write_bytes(key, content)
        logger.debug("stored result %s (%d bytes) of run %s", key, len(content), flow_run_id)
        return DescribeUploadedResult(key=key, size=len(content))

    def read(self, flow_run_id: str, key: str) -> bytes:
        """The content a run of ``flow_run_id``'s deployment stored under ``key`` (NotFound)."""
        check_key(key)
        content = self._store(self.namespace(flow_run_id)).read_bytes(key)
        if content is None:
            raise NotFound(f"no result {key!r} stored for the runs of this deployment")
        return content

    def task_results(self, flow_run_id: str) -> ListTaskResultsResponse:
        """The Completed task runs of ``flow_run_id`` with a persisted result."""
        self.runs.read_flow_run_item(flow_run_id)  # NotFound for an unknown run
        found = completed_task_results(flow_run_id, engine=self.runs.engine)
        return ListTaskResultsResponse(
            items=[
                DescribeTaskResult(task_run_id=run_id, task_key=k, dynamic_key=d, key=ref.key)
                for (k, d), (run_id, ref) in sorted(found.items())
            ]
        )
