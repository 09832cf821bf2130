"""Persisted results of recorded runs, for another process: ``run.state.result()``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from jupyter_flows.core.results import ResultRef

from .models import ResultRecord

__all__ = ["result_ref", "StoredResult", "completed_task_results"]

RESULT = ResultRecord.__table__  # type: ignore[attr-defined]


def result_ref(run_id: str, url: str | None = None) -> ResultRef | None:
    """Where the persisted result of the task or flow run ``run_id`` is (None if none)."""
    from .api import run_store

    with run_store(url).engine.connect() as conn:
        row = conn.execute(
            select(RESULT.c.key, RESULT.c.location)
            .where(
                or_(
                    RESULT.c.task_run_id == run_id,
                    (RESULT.c.task_run_id.is_(None)) & (RESULT.c.flow_run_id == run_id),
                )
            )
            .order_by(RESULT.c.created.desc())
            .limit(1)
        ).first()
    return None if row is None else ResultRef(row.key, location=row.location)


class StoredResult:
    """The data of a state read from the database: loads the run's result when asked."""

    def __init__(self, run_id: str, url: str | None = None):
        self.run_id, self.url = run_id, url

    def load_result(self) -> Any:
        ref = result_ref(self.run_id, self.url)
        if ref is None:
            from jupyter_flows.exceptions import MissingResult

            raise MissingResult(
                f"run {self.run_id} has no persisted result (use persist_result=True)"
            )
        return ref.load_result()


def completed_task_results(
    flow_run_id: str, url: str | None = None, engine: Any = None
) -> dict[tuple[str, int], tuple[str, ResultRef]]:
    """The Completed task runs of a flow run that have a persisted result, by (task key,
    dynamic key): what a retry of it reuses (``core.prior_runs``)."""
    from .api import run_store
    from .models import TaskRunRecord

    task_run = TaskRunRecord.__table__  # type: ignore[attr-defined]
    query = (
        select(
            task_run.c.id,
            task_run.c.task_key,
            task_run.c.dynamic_key,
            RESULT.c.key,
            RESULT.c.location,
        )
        .join(RESULT, RESULT.c.task_run_id == task_run.c.id)
        .where(task_run.c.flow_run_id == flow_run_id, task_run.c.state_type == "COMPLETED")
        .order_by(RESULT.c.created)
    )
    found: dict[tuple[str, int], tuple[str, ResultRef]] = {}
    with (engine if engine is not None else run_store(url).engine).connect() as conn:
        for row in conn.execute(query):
            found[(row.task_key, int(row.dynamic_key))] = (
                row.id,
                ResultRef(row.key, location=row.location),
            )
    return found
