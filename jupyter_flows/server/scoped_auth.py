"""Worker and run tokens at the Jupyter edge: who they are, and the few routes they open.

A request whose ``Authorization: token jf1...`` is a token the database's servers signed
(``orchestration.tokens``) is that worker's or that run's: ``ScopedIdentity`` answers it
(every other request goes to the server's own identity provider), and ``ScopedAuthorizer``
lets it reach only the routes of the worker protocol its kind needs (the server's own
authorizer decides for everyone else). What a route does with it (this pool, this worker,
this run) the route checks with ``grant_of``.
"""

from __future__ import annotations

import inspect
from typing import Any

from jupyter_server.auth.identity import User
from tornado import web

from ..orchestration.tokens import PREFIX, Grant, Tokens

__all__ = [
    "ScopedIdentity",
    "ScopedAuthorizer",
    "grant_of",
    "check_worker",
    "check_run",
    "SCOPED_ROUTES",
]

_GRANT = "_jupyter_flows_grant"

#: (handler class, verb) -> the kinds of scoped token that may call it
SCOPED_ROUTES: dict[tuple[str, str], frozenset[str]] = {
    ("HealthHandler", "get"): frozenset({"worker", "run"}),
    ("HeartbeatHandler", "post"): frozenset({"worker"}),
    ("ClaimHandler", "post"): frozenset({"worker"}),
    ("RunStateHandler", "get"): frozenset({"worker", "run"}),
    ("RunStateHandler", "post"): frozenset({"worker"}),
    ("RunLogsAppendHandler", "post"): frozenset({"worker"}),
    ("RecordsHandler", "post"): frozenset({"worker", "run"}),
    # ``Variable.get`` in a run process; writing variables stays with users (a run's code
    # must not change the configuration other runs read)
    ("VariableHandler", "get"): frozenset({"run"}),
    # ``Artifact.get`` and ``update_progress_artifact`` in a run process (runs record their
    # artifacts through ``RecordsHandler``, which keeps each run to its own)
    ("ArtifactHandler", "get"): frozenset({"run"}),
    ("LatestArtifactHandler", "get"): frozenset({"run"}),
    # ``concurrency()`` and task tag limits in a run process: take, renew, give back slots
    # (never create, change or list limits)
    ("ConcurrencyLeasesHandler", "post"): frozenset({"run"}),
    ("ConcurrencyLeaseHandler", "delete"): frozenset({"run"}),
    ("ConcurrencyLeaseRenewHandler", "post"): frozenset({"run"}),
    # ``Block.load`` / ``Secret.load`` in a run process: one document by name, decrypted
    # (its run needs the secret); never a list, never a write
    ("BlockDocumentHandler", "get"): frozenset({"run"}),
    # ``pause_flow_run`` in a run process: says what it waits for, reads what resumed it
    # (its own run only: ``check_run``)
    ("FlowRunInputHandler", "get"): frozenset({"run"}),
    ("FlowRunInputHandler", "put"): frozenset({"run"}),
    # a deployment's source bundle, fetched by the worker that runs it (or, on a Dask
    # cluster, by its run process); uploading one stays with users
    ("SourceHandler", "get"): frozenset({"worker", "run"}),
    # a remote notebook run's executed notebook (its own run only: ``check_run``)
    ("FlowRunOutputHandler", "put"): frozenset({"run"}),
    # persisted results of a run process without a database: upload, read back, and list
    # what a retry or a resumed run reuses (its own deployment's runs only)
    ("ResultHandler", "put"): frozenset({"run"}),
    ("ResultHandler", "get"): frozenset({"run"}),
    ("FlowRunResultsHandler", "get"): frozenset({"run"}),
    # ``Task.delay`` in a run process without a database: queue a background run for its
    # run, follow it and read its result (those its run queued only)
    ("BackgroundTaskRunsHandler", "post"): frozenset({"run"}),
    ("BackgroundTaskRunHandler", "get"): frozenset({"run"}),
    ("BackgroundTaskRunResultHandler", "get"): frozenset({"run"}),
}


def _token(handler: Any) -> str | None:
    header = handler.request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("token", "bearer") and value.strip().startswith(PREFIX):
        return value.strip()
    return None


def grant_of(handler: Any) -> Grant | None:
    """The scoped token's grant of this request, or ``None`` (a Jupyter user)."""
    return getattr(handler, _GRANT, None)


class ScopedIdentity:
    """The server's identity provider, plus our scoped tokens (for our routes only)."""

    def __init__(self, inner: Any, tokens: Tokens):
        self._inner = inner
        self._tokens = tokens

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def get_user(self, handler: Any) -> Any:
        token = _token(handler)
        if token is None:
            return self._inner.get_user(handler)
        grant = self._tokens.verify(token)
        if grant is None:
            return None  # a forged, altered or other database's token: 403
        setattr(handler, _GRANT, grant)
        return User(username=grant.subject, name=grant.subject)

    def is_token_authenticated(self, handler: Any) -> bool:
        return grant_of(handler) is not None or bool(self._inner.is_token_authenticated(handler))


class ScopedAuthorizer:
    """The server's authorizer for its users; ``SCOPED_ROUTES`` for scoped tokens."""

    def __init__(self, inner: Any):
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> Any:
        grant = grant_of(handler)
        if grant is None:  # (the server's authorizer may answer with an awaitable)
            answer = self._inner.is_authorized(handler, user, action, resource)
            if inspect.isawaitable(answer):
                return _then_arguments(handler, answer)
            return _arguments_checked(handler, bool(answer))
        verb = handler.request.method.lower()
        allowed = grant.kind in SCOPED_ROUTES.get((type(handler).__name__, verb), frozenset())
        return _arguments_checked(handler, allowed)


def _arguments_checked(handler: Any, allowed: bool) -> bool:
    """Allowed: now the request's bad arguments, if any, are answered (400)."""
    error = getattr(handler, "argument_error", None)
    if allowed and error is not None:
        raise error
    return allowed


async def _then_arguments(handler: Any, answer: Any) -> bool:
    return _arguments_checked(handler, bool(await answer))


def _refuse(message: str) -> web.HTTPError:
    return web.HTTPError(403, message, reason=message)


def check_worker(handler: Any, pool: str, worker: str) -> None:
    """A worker's token speaks for its own pool and name only."""
    grant = grant_of(handler)
    if grant is None:
        return
    if grant.kind != "worker" or (pool, worker) != (grant.pool, grant.worker):
        raise _refuse(f"this token is {grant.subject}'s, not worker {pool}/{worker}'s")


def check_run(handler: Any, run_id: str, run_worker: str | None) -> None:
    """A run's token reaches its run only; a worker's token, the runs it claimed."""
    grant = grant_of(handler)
    if grant is None:
        return
    if grant.kind == "run" and run_id != grant.run_id:
        raise _refuse(f"this token is {grant.subject}'s, not flow run {run_id}'s")
    if grant.kind == "worker" and run_worker != grant.worker:
        raise _refuse(f"flow run {run_id} is not {grant.subject}'s")
