"""Persisted results of recorded runs, for another process: ``run.state.result()``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from jupyter_flows.core.results import ResultRef

from .models import ResultRecord

__all__ = ["result_ref"]

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
