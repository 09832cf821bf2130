"""Artifacts (list, read, the newest of a key, create, delete): what runs show people.

Reading is ``read``, making and deleting ``write``. Runs record their artifacts with their
other records (``POST records``); ``POST artifacts`` is for one made outside any run. A
run's token may read an artifact by id and the newest of a key (``Artifact.get`` and
``update_progress_artifact`` in a run process), nothing else here.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import authorized
from pydantic import BaseModel, ConfigDict, Field
from tornado import web

from ..core.artifacts import check_key, new_artifact
from ..store.artifacts import (
    DescribeArtifact,
    ListArtifactsQuery,
    ListArtifactsResponse,
    delete_artifact,
    insert_artifact,
    list_artifacts,
    read_artifact,
    read_latest_artifact,
)
from ..store.limits import MAX_JSON_DEPTH, MAX_NAME_LENGTH, Name, check_values, too_deep
from .handlers import FlowsAPIHandler
from .openapi import doc

__all__ = ["ROUTES", "CreateArtifact"]


class CreateArtifact(BaseModel):
    """The body of ``POST artifacts``: an artifact of no run (Prefect's ``ArtifactCreate``)."""

    model_config = ConfigDict(extra="forbid")

    type: Name = Field(description="markdown, table (data: the table as JSON text), image "
                       "(data: a URL), progress (data: 0 to 100)")  # fmt: skip
    key: str | None = Field(default=None, description="lowercase letters, digits, dashes")
    description: str | None = Field(default=None, description="markdown")
    data: Any = None


def _created(engine: Any, body: CreateArtifact) -> DescribeArtifact:
    try:
        check_key(body.key)
    except ValueError as exc:
        raise ValueError(f"key: {exc}") from None
    if body.key is not None and len(body.key) > MAX_NAME_LENGTH:
        raise ValueError(f"key: at most {MAX_NAME_LENGTH} characters")
    deep = too_deep(body.data)
    if deep is not None:
        raise ValueError(f"data: nested deeper than {MAX_JSON_DEPTH} levels (at {deep})")
    check_values(body)  # what the databases cannot store (NUL, NaN...), naming the field
    try:
        info = new_artifact(body.type, body.data, body.key, body.description)
    except TypeError as exc:
        raise ValueError(f"data: {exc}") from None
    return insert_artifact(engine, info)


class ArtifactsHandler(FlowsAPIHandler):
    @doc("Artifacts, newest first (of a key, a run, a type; latest: one per key)",
         ListArtifactsResponse, query=ListArtifactsQuery)  # fmt: skip
    @web.authenticated
    @authorized
    async def get(self) -> None:
        query = self.query(ListArtifactsQuery)
        self.reply(await self.blocking(list_artifacts, self.services.engine, query))

    @doc("Make an artifact outside any run", DescribeArtifact, body=CreateArtifact, status=201)
    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.body(CreateArtifact)
        self.reply(await self.blocking(_created, self.services.engine, body), status=201)


class ArtifactHandler(FlowsAPIHandler):
    @doc("An artifact, by id", DescribeArtifact)
    @web.authenticated
    @authorized
    async def get(self, artifact_id: str) -> None:
        self.reply(await self.blocking(read_artifact, self.services.engine, artifact_id))

    @doc("Delete an artifact (one version of its key; 404 if there is none)", status=204)
    @web.authenticated
    @authorized
    async def delete(self, artifact_id: str) -> None:
        await self.blocking(delete_artifact, self.services.engine, artifact_id)
        self.no_content()


class LatestArtifactHandler(FlowsAPIHandler):
    @doc("The newest version of an artifact key (404 if the key has none)", DescribeArtifact)
    @web.authenticated
    @authorized
    async def get(self, key: str) -> None:
        self.reply(await self.blocking(read_latest_artifact, self.services.engine, key))


ROUTES: list[tuple[str, type[FlowsAPIHandler]]] = [
    ("artifacts", ArtifactsHandler),
    ("artifacts/{key}/latest", LatestArtifactHandler),
    ("artifacts/{artifact_id}", ArtifactHandler),
]
