"""Where slots are taken: the run database, or the server for a run process without one.

A process with the database (a kernel, a script, a worker given ``JUPYTER_FLOWS_DB_URL``)
acquires through it; a run process of a remote worker that records over HTTP
(``RunEnvironment.records_over_http``) goes through the server with its run's token, and
the server runs the same atomic acquisition (``orchestration.slots``).
"""

from __future__ import annotations

import os
import threading
from typing import Any, Protocol

from ..orchestration.concurrency_schemas import AcquireSlots, DescribeSlotLease

__all__ = ["SlotBackend", "DatabaseSlots", "ServerSlots", "slot_backend"]


class SlotBackend(Protocol):
    """One acquisition attempt, renewal and release (``orchestration.slots`` semantics)."""

    def acquire(self, body: AcquireSlots) -> DescribeSlotLease:
        """``ValueError`` for a request no wait can satisfy (naming the field)."""
        ...

    def renew(self, lease_id: str, lease_duration: float) -> bool: ...

    def release(self, lease_id: str) -> None: ...


class DatabaseSlots:
    """Slots in the run database at ``url`` (the default one if ``None``)."""

    def __init__(self, url: str | None = None) -> None:
        from ..store.api import run_store

        self.engine: Any = run_store(url).engine

    def acquire(self, body: AcquireSlots) -> DescribeSlotLease:
        from ..orchestration.slots import acquire_slots

        return acquire_slots(self.engine, body)

    def renew(self, lease_id: str, lease_duration: float) -> bool:
        from ..orchestration.slots import renew_lease

        return renew_lease(self.engine, lease_id, lease_duration)

    def release(self, lease_id: str) -> None:
        from ..orchestration.slots import release_lease

        release_lease(self.engine, lease_id)


class ServerSlots:
    """Slots through a jupyter-flows server (``POST concurrency_leases``...)."""

    def __init__(self, url: str, token: str) -> None:
        from ..client.http import FlowsClient

        self.client = FlowsClient(url, token, timeout=30)

    def acquire(self, body: AcquireSlots) -> DescribeSlotLease:
        from ..client.http import ClientError

        try:
            return self.client.acquire_slots(body)
        except ClientError as exc:
            if exc.status == 400:
                raise ValueError(str(exc)) from None
            raise

    def renew(self, lease_id: str, lease_duration: float) -> bool:
        return self.client.renew_lease(lease_id, lease_duration)

    def release(self, lease_id: str) -> None:
        self.client.release_lease(lease_id)


_lock = threading.Lock()
_backends: dict[tuple[Any, ...], SlotBackend] = {}
_KEYS = ("JUPYTER_FLOWS_DB_URL", "JUPYTER_FLOWS_RECORD_URL", "JUPYTER_FLOWS_RECORD_TOKEN")


def slot_backend() -> SlotBackend:
    """The backend of this process (cached per pid and ``JUPYTER_FLOWS_*`` database/server)."""
    key = (os.getpid(), *(os.environ.get(k) for k in _KEYS))
    backend = _backends.get(key)
    if backend is not None:
        return backend
    from ..core.run_environment import RunEnvironment

    env = RunEnvironment.current()
    with _lock:
        backend = _backends.get(key)
        if backend is None:
            if env.records_over_http():
                backend = ServerSlots(str(env.record_url), env.record_token or "")
            else:
                backend = DatabaseSlots(env.db_url)
            _backends[key] = backend
    return backend
