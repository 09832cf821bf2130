"""The artifact routes of ``FlowsClient`` (a mixin: the one client, kept in small modules)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from ..store.artifacts import DescribeArtifact

__all__ = ["ArtifactCalls"]

M = TypeVar("M", bound=BaseModel)


class ArtifactCalls:
    """``GET/POST artifacts``, ``GET/DELETE artifacts/{id}``, ``GET artifacts/{key}/latest``."""

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: Mapping[str, Any] | None = None,
    ) -> Any:
        raise NotImplementedError  # FlowsClient's

    def read_artifact(self, artifact_id: str) -> DescribeArtifact:
        """Artifact ``artifact_id`` (``ClientError`` with status 404 if there is none)."""
        path = "artifacts/" + urllib.parse.quote(str(artifact_id), safe="")
        return DescribeArtifact.model_validate(self.request("GET", path))

    def read_latest_artifact(self, key: str) -> DescribeArtifact:
        """The newest version of ``key`` (``ClientError`` with status 404 if none)."""
        path = "artifacts/" + urllib.parse.quote(key, safe="") + "/latest"
        return DescribeArtifact.model_validate(self.request("GET", path))

    def read_artifacts(
        self,
        key: str | None = None,
        flow_run_id: str | None = None,
        latest: bool = False,
        limit: int = 100,
        offset: int = 0,
    ) -> list[DescribeArtifact]:
        """A page of artifacts, newest first (``latest``: the newest version of each key)."""
        query = {
            "key": key,
            "flow_run_id": flow_run_id,
            "latest": "true" if latest else None,
            "limit": limit,
            "offset": offset,
        }
        reply = self.request("GET", "artifacts", query=query)
        return [DescribeArtifact.model_validate(item) for item in reply["items"]]

    def create_artifact(self, body: Mapping[str, Any]) -> DescribeArtifact:
        """Make an artifact outside any run (``CreateArtifact``: type, data, key...)."""
        return DescribeArtifact.model_validate(self.request("POST", "artifacts", body))

    def delete_artifact(self, artifact_id: str) -> None:
        """Delete one artifact (``ClientError`` with status 404 if there is none)."""
        self.request("DELETE", "artifacts/" + urllib.parse.quote(str(artifact_id), safe=""))
