"""Prefect's ``prefect.artifacts``: markdown, tables, links, images and progress that runs
show people, in the run view of the panel, in the Artifacts list and in run reports.

An artifact made in a flow or task run belongs to it; one with a ``key`` is a version of
that key (``Artifact.get(key)`` is the newest). They are recorded with the run's states and
logs: into the run database, or through the server for a run of a remote worker.

Example::

    from jupyter_flows import flow, task
    from jupyter_flows.artifacts import create_table_artifact, create_progress_artifact
    from jupyter_flows.artifacts import update_progress_artifact

    @flow
    def report() -> None:
        bar = create_progress_artifact(0.0, key="load")
        rows = [{"region": "eu", "sales": 12}, {"region": "us", "sales": 30}]
        update_progress_artifact(bar, 100.0)
        create_table_artifact(rows, key="sales-by-region", description="## Sales")
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from .core.artifacts import (
    check_key,
    current_recorder,
    known_artifact,
    link_markdown,
    progress_value,
    save_artifact,
    table_data,
    update_artifact,
)
from .core.records import ArtifactInfo

if TYPE_CHECKING:
    from .store.artifacts import DescribeArtifact

__all__ = [
    "Artifact",
    "MarkdownArtifact",
    "TableArtifact",
    "LinkArtifact",
    "ImageArtifact",
    "ProgressArtifact",
    "create_markdown_artifact",
    "create_table_artifact",
    "create_link_artifact",
    "create_image_artifact",
    "create_progress_artifact",
    "update_progress_artifact",
    "acreate_markdown_artifact",
    "acreate_table_artifact",
    "acreate_link_artifact",
    "acreate_image_artifact",
    "acreate_progress_artifact",
    "aupdate_progress_artifact",
]


def _read(how: str, what: str) -> DescribeArtifact | None:
    """An artifact by id (``how="id"``) or the newest of a key, or None: from the database
    (after writing what this process recorded), or through the server in a remote run."""
    from .client.http import ClientError
    from .core.run_environment import RunEnvironment
    from .exceptions import NotFound

    env = RunEnvironment.current()
    try:
        if env.records_over_http():
            from .client.http import FlowsClient

            client = FlowsClient(str(env.record_url), env.record_token or "", timeout=10)
            current_recorder().flush()
            if how == "id":
                return client.read_artifact(what)
            return client.read_latest_artifact(what)
        from .store.api import run_store
        from .store.artifacts import read_artifact, read_latest_artifact

        current_recorder().flush()
        engine = run_store().engine
        return read_artifact(engine, what) if how == "id" else read_latest_artifact(engine, what)
    except NotFound:
        return None
    except ClientError as exc:
        if exc.status == 404:
            return None
        raise


class Artifact(BaseModel):
    """An artifact to make (Prefect's ``Artifact``): ``type``, ``key``, ``description`` and
    ``data`` (formatted by ``format()``); ``create()`` records it in the caller's run."""

    model_config = ConfigDict(extra="forbid")

    type: str | None = None
    key: str | None = None
    description: str | None = None
    data: Any = None
    flow_run_id: str | None = None
    task_run_id: str | None = None

    def format(self) -> Any:
        import json

        return json.dumps(self.data)

    def create(self) -> DescribeArtifact:
        """Record the artifact; what was recorded (``.id`` is its id)."""
        from .store.artifacts import DescribeArtifact

        info = save_artifact(
            self.type or "markdown",
            self.format(),
            self.key,
            self.description,
            flow_run_id=self.flow_run_id,
            task_run_id=self.task_run_id,
        )
        return DescribeArtifact(**_fields(info))

    async def acreate(self) -> DescribeArtifact:
        return self.create()

    @classmethod
    def get(cls, key: str | None = None) -> DescribeArtifact | None:
        """The newest artifact with ``key`` (last updated), or None."""
        if key is None:
            return None
        check_key(key)
        return _read("key", key)

    @classmethod
    async def aget(cls, key: str | None = None) -> DescribeArtifact | None:
        return await asyncio.to_thread(cls.get, key)

    @classmethod
    def get_or_create(
        cls,
        key: str | None = None,
        description: str | None = None,
        data: Any = None,
        **kwargs: Any,
    ) -> tuple[DescribeArtifact, bool]:
        """The newest artifact with ``key``, or a new one; and whether it was made."""
        found = cls.get(key)
        if found is not None:
            return found, False
        return cls(key=key, description=description, data=data, **kwargs).create(), True


def _fields(info: ArtifactInfo) -> dict[str, Any]:
    return {name: getattr(info, name) for name in ArtifactInfo.__slots__}  # type: ignore[attr-defined]


class MarkdownArtifact(Artifact):
    type: str | None = "markdown"
    markdown: str

    def format(self) -> str:
        return self.markdown


class LinkArtifact(Artifact):
    type: str | None = "markdown"
    link: str
    link_text: str | None = None

    def format(self) -> str:
        return link_markdown(self.link, self.link_text)


class TableArtifact(Artifact):
    """A table: a dict of columns, a list of row dicts or of row lists (or a DataFrame)."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    type: str | None = "table"
    table: Any

    def format(self) -> str:
        return table_data(self.table)


class ImageArtifact(Artifact):
    """An image shown from a URL the browser can reach."""

    type: str | None = "image"
    image_url: str

    def format(self) -> str:
        return self.image_url


class ProgressArtifact(Artifact):
    """A progress bar: a percentage, 0 to 100."""

    type: str | None = "progress"
    progress: float

    def format(self) -> float:
        return progress_value(self.progress)


def _id(artifact: ArtifactInfo | DescribeArtifact) -> UUID:
    return UUID(artifact.id)


def create_markdown_artifact(
    markdown: str, key: str | None = None, description: str | None = None
) -> UUID:
    """Make a markdown artifact; its id."""
    return _id(MarkdownArtifact(markdown=markdown, key=key, description=description).create())


def create_table_artifact(
    table: Any, key: str | None = None, description: str | None = None
) -> UUID:
    """Make a table artifact from a dict of columns, a list of row dicts or row lists (NaN
    becomes null, as Prefect) or a pandas DataFrame; its id."""
    return _id(TableArtifact(table=table, key=key, description=description).create())


def create_link_artifact(
    link: str,
    link_text: str | None = None,
    key: str | None = None,
    description: str | None = None,
) -> UUID:
    """Make a link artifact (stored as a markdown link, as Prefect); its id."""
    made = LinkArtifact(link=link, link_text=link_text, key=key, description=description)
    return _id(made.create())


def create_image_artifact(
    image_url: str, key: str | None = None, description: str | None = None
) -> UUID:
    """Make an image artifact shown from ``image_url``; its id."""
    return _id(ImageArtifact(image_url=image_url, key=key, description=description).create())


def create_progress_artifact(
    progress: float, key: str | None = None, description: str | None = None
) -> UUID:
    """Make a progress artifact (a percentage: 0 to 100, clamped with a warning); its id."""
    made = ProgressArtifact(progress=progress, key=key, description=description)
    return _id(made.create())


def update_progress_artifact(
    artifact_id: UUID | str, progress: float, description: str | None = None
) -> UUID:
    """Set a progress artifact's percentage (and description, if given); its id.

    Raises ``jupyter_flows.exceptions.ObjectNotFound`` if there is no such artifact.
    """
    from .exceptions import ObjectNotFound

    key = artifact_id.hex if isinstance(artifact_id, UUID) else str(artifact_id)
    key = key.replace("-", "").lower()
    value = progress_value(progress)
    info = known_artifact(key)
    if info is None:
        found = _read("id", key)
        if found is None:
            raise ObjectNotFound(f"no artifact {artifact_id}")
        info = ArtifactInfo(
            **{name: getattr(found, name) for name in ArtifactInfo.__slots__}  # type: ignore[attr-defined]
        )
    return UUID(update_artifact(info, value, description).id)


async def acreate_markdown_artifact(
    markdown: str, key: str | None = None, description: str | None = None
) -> UUID:
    return create_markdown_artifact(markdown, key, description)


async def acreate_table_artifact(
    table: Any, key: str | None = None, description: str | None = None
) -> UUID:
    return create_table_artifact(table, key, description)


async def acreate_link_artifact(
    link: str,
    link_text: str | None = None,
    key: str | None = None,
    description: str | None = None,
) -> UUID:
    return create_link_artifact(link, link_text, key, description)


async def acreate_image_artifact(
    image_url: str, key: str | None = None, description: str | None = None
) -> UUID:
    return create_image_artifact(image_url, key, description)


async def acreate_progress_artifact(
    progress: float, key: str | None = None, description: str | None = None
) -> UUID:
    return create_progress_artifact(progress, key, description)


async def aupdate_progress_artifact(
    artifact_id: UUID | str, progress: float, description: str | None = None
) -> UUID:
    return await asyncio.to_thread(update_progress_artifact, artifact_id, progress, description)
