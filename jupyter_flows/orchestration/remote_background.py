"""Background task runs (``Task.delay``) through the server, for run processes without a
database: queue one (``POST background_task_runs``), follow it and read its result
(``GET background_task_runs/{id}``, ``.../result``).

A run's token queues runs that belong to its run (``origin_flow_run_id``) and follows only
those. Pickled parameters travel as an uploaded result (``parameters_key``, see
``uploaded_results``): the queue then names the server's copy, which a task worker on the
server's machine reads. A result is read where its task worker recorded it, else from the
results uploaded for the origin run's deployment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.engine import Engine

from ..core.records import TaskInput, TaskRunInfo, new_id
from ..core.states import now
from ..exceptions import Conflict, NotFound
from ..store import background as queue
from ..store.background import QUEUE
from ..store.background_pages import read_background_task_run
from ..store.limits import DbDateTime, JsonObject, Name, ShortText, Tags, Text
from ..store.models import ResultRecord
from ..store.schemas import DescribeBackgroundTaskRun
from .uploaded_results import UploadedResults, check_key

__all__ = ["CreateBackgroundTaskRun", "RemoteBackground"]

RESULT = ResultRecord.__table__  # type: ignore[attr-defined]


_RunId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]


class CreateBackgroundTaskRun(BaseModel):
    """A background task run to queue (what ``Task.delay`` sends)."""

    model_config = ConfigDict(extra="forbid")

    id: _RunId = Field(default_factory=new_id)
    task_key: Name
    task_name: Name
    name: Name
    queue_key: Name = Field(description="what task workers match (name and code hash)")
    tags: Tags = Field(default_factory=list)
    description: Text | None = None
    version: ShortText | None = None
    parameters: JsonObject | None = Field(
        default=None, description="the arguments, when they are plain JSON"
    )
    parameters_key: ShortText | None = Field(
        default=None, description="else: the key of the uploaded, pickled arguments"
    )
    wait_for: list[_RunId] = Field(default_factory=list, max_length=1000)
    created: DbDateTime | None = None


class RemoteBackground:
    """The server's side of ``Task.delay`` for remote run processes."""

    def __init__(self, engine: Engine, results: UploadedResults):
        self.engine, self.results = engine, results

    def enqueue(self, body: CreateBackgroundTaskRun, origin: str | None) -> Any:
        """Queue ``body`` for the run ``origin``; ``Conflict`` if its id is taken."""
        if self._taken(body.id):
            raise Conflict(f"id: a task run {body.id} exists already")
        location = None
        if body.parameters_key is not None:
            if origin is None:
                raise ValueError("parameters_key: needs the run that uploaded it")
            check_key(body.parameters_key)
            location = self._uploaded_path(origin, body.parameters_key)
            if location is None:
                raise ValueError(f"parameters_key: no uploaded result {body.parameters_key!r}")
        elif body.parameters is None:
            body = body.model_copy(update={"parameters": {}})
        info = TaskRunInfo(
            body.id,
            None,
            body.task_key,
            body.task_name,
            body.name,
            sorted(body.tags),
            body.created or now(),
            [TaskInput(u, "wait_for") for u in body.wait_for],
            description=body.description,
            version=body.version,
        )
        queue.enqueue(
            self.engine,
            info,
            body.queue_key,
            parameters=body.parameters if location is None else None,
            parameters_location=location,
            wait_for=list(body.wait_for),
            origin_flow_run_id=origin,
        )
        return self.read(body.id)

    def _taken(self, task_run_id: str) -> bool:
        from ..store.background import TASK_RUN

        with self.engine.connect() as conn:
            found = conn.execute(select(TASK_RUN.c.id).where(TASK_RUN.c.id == task_run_id))
            return found.first() is not None

    def _uploaded_path(self, flow_run_id: str, key: str) -> str | None:
        store = self.results._store(self.results.namespace(flow_run_id))
        return str(store.path(key)) if store.read_bytes(key) is not None else None

    def read(self, task_run_id: str) -> DescribeBackgroundTaskRun:
        """A background task run (NotFound)."""
        found = read_background_task_run(self.engine, task_run_id)
        if found is None:
            raise NotFound(f"no background task run {task_run_id!r}")
        return found

    def origin_of(self, task_run_id: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(QUEUE.c.origin_flow_run_id).where(QUEUE.c.task_run_id == task_run_id)
            ).first()
        if row is None:
            raise NotFound(f"no background task run {task_run_id!r}")
        return row[0]  # type: ignore[no-any-return]

    def result(self, task_run_id: str) -> bytes:
        """The result file of the task run (its value, or the exception it raised)."""
        origin = self.origin_of(task_run_id)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(RESULT.c.key, RESULT.c.location)
                .where(RESULT.c.task_run_id == task_run_id)
                .order_by(RESULT.c.created.desc())
                .limit(1)
            ).first()
        if row is None:
            raise NotFound(f"background task run {task_run_id} has no persisted result yet")
        try:
            return Path(row.location).read_bytes()
        except OSError:
            pass
        if origin is not None:
            try:
                return self.results.read(origin, row.key)
            except NotFound:
                pass
        raise NotFound(f"the result of background task run {task_run_id} is not on the server")
