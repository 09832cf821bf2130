"""How a worker talks to the orchestrator: ``FlowsClient`` over HTTP, or ``LocalClient``.

``LocalClient`` answers the worker's calls straight from an ``OrchestrationService`` (the
server's embedded worker), with the same models and the same errors as ``FlowsClient``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol

from ..client.http import Body, ClientError, StateConflict
from ..orchestration.schemas import (
    AppendLogs,
    ClaimedRun,
    DescribeRunState,
    DescribeWorker,
    UpdateRunState,
)

__all__ = ["WorkerClient", "LocalClient"]


class WorkerClient(Protocol):
    """What a worker and its guards call (``FlowsClient`` and ``LocalClient`` both do)."""

    def heartbeat(self, pool: str, worker: str) -> DescribeWorker: ...
    def claim(
        self, pool: str, worker: str, limit: int, outputs_dir: str | None = None
    ) -> list[ClaimedRun]: ...
    def read_run_state(self, run_id: str) -> DescribeRunState: ...
    def set_state(self, run_id: str, body: Body) -> DescribeRunState: ...
    def append_logs(self, run_id: str, lines: list[dict[str, Any]]) -> None: ...
    def fetch_source(self, digest: str) -> bytes: ...


def _domain_errors(method: Callable[..., Any]) -> Callable[..., Any]:
    """``FlowsError`` (NotFound, Conflict, ...) as ``ClientError``, like HTTP errors."""

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        from ..exceptions import Conflict, FlowsError

        try:
            return method(*args, **kwargs)
        except Conflict as exc:
            raise StateConflict(f"{method.__name__}: {exc}") from exc
        except FlowsError as exc:
            raise ClientError(f"{method.__name__}: {exc}") from exc

    return call


class LocalClient:
    """The worker's calls straight on an ``OrchestrationService`` (the embedded worker)."""

    def __init__(self, service: Any):
        self.service = service

    @_domain_errors
    def heartbeat(self, pool: str, worker: str) -> DescribeWorker:
        return self.service.heartbeat(pool, worker)  # type: ignore[no-any-return]

    @_domain_errors
    def claim(
        self, pool: str, worker: str, limit: int, outputs_dir: str | None = None
    ) -> list[ClaimedRun]:
        return list(self.service.claim_runs(pool, worker, limit, outputs_dir))

    @_domain_errors
    def read_run_state(self, run_id: str) -> DescribeRunState:
        return self.service.read_run_state(run_id)  # type: ignore[no-any-return]

    @_domain_errors
    def set_state(self, run_id: str, body: Body) -> DescribeRunState:
        update = body if isinstance(body, UpdateRunState) else UpdateRunState.model_validate(body)
        return self.service.set_run_state(run_id, update)  # type: ignore[no-any-return]

    @_domain_errors
    def append_logs(self, run_id: str, lines: list[dict[str, Any]]) -> None:
        self.service.append_logs(run_id, AppendLogs.model_validate({"items": lines}))

    @_domain_errors
    def fetch_source(self, digest: str) -> bytes:
        if self.service.sources is None:
            raise ClientError(f"fetch_source: this server keeps no source bundles ({digest})")
        return bytes(self.service.sources.read(digest))
