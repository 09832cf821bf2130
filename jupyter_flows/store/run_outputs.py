"""Uploaded output notebooks as rows (``run_output``): one per flow run, replaced on upload."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine

from .models import RunOutputRecord

__all__ = ["save_run_output", "read_run_output"]

_OUTPUT = RunOutputRecord.__table__  # type: ignore[attr-defined]


def save_run_output(engine: Engine, flow_run_id: str, name: str, content: bytes) -> None:
    """Keep ``content`` as the output notebook ``name`` of the run (replacing an older one)."""
    row = {
        "flow_run_id": flow_run_id,
        "name": name,
        "content": content,
        "created": datetime.now(timezone.utc),
    }
    with engine.begin() as conn:
        conn.execute(delete(_OUTPUT).where(_OUTPUT.c.flow_run_id == flow_run_id))
        conn.execute(insert(_OUTPUT), [row])


def read_run_output(engine: Engine, flow_run_id: str) -> tuple[str, bytes] | None:
    """``(name, content)`` of the run's uploaded output notebook, if one was uploaded."""
    with engine.connect() as conn:
        found = conn.execute(
            select(_OUTPUT.c.name, _OUTPUT.c.content).where(_OUTPUT.c.flow_run_id == flow_run_id)
        ).first()
    return None if found is None else (str(found[0]), bytes(found[1]))
