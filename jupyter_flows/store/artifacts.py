"""Reading artifacts (what ``jupyter_flows.artifacts`` made): by id, by key (the latest and
its history), by run, and the latest of every key (Prefect's artifact collections).

Artifacts are written by the recorder (``artifact_saved``), in the batches of their runs;
an artifact made outside any run over REST is written here (``insert_artifact``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Engine

from jupyter_flows.core.artifacts import check_key
from jupyter_flows.core.records import ArtifactInfo
from jupyter_flows.exceptions import NotFound

from .db import READ_ONLY
from .limits import DbBigInt, Name
from .models import ArtifactRecord, FlowRunRecord

__all__ = [
    "DescribeArtifact",
    "ListArtifactsQuery",
    "ListArtifactsResponse",
    "read_artifact",
    "read_latest_artifact",
    "list_artifacts",
    "delete_artifact",
    "insert_artifact",
]

ARTIFACT = ArtifactRecord.__table__  # type: ignore[attr-defined]
_FLOW_RUN = FlowRunRecord.__table__  # type: ignore[attr-defined]
_HEX_ID = r"^[0-9a-fA-F-]{32,36}$"


class DescribeArtifact(BaseModel):
    """An artifact (Prefect's ``ArtifactResponse``): ``data`` is markdown text for markdown
    and link artifacts, the table as JSON text for tables, a URL for images, a number for
    progress."""

    model_config = ConfigDict(frozen=True)

    id: str
    key: str | None = None
    type: str
    description: str | None = None
    data: Any = None
    flow_run_id: str | None = None
    task_run_id: str | None = None
    flow_run_name: str | None = Field(default=None, description="the run's name, if any")
    created: datetime
    updated: datetime


class ListArtifactsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Name | None = Field(default=None, description="only the versions of this key")
    flow_run_id: Annotated[str, Field(pattern=_HEX_ID)] | None = Field(
        default=None, description="only the artifacts of this flow run (and its task runs)"
    )
    task_run_id: Annotated[str, Field(pattern=_HEX_ID)] | None = None
    type: Name | None = Field(default=None, description="markdown, table, image, progress...")
    latest: bool = Field(
        default=False, description="only the newest version of each key (keyed artifacts)"
    )
    limit: int = Field(default=100, ge=1, le=1000)
    offset: Annotated[DbBigInt, Field(ge=0)] = 0


class ListArtifactsResponse(BaseModel):
    items: list[DescribeArtifact]
    total: int


def _selected() -> Any:
    return select(ARTIFACT, _FLOW_RUN.c.name.label("flow_run_name")).select_from(
        ARTIFACT.outerjoin(_FLOW_RUN, _FLOW_RUN.c.id == ARTIFACT.c.flow_run_id)
    )


def _describe(row: Any) -> DescribeArtifact:
    return DescribeArtifact.model_validate(dict(row))


def read_artifact(engine: Engine, artifact_id: str) -> DescribeArtifact:
    """Artifact ``artifact_id``; ``NotFound`` if there is none."""
    artifact_id = str(artifact_id).replace("-", "").lower()
    with engine.connect().execution_options(**READ_ONLY) as conn:
        row = conn.execute(_selected().where(ARTIFACT.c.id == artifact_id)).mappings().first()
    if row is None:
        raise NotFound(f"no artifact {artifact_id!r}")
    return _describe(row)


def read_latest_artifact(engine: Engine, key: str) -> DescribeArtifact:
    """The newest version of ``key`` (last updated); ``NotFound`` if the key has none."""
    check_key(key)
    with engine.connect().execution_options(**READ_ONLY) as conn:
        row = (
            conn.execute(
                _selected()
                .where(ARTIFACT.c.key == key)
                .order_by(ARTIFACT.c.updated.desc(), ARTIFACT.c.id.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
    if row is None:
        raise NotFound(f"no artifact with key {key!r}")
    return _describe(row)


def list_artifacts(engine: Engine, query: ListArtifactsQuery) -> ListArtifactsResponse:
    """One page of artifacts, newest first (``latest``: one per key, keyed ones only)."""
    where = []
    if query.key is not None:
        where.append(ARTIFACT.c.key == query.key)
    if query.flow_run_id is not None:
        where.append(ARTIFACT.c.flow_run_id == query.flow_run_id.replace("-", "").lower())
    if query.task_run_id is not None:
        where.append(ARTIFACT.c.task_run_id == query.task_run_id.replace("-", "").lower())
    if query.type is not None:
        where.append(ARTIFACT.c.type == query.type)
    if query.latest:
        newest = (
            select(ARTIFACT.c.key, func.max(ARTIFACT.c.created).label("created"))
            .where(ARTIFACT.c.key.is_not(None), *where)
            .group_by(ARTIFACT.c.key)
            .subquery()
        )
        where = [ARTIFACT.c.key == newest.c.key, ARTIFACT.c.created == newest.c.created]
        base = _selected().join(newest, ARTIFACT.c.key == newest.c.key)
        count = select(func.count()).select_from(newest)
    else:
        base = _selected()
        count = select(func.count()).select_from(ARTIFACT).where(*where)
    with engine.connect().execution_options(**READ_ONLY) as conn:
        total = conn.execute(count).scalar() or 0
        rows = (
            conn.execute(
                base.where(*where)
                .order_by(ARTIFACT.c.created.desc(), ARTIFACT.c.id.desc())
                .limit(query.limit)
                .offset(query.offset)
            )
            .mappings()
            .all()
        )
    return ListArtifactsResponse(items=[_describe(r) for r in rows], total=total)


def delete_artifact(engine: Engine, artifact_id: str) -> None:
    """Delete artifact ``artifact_id`` (one version of its key); ``NotFound`` if none."""
    artifact_id = str(artifact_id).replace("-", "").lower()
    with engine.begin() as conn:
        gone = conn.execute(delete(ARTIFACT).where(ARTIFACT.c.id == artifact_id)).rowcount
    if not gone:
        raise NotFound(f"no artifact {artifact_id!r}")


def insert_artifact(engine: Engine, info: ArtifactInfo) -> DescribeArtifact:
    """Write an artifact made outside any run's recorder (``POST artifacts``)."""
    values = {name: getattr(info, name) for name in ArtifactInfo.__slots__}  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(insert(ARTIFACT).values(**values))
    return read_artifact(engine, info.id)
